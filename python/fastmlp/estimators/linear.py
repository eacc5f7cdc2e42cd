"""Single-neuron models of the lecture notes as scikit-learn classifiers.

Each is one Dense layer (n_features → 1 unit for two classes, one unit per class for
more) whose output activation and loss make the model:

    Perceptron          step      Rosenblatt's rule w ← w + η·(y − ŷ)·x, one-vs-rest
    LogisticRegression  sigmoid   log loss (softmax and cross-entropy for several classes)
    LinearSVM           identity  hinge max(0, 1 − t·z) + L2, one-vs-rest

All start from zero weights, as the notes do.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..errors import DivergenceError
from ._checks import STOCHASTIC_SOLVERS, check_real
from ._classifier import ClassifierNetwork


class _LinearClassifier(ClassifierNetwork):
    """One layer: decision_function z = X·W + b, coef_ (n_outputs, n_features), intercept_ (n_outputs,)."""

    _initializer = "zeros"

    def _output_layer(self, n_outputs: int) -> tuple:
        raise NotImplementedError

    @property
    def coef_(self) -> np.ndarray:
        """Weights, shape (1, n_features) for two classes, (n_classes, n_features) otherwise."""
        check_is_fitted(self)
        return self._engine.get_weights(0).T.astype(np.float64)

    @property
    def intercept_(self) -> np.ndarray:
        """Biases, shape (1,) for two classes, (n_classes,) otherwise."""
        check_is_fitted(self)
        return self._engine.get_bias(0).astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        """The score z = X·W + b of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (positive means classes_[1]),
        (n_samples, n_classes) otherwise.
        """
        X = self._features(X)
        network = self._engine
        scores = X.astype(np.float64, copy=False) @ network.get_weights(0).astype(np.float64)
        scores += network.get_bias(0).astype(np.float64)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """Class labels, shape (n_samples,): the sign of z for two classes, else the largest z."""
        scores = self.decision_function(X)
        codes = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[codes]

    def _hidden_layers(self) -> list:
        return []


class Perceptron(_LinearClassifier):
    """Rosenblatt's perceptron: a step unit trained by the perceptron rule.

    For each sample, in (shuffled) order: ŷ = step(x·w + b) and, when ŷ ≠ y,
    w ← w + eta0·s·(y − ŷ)·x and b ← b + eta0·s·(y − ŷ), with s the sample's weight.
    Several classes are learnt one-vs-rest: one independent binary perceptron per class,
    prediction by the largest score. Training stops after an epoch in which no perceptron
    made a mistake, which happens in finitely many epochs when the classes are linearly
    separable (Novikoff); otherwise it stops after max_iter epochs with a ConvergenceWarning.

    Parameters
    ----------
    eta0 : float, default=1.0
        Learning rate η. From zero weights it only scales w and b, never the predictions.
    max_iter : int, default=1000
        Most epochs per fit.
    shuffle : bool, default=True
        Visit the samples in a new random order every epoch.
    random_state : int, RandomState or None, default=0
        Seeds the shuffling.
    class_weight : dict, "balanced" or None, default=None
        Multiplies each sample's update by the weight of its class.
    warm_start : bool, default=False
        Continue from the previous weights in fit.
    verbose : int, default=0
        Print the mistakes of every epoch.
    dtype : "float32" or "float64", default="float64"
        Precision of the engine.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    coefs_, intercepts_ : lists with the one layer's W (n_features, n_outputs) and b (n_outputs,)
    mistakes_ : list of int
        Mistakes (= updates) in each epoch, summed over the one-vs-rest perceptrons; the
        last is 0 when training converged.
    n_iter_ : int
        Epochs run by the last fit (1 for partial_fit).
    t_ : int
        Training samples seen (rows × epochs, over all fits).
    n_features_in_ : int
    """

    _STATE = ("n_iter_", "t_", "mistakes_", "_multilabel")

    def __init__(self, *, eta0=1.0, max_iter=1000, shuffle=True, random_state=0, class_weight=None,
                 warm_start=False, verbose=0, dtype="float64"):
        self.eta0 = eta0
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype

    def _check_own_params(self) -> None:
        check_real("eta0", self.eta0, 0, low_open=True)

    def _output_layer(self, n_outputs: int) -> tuple:
        return "step", "perceptron"

    def _reset_training_state(self, settings: dict) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.mistakes_ = []

    def fit(self, X, y, sample_weight=None):
        """Learn from X (n_samples, n_features) and labels y (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels of any type (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the perceptron rule over (X, y); `classes` is required on the first call."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def _fit_stochastic(self, X, Y, raw_weights, validation, settings, incremental) -> None:
        # Rows of weight zero would be counted as mistakes without ever being corrected.
        if raw_weights is not None:
            keep = raw_weights > 0
            X, Y, raw_weights = X[keep], Y[keep], raw_weights[keep] / raw_weights[keep].mean()
        network = self._engine
        dtype = network.dtype
        weights = None if raw_weights is None else np.ascontiguousarray(raw_weights, dtype=dtype)
        W, b = network.get_weights(0), network.get_bias(0)
        n_outputs = W.shape[1]
        # One binary perceptron per output unit, so that each one's mistakes are counted exactly
        # and each stops on its own when an epoch leaves it unchanged.
        units, targets = [], []
        for j in range(n_outputs):
            seed = int(np.random.SeedSequence([self._model.seed, self.t_, j]).generate_state(1)[0])
            unit = type(network)(X.shape[1], [(1, "step", 0.01, "zeros")], "perceptron", seed)
            unit.set_weights(0, np.ascontiguousarray(W[:, j:j + 1]))
            unit.set_bias(0, np.ascontiguousarray(b[j:j + 1]))
            unit.set_sgd(float(self.eta0), 0.0, False, 0.0)
            units.append(unit)
            targets.append(np.ascontiguousarray(Y[:, j:j + 1], dtype=dtype))
        done = [False] * n_outputs
        self.n_iter_ = 0
        for _ in range(1 if incremental else settings["max_iter"]):
            mistakes = 0
            for j, unit in enumerate(units):
                if done[j]:
                    continue  # unchanged weights that made no mistake in a whole epoch make none again
                result = unit.train_epoch(X, targets[j], weights, 1, settings["shuffle"])
                if not result.finite:
                    raise DivergenceError("the perceptron's weights overflowed; standardise the inputs")
                done[j] = result.correct == result.samples
                mistakes += result.samples - result.correct
            self.n_iter_ += 1
            self.t_ += X.shape[0]
            self.mistakes_.append(int(mistakes))
            if settings["verbose"]:
                print(f"Epoch {self.n_iter_}: {mistakes} mistakes")
            if all(done):
                break
        else:
            if not incremental:
                warnings.warn(f"Perceptron: {settings['max_iter']} epochs still made mistakes; the classes may not "
                              "be linearly separable (increase max_iter or use a model with a hidden layer)",
                              ConvergenceWarning, stacklevel=4)
        for j, unit in enumerate(units):
            W[:, j] = unit.get_weights(0)[:, 0]
            b[j] = unit.get_bias(0)[0]
        network.set_weights(0, W)
        network.set_bias(0, b)


class _GradientLinearClassifier(_LinearClassifier):
    """Shared by the linear models trained by gradient descent on J = L + λ/2·‖W‖²."""

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Learn from X (n_samples, n_features) and labels y (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        validation_data : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), default=None
            Scored after every epoch (validation_scores_, validation_loss_curve_); with
            early_stopping=True it is the held-out set instead of validation_fraction.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, validation_data=validation_data)

    @available_if(lambda self: self.solver in STOCHASTIC_SOLVERS)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y) (solver 'sgd' or 'adam'); `classes` is required on the first call."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def _l2_strength(self, total_weight: float) -> float:
        raise NotImplementedError

    def _penalty(self, batch_weight: float, total_weight: float) -> float:
        return self._l2_strength(total_weight)


