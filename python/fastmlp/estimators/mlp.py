"""Multi-layer perceptrons with scikit-learn's parameter names, trained by fastmlp's engine.

Switching from scikit-learn is one import line: ``from fastmlp import MLPClassifier``
takes the same parameters (hidden_layer_sizes, activation, solver, alpha, batch_size,
learning_rate, learning_rate_init, power_t, max_iter, shuffle, random_state, tol,
verbose, warm_start, momentum, nesterovs_momentum, early_stopping, validation_fraction,
beta_1, beta_2, epsilon, n_iter_no_change, max_fun) with the same defaults and meaning,
stops by the same rule and has the same fitted attributes. On top of that:

- activation may be a list, one per hidden layer, and includes leaky_relu (slope 0.01),
  elu, softplus and silu;
- class_weight (MLPClassifier), including "balanced";
- fit(X, y, validation_data=(X_val, y_val)) scores a given validation set every epoch
  (validation_scores_ and validation_loss_curve_ next to loss_curve_), and early stopping
  uses it when given;
- early stopping may monitor the validation loss (monitor="val_loss") instead of the
  score, and always ends with the best epoch's weights;
- dtype="float32" (default, faster) or "float64" for the engine.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .. import _core
from ..layers import Dense, canonical_activation
from ._base import NetworkEstimator
from ._checks import STOCHASTIC_SOLVERS, check_real
from ._classifier import ClassifierNetwork

# From the engine's name table: the hidden activations and their aliases (scikit-learn's "logistic").
HIDDEN_ACTIVATIONS = tuple(_core.hidden_activation_names()) + tuple(
    alias for alias, name in _core.activation_aliases().items() if name in _core.hidden_activation_names())
LEAKY_RELU_SLOPE = 0.01
_SKLEARN_OUTPUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity", "exp": "exp"}

_PARAMETERS_DOC = """
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
"""

_ATTRIBUTES_DOC = """
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


class _MLPBase(NetworkEstimator):
    def _layer_sizes(self) -> list:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
            sizes = [sizes]
        try:
            sizes = list(sizes)
        except TypeError:
            raise ValueError(f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}") from None
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"hidden_layer_sizes must hold positive integers, got {self.hidden_layer_sizes!r}")
        return [int(size) for size in sizes]

    def _activations(self, n_hidden: int) -> list:
        activation = self.activation
        names = [activation] * n_hidden if isinstance(activation, str) else activation
        try:
            names = list(names)
        except TypeError:
            raise ValueError(f"activation must be a string or a sequence of strings, got {activation!r}") from None
        if len(names) != n_hidden:
            raise ValueError(f"activation lists {len(names)} activations but there are {n_hidden} hidden layers "
                             f"(hidden_layer_sizes={self.hidden_layer_sizes!r})")
        for name in names:
            if not isinstance(name, str) or name.lower() not in HIDDEN_ACTIVATIONS:
                raise ValueError(f"unknown hidden activation {name!r}; expected one of {', '.join(HIDDEN_ACTIVATIONS)}")
        return [canonical_activation(name) for name in names]

    def _check_own_params(self) -> None:
        check_real("alpha", self.alpha, 0)
        self._activations(len(self._layer_sizes()))

    def _hidden_layers(self) -> list:
        sizes = self._layer_sizes()
        return [Dense(units, activation=name, negative_slope=LEAKY_RELU_SLOPE)
                for units, name in zip(sizes, self._activations(len(sizes)))]

    def _penalty(self, batch_weight: float, total_weight: float) -> float:
        return float(self.alpha) / batch_weight

    def _initial_parameters(self, rng) -> np.ndarray:
        """scikit-learn's initialisation, drawn in its order from the same generator: W and b
        of each layer uniform in ±sqrt(f / (n_in + n_out)), f = 2 after logistic units, else 6."""
        network = self._engine
        hidden = [layer.activation for layer in self._model.layers[:-1]]
        parts = []
        n_in = network.input_dim
        for index in range(network.num_layers):
            n_out = network.layer_units(index)
            # scikit-learn's one activation decides for every layer; with a list, each hidden
            # layer's own activation decides, and the last one's for the output layer
            if isinstance(self.activation, str):
                logistic = canonical_activation(self.activation) == "sigmoid"
            else:
                logistic = hidden[min(index, len(hidden) - 1)] == "sigmoid"
            bound = np.sqrt((2.0 if logistic else 6.0) / (n_in + n_out))
            parts.append(rng.uniform(-bound, bound, (n_in, n_out)).ravel())
            parts.append(rng.uniform(-bound, bound, n_out))
            n_in = n_out
        return np.concatenate(parts)

    @property
    def n_layers_(self) -> int:
        check_is_fitted(self)
        return self._engine.num_layers + 1

    @property
    def n_outputs_(self) -> int:
        check_is_fitted(self)
        return self._engine.output_dim

    @property
    def out_activation_(self) -> str:
        check_is_fitted(self)
        return _SKLEARN_OUTPUT_NAMES[self._model.layers[-1].activation]

    def _common_init(self, hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
                     learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start,
                     momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                     n_iter_no_change, max_fun, monitor, dtype):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.monitor = monitor
        self.dtype = dtype


