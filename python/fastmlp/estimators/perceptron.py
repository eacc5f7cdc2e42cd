"""Rosenblatt's perceptron as a scikit-learn classifier: a step unit per class, trained by the
perceptron rule (the engine's "perceptron" loss with batches of one) through fastmlp's loop."""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..callbacks import Callback
from ..layers import Dense
from ..model import Sequential
from ..optimizers import SGD
from ..training import train
from ._checks import TRAINING_DEFAULTS, check_real, check_settings
from ._linear_unit import _LinearClassifier


class Perceptron(_LinearClassifier):
    """Rosenblatt's perceptron: a step unit trained by the perceptron rule.

    For each sample, in (shuffled) order: z = x·w + b, t = ±1 for y = 1/0 and, on a mistake
    t·z ≤ 0 (a score of exactly 0 included, as scikit-learn has it), w ← w + eta0·s·t·x and
    b ← b + eta0·s·t, with s the sample's weight.
    Several classes are learnt one-vs-rest: one independent binary perceptron per class,
    prediction by the largest score. Training stops after an epoch in which no perceptron
    changed, which happens in finitely many epochs when the classes are linearly
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
    penalty : None or "l2", default=None
        scikit-learn's penalty: "l2" decays w (never b) by (1 − eta0·alpha) at every sample's
        step, as scikit-learn's SGD does. "l1" and "elasticnet" are refused (not available).
    alpha : float, default=0.0001
        Strength of the penalty.
    l1_ratio : float, default=0.15
        Accepted for scikit-learn's signature; only "elasticnet" would use it.
    fit_intercept : bool, default=True
        Only True is available: the engine's units always have a bias.
    tol : float or None, default=None
        With a number, also scikit-learn's rule: stop when the epoch's perceptron loss
        Σ max(0, −t·z) (or, with early_stopping, the validation accuracy) has not improved by
        tol (× n_samples for the loss) for n_iter_no_change epochs. An epoch without mistakes
        always ends training (no weight can change afterwards, unless penalty="l2").
    early_stopping : bool, default=False
        Hold out validation_fraction of the data (stratified) and stop on its accuracy.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
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
        Wrong predictions ŷ ≠ y met in each epoch (before their update), summed over the
        one-vs-rest perceptrons; the last is 0 when training converged. Updates also happen at
        a score of exactly 0 on a negative sample, which predicts it right.
    n_iter_ : int
        Epochs run by the last fit (1 for partial_fit).
    t_ : int
        Training samples seen (rows × epochs, over all fits).
    n_features_in_ : int
    """

    _STATE = ("n_iter_", "t_", "mistakes_", "_multilabel")

    def __init__(self, *, penalty=None, alpha=0.0001, l1_ratio=0.15, fit_intercept=True, max_iter=1000, tol=None,
                 shuffle=True, verbose=0, eta0=1.0, n_jobs=None, random_state=0, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, class_weight=None, warm_start=False, dtype="float64"):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.n_jobs = n_jobs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.eta0 = eta0
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype

    def _settings(self) -> dict:
        settings = dict(TRAINING_DEFAULTS)
        settings.update(self.get_params(deep=False))
        settings["tol"] = 0.0 if self.tol is None else self.tol
        settings = check_settings(settings)
        settings["tol"] = self.tol  # None: only an epoch without mistakes stops training
        self._check_own_params()
        return settings

    def _prepare_validation_curves(self, validating: bool, settings: dict) -> None:
        pass  # the perceptron keeps no validation curves

    def _check_own_params(self) -> None:
        check_real("eta0", self.eta0, 0, low_open=True)
        check_real("alpha", self.alpha, 0)
        check_real("l1_ratio", self.l1_ratio, 0, 1)
        if self.penalty not in (None, "l2", "l1", "elasticnet"):
            raise ValueError(f"penalty must be None, 'l2', 'l1' or 'elasticnet'; got {self.penalty!r}")
        if self.penalty in ("l1", "elasticnet"):
            raise ValueError(f"penalty={self.penalty!r} is not available in fm.Perceptron (its units have no L1 "
                             "step); use penalty='l2' or None")
        if self.fit_intercept is not True:
            raise ValueError("fit_intercept=False is not available in fm.Perceptron: the engine's units always "
                             "have a bias (centre the data instead)")

    def _weight_decay(self) -> float:
        return float(self.alpha) if self.penalty == "l2" else 0.0

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
        dtype = self._model.dtype
        weights = None if raw_weights is None else np.ascontiguousarray(raw_weights, dtype=dtype)
        layer = self._model.layers[0]
        W, b = layer.W, layer.b
        # One binary perceptron per output unit, so that each one's mistakes are counted exactly
        # and each stops on its own when an epoch leaves it unchanged (unchanged weights that
        # made no mistake in a whole epoch make none again). The units are independent, so
        # training them one after the other gives the weights of training them side by side.
        epochs = 1 if incremental else settings["max_iter"]
        mistakes = np.zeros(epochs, dtype=np.int64)
        self.n_iter_ = 0
        for j in range(W.shape[1]):
            seed = int(np.random.SeedSequence([self._model.seed, self.t_, j]).generate_state(1)[0])
            unit = Sequential([Dense(1, activation="step", initializer="zeros")], dtype=dtype, seed=seed)
            unit.compile(loss="perceptron", optimizer=SGD(lr=float(self.eta0), weight_decay=self._weight_decay()))
            unit.build(X.shape[1])
            unit.layers[0].W, unit.layers[0].b = W[:, j:j + 1], b[j:j + 1]
            counter = _MistakeCounter(settings, X.shape[0], self._weight_decay() == 0)
            unit_validation = None if validation is None else \
                (validation[0], np.ascontiguousarray(validation[1][:, j:j + 1], dtype=dtype), None)
            train(unit, X, np.ascontiguousarray(Y[:, j:j + 1], dtype=dtype), weights, epochs=epochs, batch_size=1,
                  shuffle=settings["shuffle"], callbacks=[counter], validation=unit_validation,
                  learning_rate=("eta0", float(self.eta0)))
            mistakes[:len(counter.mistakes)] += counter.mistakes
            self.n_iter_ = max(self.n_iter_, len(counter.mistakes))
            W[:, j], b[j] = unit.layers[0].W[:, 0], unit.layers[0].b[0]
        self.t_ += self.n_iter_ * X.shape[0]
        self.mistakes_ += [int(count) for count in mistakes[:self.n_iter_]]
        if settings["verbose"]:
            for epoch, count in enumerate(mistakes[:self.n_iter_], start=1):
                print(f"Epoch {epoch}: {count} mistakes")
        if mistakes[self.n_iter_ - 1] != 0 and not incremental and self.n_iter_ == epochs:
            warnings.warn(f"Perceptron: {settings['max_iter']} epochs still made mistakes; the classes may not "
                          "be linearly separable (increase max_iter or use a model with a hidden layer)",
                          ConvergenceWarning, stacklevel=4)
        layer.W, layer.b = W, b