_GRADIENT_PARAMETERS_DOC = """
    batch_size : int or "auto", default="auto"
        Mini-batch size of 'sgd' and 'adam': min(200, n_samples) for "auto".
    learning_rate_init : float, default=0.01
        Step size of 'sgd' and 'adam'.
    max_iter : int
        Most epochs ('sgd', 'adam') or iterations ('lbfgs').
    tol : float, default=1e-4 (LinearSVM: 1e-5, as Adam's steps on the hinge stall sooner)
        Training stops when the loss (or the validation score) has not improved by tol
        for n_iter_no_change epochs (scikit-learn's rule); for 'lbfgs' the gradient tolerance.
    n_iter_no_change : int, default=10
    shuffle : bool, default=True
    random_state : int, RandomState or None, default=None
        Seeds the shuffling and the early-stopping split.
    class_weight : dict, "balanced" or None, default=None
        Multiplies each sample's loss by the weight of its class ("balanced":
        n_samples / (n_classes · count of the class)).
    warm_start : bool, default=False
    early_stopping : bool, default=False
        Hold out validation_fraction of the data (or use fit's validation_data), stop when
        the monitored quantity stops improving and keep the best epoch's weights.
    validation_fraction : float, default=0.1
    monitor : "val_score" or "val_loss", default="val_score"
        What early stopping watches.
    verbose : int, default=0
    dtype : "float32" or "float64", default="float64"
        Precision of the engine.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    coefs_, intercepts_ : lists with the one layer's W (n_features, n_outputs) and b (n_outputs,)
    loss_ : float
        J = mean loss + λ/2·‖W‖² after the last epoch (or iteration).
    loss_curve_ : list of float
        J after every epoch (iteration).
    validation_scores_, validation_loss_curve_ : list of float or None
        Accuracy and J on the validation set after every epoch, when there is one.
    n_iter_ : int
    n_features_in_ : int
"""