class MLPClassifier(ClassifierNetwork, _MLPBase):
    """Multi-layer perceptron classifier, trained on log loss by fastmlp's engine.

    Two classes: one sigmoid output unit; more: softmax over one unit per class;
    multi-label indicator targets: one sigmoid unit per label.
""" + _PARAMETERS_DOC + """    class_weight : dict, "balanced" or None, default=None
        Multiplies each sample's loss by the weight of its class ("balanced":
        n_samples / (n_classes · count of the class)).
""" + _ATTRIBUTES_DOC + """    classes_ : ndarray of shape (n_classes,)
"""

    _supports_multilabel = True
    _allows_one_class = True

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, class_weight=None, monitor="val_score",
                 dtype="float32"):
        self._common_init(hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
                          learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start,
                          momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                          n_iter_no_change, max_fun, monitor, dtype)
        self.class_weight = class_weight

    def _output_layer(self, n_outputs: int) -> tuple:
        if n_outputs == 1 or self._multilabel:
            return "sigmoid", "binary_cross_entropy"
        return "softmax", "cross_entropy"

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Train on X (n_samples, n_features) and y (n_samples,) labels or an (n_samples, n_labels) indicator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels of any type, or a 0/1 multi-label indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
        validation_data : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), default=None
            Scored after every epoch; the held-out set of early stopping when early_stopping=True.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, validation_data=validation_data)

    @available_if(lambda self: self.solver in STOCHASTIC_SOLVERS)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y) with solver 'sgd' or 'adam'; `classes` is required on the first call."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def predict(self, X) -> np.ndarray:
        """Labels, shape (n_samples,), or an indicator (n_samples, n_labels) for multi-label models."""
        return self._labels(self._outputs(X))

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities, shape (n_samples, n_classes) in the order of classes_ (per label for multi-label)."""
        outputs = self._outputs(X)
        if self._multilabel:
            return outputs
        if self.classes_.shape[0] == 1:  # the one class is certain (scikit-learn adds a column for no class)
            return np.ones((outputs.shape[0], 1), dtype=outputs.dtype)
        if outputs.shape[1] == 1:
            return np.column_stack([1.0 - outputs[:, 0], outputs[:, 0]])
        outputs /= outputs.sum(axis=1, keepdims=True)  # exact row sums after float32 arithmetic
        return outputs

    def predict_log_proba(self, X) -> np.ndarray:
        """log of predict_proba, shape (n_samples, n_classes)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class MLPRegressor(RegressorMixin, _MLPBase):
    """Multi-layer perceptron regressor, one or more targets.

    The loss (plus the L2 term) is averaged over samples and outputs: scikit-learn's
    "squared_error" (half the squared error) and "poisson" (half the Poisson deviance, exp
    output: the log link, y >= 0), and fastmlp's "absolute_error" and "huber" (δ = 1).
""" + _PARAMETERS_DOC + """    loss : {"squared_error", "poisson", "absolute_error", "huber"}, default="squared_error"
""" + _ATTRIBUTES_DOC

    # scikit-learn's loss name → (output activation, engine loss, scale s of J = s·L + penalty):
    # the engine's mse has no ½, its poisson is already the half deviance.
    _LOSSES = {"squared_error": ("identity", "mse", 0.5), "poisson": ("exp", "poisson", 1.0),
               "absolute_error": ("identity", "mae", 1.0), "huber": ("identity", "huber", 1.0)}

    @property
    def _loss_scale(self) -> float:
        return self._LOSSES.get(self.loss, self._LOSSES["squared_error"])[2]

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, loss="squared_error", monitor="val_score",
                 dtype="float32"):
        self._common_init(hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
                          learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start,
                          momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                          n_iter_no_change, max_fun, monitor, dtype)
        self.loss = loss

    def _check_own_params(self) -> None:
        super()._check_own_params()
        if not isinstance(self.loss, str) or self.loss not in self._LOSSES:
            raise ValueError(f"loss must be one of {', '.join(repr(name) for name in self._LOSSES)}; got {self.loss!r}")

    def _output_layer(self, n_outputs: int) -> tuple:
        return self._LOSSES[self.loss][:2]

    def _prepare_targets(self, y, first_pass, incremental, classes):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and np.any(Y < 0):
            raise ValueError("loss='poisson' needs targets y >= 0 (counts or rates); y has negative values")
        if not first_pass and Y.shape[1] != self._engine.output_dim:
            raise ValueError(f"y has {Y.shape[1]} target columns; the model was fitted on {self._engine.output_dim}")
        return Y.astype(np.float64), None

    def _validation_targets(self, y_val) -> np.ndarray:
        y_val = np.asarray(y_val, dtype=np.float64)
        Y_val = y_val.reshape(-1, 1) if y_val.ndim == 1 else y_val
        if Y_val.shape[1] != self._engine.output_dim:
            raise ValueError(f"y_val has {Y_val.shape[1]} target columns; the model has {self._engine.output_dim}")
        if not np.all(np.isfinite(Y_val)):
            raise ValueError("y_val contains NaN or infinity")
        return Y_val

    def _validation_score(self, X_val, Y_val, raw_weights, accuracy) -> float:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging epoch scores -inf or NaN, never best
            return float(r2_score(Y_val, self._engine.predict(X_val), sample_weight=raw_weights))

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Train on X (n_samples, n_features) and targets y (n_samples,) or (n_samples, n_outputs).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        validation_data : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), default=None
            Scored (R²) after every epoch; the held-out set of early stopping when early_stopping=True.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, validation_data=validation_data)

    @available_if(lambda self: self.solver in STOCHASTIC_SOLVERS)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y) with solver 'sgd' or 'adam'."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """Predictions, shape (n_samples,) for one target, (n_samples, n_outputs) for several."""
        outputs = self._outputs(X)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