class _MistakeCounter(Callback):
    """Counts a perceptron unit's mistakes per epoch; stops after an epoch that left the weights as
    they were (when no penalty can still move them: then no epoch ever changes them again), and
    with a tol, by scikit-learn's rule: no improvement
    of the epoch's loss Σ max(0, −t·z) by tol·n_samples (with early stopping: of the validation
    accuracy by tol) for n_iter_no_change epochs."""

    def __init__(self, settings: dict, n_samples: int, stop_without_mistakes: bool):
        self.mistakes: list[int] = []
        self.tol = settings["tol"]
        self.early_stopping = settings["early_stopping"]
        self.patience = settings["n_iter_no_change"]
        self.n_samples = n_samples
        self.stop_without_mistakes = stop_without_mistakes
        self.best = -np.inf if self.early_stopping else np.inf
        self.no_improvement = 0
        self.parameters_before = None

    def on_epoch_begin(self, epoch, logs=None):
        self.parameters_before = self.model.engine.get_parameters()

    def on_epoch_end(self, epoch, logs=None):
        # accuracy = correct / samples exactly, so this recovers the engine's integer count
        self.mistakes.append(round(self.params["samples"] * (1.0 - logs["accuracy"])))
        # Not "no mistakes": a score of exactly 0 on a negative sample predicts it right, yet updates.
        if self.stop_without_mistakes and np.array_equal(self.model.engine.get_parameters(), self.parameters_before):
            self.model.stop_training = True
        if self.tol is None:
            return
        if self.early_stopping:
            score = logs["val_accuracy"]
            self.no_improvement = self.no_improvement + 1 if score < self.best + self.tol else 0
            self.best = max(self.best, score)
        else:
            total = logs["loss"] * self.n_samples
            self.no_improvement = self.no_improvement + 1 if total > self.best - self.tol * self.n_samples else 0
            self.best = min(self.best, total)
        if self.no_improvement >= self.patience:
            self.model.stop_training = True