class LogisticRegression(_GradientLinearClassifier):
    """A logistic-regression unit: ŷ = sigmoid(x·w + b), trained on log loss with L2.

    Two classes: one sigmoid unit with binary cross-entropy. More: softmax regression
    (one unit per class, softmax, cross-entropy). The objective is scikit-learn's,
    C · Σ s_i·log_loss_i + ½‖W‖², divided by C·Σ s_i:

        J = Σ s_i·log_loss_i / Σ s_i + ‖W‖² / (2·C·Σ s_i)

    minimised by L-BFGS (default; the same optimum as scikit-learn's) or by mini-batch
    SGD/Adam (which also allow partial_fit).

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the regularisation strength.
    solver : "lbfgs", "sgd" or "adam", default="lbfgs"
""" + _GRADIENT_PARAMETERS_DOC

    def __init__(self, *, C=1.0, solver="lbfgs", batch_size="auto", learning_rate_init=0.01, max_iter=100,
                 tol=1e-4, n_iter_no_change=10, shuffle=True, random_state=None, class_weight=None, warm_start=False,
                 early_stopping=False, validation_fraction=0.1, monitor="val_score", verbose=0, dtype="float64"):
        self.C = C
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.monitor = monitor
        self.verbose = verbose
        self.dtype = dtype

    def _check_own_params(self) -> None:
        check_real("C", self.C, 0, low_open=True)

    def _output_layer(self, n_outputs: int) -> tuple:
        return ("sigmoid", "binary_cross_entropy") if n_outputs == 1 else ("softmax", "cross_entropy")

    def _l2_strength(self, total_weight: float) -> float:
        return 1.0 / (float(self.C) * total_weight)

    def _lbfgs_options(self) -> dict:
        return {"maxls": 50, "ftol": 64 * np.finfo(float).eps}

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in the order of classes_."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = np.empty_like(scores)
            # sigmoid without overflow: exp of a non-positive number only
            negative = scores < 0
            positive[~negative] = 1.0 / (1.0 + np.exp(-scores[~negative]))
            exp_scores = np.exp(scores[negative])
            positive[negative] = exp_scores / (1.0 + exp_scores)
            return np.column_stack([1.0 - positive, positive])
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """log of predict_proba, shape (n_samples, n_classes)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class LinearSVM(_GradientLinearClassifier):
    """A linear support-vector machine as a neuron: identity output, hinge loss, L2.

    With t = +1 for the class and −1 otherwise, each output unit minimises
    max(0, 1 − t·z); several classes are learnt one-vs-rest (one unit per class).
    The strength of the L2 term is given either as scikit-learn's LinearSVC's C or as
    SGDClassifier's alpha:

        J = Σ s_i·hinge_i / Σ s_i + λ/2·‖W‖²,   λ = alpha, or 1 / (C·Σ s_i) when alpha is None

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength (LinearSVC's convention); ignored when alpha is given.
    alpha : float or None, default=None
        L2 strength λ (SGDClassifier's convention).
    solver : "adam" or "sgd", default="adam"
    learning_rate : "constant", "invscaling" or "adaptive", default="constant"
        Schedule of 'sgd' (scikit-learn's MLP schedules).
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    momentum : float, default=0.9
        Momentum of 'sgd'.
""" + _GRADIENT_PARAMETERS_DOC

    _threshold = 0.0

    def __init__(self, *, C=1.0, alpha=None, solver="adam", batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.01, power_t=0.5, momentum=0.9, max_iter=1000, tol=1e-5, n_iter_no_change=10,
                 shuffle=True, random_state=None, class_weight=None, warm_start=False, early_stopping=False,
                 validation_fraction=0.1, monitor="val_score", verbose=0, dtype="float64"):
        self.C = C
        self.alpha = alpha
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.momentum = momentum
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.monitor = monitor
        self.verbose = verbose
        self.dtype = dtype

    def _check_own_params(self) -> None:
        check_real("C", self.C, 0, low_open=True)
        if self.alpha is not None:
            check_real("alpha", self.alpha, 0)
        if self.solver not in STOCHASTIC_SOLVERS:
            raise ValueError(f"LinearSVM's solver must be 'adam' or 'sgd' (the hinge is not smooth enough for "
                             f"L-BFGS); got {self.solver!r}")

    def _output_layer(self, n_outputs: int) -> tuple:
        return "identity", "hinge"

    def _l2_strength(self, total_weight: float) -> float:
        if self.alpha is not None:
            return float(self.alpha)
        return 1.0 / (float(self.C) * total_weight)
