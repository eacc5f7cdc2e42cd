"""The parameter and attribute sections of the MLP estimators' docstrings."""

PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units of each hidden layer; () makes a model without a hidden layer.
    activation : str or sequence of str, default="relu"
        Hidden activation: "identity", "logistic" (sigmoid), "tanh", "relu", "leaky_relu"
        (slope 0.01), "elu", "softplus" or "silu"; a sequence gives one per hidden layer.
    solver : "adam", "sgd" or "lbfgs", default="adam"
    alpha : float, default=1e-4
        L2 strength: the penalty alpha/2·‖W‖²/batch_size is added to each batch's loss
        (weight decay alpha/batch_size; with sample weights the batch size counts weight).
    batch_size : int or "auto", default="auto"
        min(200, n_samples) for "auto".
    learning_rate : "constant", "invscaling" or "adaptive", default="constant"
        Schedule of 'sgd': learning_rate_init / (t+1)^power_t after each epoch
        ("invscaling", t = samples seen), or divided by 5 each time n_iter_no_change
        epochs go by without progress ("adaptive").
    learning_rate_init : float, default=1e-3
    power_t : float, default=0.5
    max_iter : int, default=200
        Most epochs ('sgd', 'adam') or iterations ('lbfgs').
    shuffle : bool, default=True
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, the shuffling and the early-stopping split.
    tol : float, default=1e-4
        Training stops when the training loss (or, with early stopping, the monitored
        validation quantity) has not improved by tol for n_iter_no_change epochs.
    verbose : bool, default=False
    warm_start : bool, default=False
        fit continues from the previous weights.
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out validation_fraction of the data (or use fit's validation_data), stop
        when the monitored quantity stops improving and keep the best epoch's weights.
    validation_fraction : float, default=0.1
    beta_1, beta_2, epsilon : float, defaults 0.9, 0.999, 1e-8
        Adam's parameters.
    n_iter_no_change : int, default=10
    max_fun : int, default=15000
        Most loss evaluations of 'lbfgs'.
    monitor : "val_score" or "val_loss", default="val_score"
        What early stopping watches (scikit-learn watches the score).
    dtype : "float32" or "float64", default="float32"
        Precision of the engine.
    dropout : float or sequence of float, default=0.0
        Fraction of each hidden layer's outputs dropped in training (inverted dropout, the
        masks drawn from random_state); a sequence gives one rate per hidden layer. Needs a
        stochastic solver ('sgd' or 'adam'); predict never drops.
"""

ATTRIBUTES_DOC = """
    Attributes
    ----------
    loss_ : float
        Loss after the last epoch, with the L2 term (scikit-learn's definition).
    loss_curve_ : list of float
        loss_ after every epoch (every iteration for 'lbfgs').
    best_loss_ : float or None
        Lowest training loss (None with early stopping, as in scikit-learn).
    validation_scores_ : list of float or None
        Score on the validation set after every epoch, when there is one.
    validation_loss_curve_ : list of float or None
        Loss (with the same L2 term) on the validation set after every epoch.
    best_validation_score_, best_validation_loss_ : float or None
    n_iter_ : int
        Epochs run by the last fit.
    t_ : int
        Training samples seen by the solver.
    coefs_ : list of ndarray
        coefs_[i] is the weight matrix of layer i, shape (n_in, n_out).
    intercepts_ : list of ndarray
        intercepts_[i] has shape (n_out,).
    n_layers_ : int
        Layers including input and output.
    n_outputs_ : int
    out_activation_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when X had column names.
    model_ : fm.Sequential
        The network itself (summary(), forward(), layers[i].W).
"""
