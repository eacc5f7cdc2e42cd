"""Single-neuron models of the lecture notes as scikit-learn classifiers (the perceptron in
perceptron.py, their common layer in _linear_unit.py).

Each is one Dense layer (n_features → 1 unit for two classes, one unit per class for
more) whose output activation and loss make the model:

    Perceptron          step      Rosenblatt's rule w ← w + η·(y − ŷ)·x, one-vs-rest
    LogisticRegression  sigmoid   log loss (softmax and cross-entropy for several classes)
    LinearSVM           identity  hinge max(0, 1 − t·z) + L2, one-vs-rest

All start from zero weights, as the notes do.
"""
from __future__ import annotations

import numpy as np
from sklearn.utils.metaestimators import available_if

from ._checks import STOCHASTIC_SOLVERS, check_real
from ._linear_unit import _LinearClassifier
from .perceptron import Perceptron  # noqa: F401  (pickles made before the split name it here)


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
    tol : float, default=1e-4 (LinearSVC's default)
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
                 learning_rate_init=0.01, power_t=0.5, momentum=0.9, max_iter=1000, tol=1e-4, n_iter_no_change=10,
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
