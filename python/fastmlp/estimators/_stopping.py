"""scikit-learn's stopping rule for SGD and Adam, as a callback of fastmlp's training loop.

After every epoch: J = s·L + λ/2·‖W‖² goes into loss_curve_ (and the validation set's J and
score into validation_loss_curve_ / validation_scores_). An epoch makes progress when the
monitored quantity (the training J, or with early stopping the validation score or J) beats
the best so far by at least tol. After more than n_iter_no_change epochs in a row without
progress, training stops, or with SGD and learning_rate="adaptive" the learning rate is
divided by 5 (until it would fall below 1e-6). "invscaling" sets η = η0 / (t + 1)^power_t.
With early stopping the model ends with the weights of its best validation epoch.

The fitted attributes live on the estimator (warm_start and partial_fit continue them);
this callback updates them.
"""
from __future__ import annotations

import warnings

import numpy as np

from sklearn.model_selection import train_test_split

from .._sparse import engine_input, is_sparse
from ..callbacks import Callback, _BestWeights, improves
from ..errors import DivergenceError
from ..optimizers import SGD


class ScikitLearnStopping(Callback, _BestWeights):
    """One fit's (or partial_fit's) application of scikit-learn's rule to `estimator`."""

    def __init__(self, estimator, settings: dict, penalty: float, validation=None):
        self.estimator = estimator
        self.settings = settings
        self.penalty = penalty
        # (X_val ready for the engine, Y_val, raw sample weights or None) for the score
        self.validation = None if validation is None else \
            (engine_input(validation[0], estimator._engine.dtype), *validation[1:])
        self.early_stopping = settings["early_stopping"] and validation is not None
        self.converged = False
        monitor = settings["monitor"] if self.early_stopping else "loss"
        self.mode = "max" if monitor == "val_score" else "min"

    def on_train_begin(self, logs=None):
        self.estimator.n_iter_ = 0
        self.best = -np.inf if self.mode == "max" else np.inf
        if self.early_stopping:
            self._keep_best_weights()

    def on_epoch_end(self, epoch, logs=None):
        estimator, settings = self.estimator, self.settings
        verbose = bool(settings["verbose"])
        estimator.n_iter_ += 1
        estimator.t_ += self.params["samples"]
        estimator.loss_ = estimator._objective(logs["loss"], self.penalty)
        estimator.loss_curve_.append(estimator.loss_)
        if verbose:
            print(f"Iteration {estimator.n_iter_}, loss = {estimator.loss_:.8f}")
        if self.validation is not None:
            score = estimator._validation_score(*self.validation, logs.get("val_accuracy"))
            record_validation(estimator, estimator._objective(logs["val_loss"], self.penalty), score, verbose)
        self._count_no_improvement()
        if settings["solver"] == "sgd" and settings["learning_rate"] == "invscaling":
            self._set_learning_rate(settings["learning_rate_init"] / (estimator.t_ + 1) ** settings["power_t"])
        if estimator._no_improvement_count > settings["n_iter_no_change"]:
            if self._stop_or_slow_down(verbose):
                self.converged = True
                self.model.stop_training = True
            else:
                estimator._no_improvement_count = 0

    def on_train_end(self, logs=None):
        if self.early_stopping:
            self._restore_best_weights()  # the best epoch's weights, stopped early or not

    def stop_at_best_weights(self) -> bool:
        """After a divergence: with early stopping and a best epoch, end there (True), as scikit-learn
        does; otherwise (False) the divergence stands."""
        if not self.early_stopping or self._best_parameters is None or not self.estimator.validation_scores_:
            return False
        self._restore_best_weights()
        self.converged = True
        return True

    def _set_learning_rate(self, value: float) -> None:
        estimator = self.estimator
        estimator._learning_rate_now = value
        scaled = value * estimator._loss_scale if isinstance(self.model.optimizer, SGD) else value
        self.model.engine.learning_rate = scaled

    def _monitored(self) -> float:
        estimator = self.estimator
        if not self.early_stopping:
            if estimator.best_loss_ is None:  # the previous fit stopped on validation
                estimator.best_loss_ = np.inf
            self.best = estimator.best_loss_  # carried over from the previous fit (warm_start)
            return estimator.loss_curve_[-1]
        if self.mode == "max":
            return estimator.validation_scores_[-1]
        return estimator.validation_loss_curve_[-1]

    def _count_no_improvement(self) -> None:
        estimator = self.estimator
        value = self._monitored()
        progressed = improves(value, self.best, self.mode, self.settings["tol"], strictly=False)
        estimator._no_improvement_count = 0 if progressed else estimator._no_improvement_count + 1
        if improves(value, self.best, self.mode, 0.0):
            self.best = value
            if self.early_stopping:
                self._keep_best_weights()
        if not self.early_stopping:
            estimator.best_loss_ = min(estimator.best_loss_, value)

    def _stop_or_slow_down(self, verbose: bool) -> bool:
        """Stop (True), or with SGD and learning_rate='adaptive' divide the learning rate by 5
        until it falls to 1e-6 (False)."""
        settings, estimator = self.settings, self.estimator
        what = "Validation score" if self.early_stopping and self.mode == "max" else \
            "Validation loss" if self.early_stopping else "Training loss"
        said = (f"{what} did not improve more than tol={settings['tol']:f} for "
                f"{settings['n_iter_no_change']} consecutive epochs.")
        if settings["solver"] == "sgd" and settings["learning_rate"] == "adaptive":
            if estimator._learning_rate_now > 1e-6:
                self._set_learning_rate(estimator._learning_rate_now / 5.0)
                if verbose:
                    print(f"{said} Setting learning rate to {estimator._learning_rate_now:f}")
                return False
        if verbose:
            print(f"{said} Stopping.")
        return True


def train_as_scikit_learn(rule: ScikitLearnStopping, run) -> None:
    """run() the training, ending as scikit-learn's MLP ends when training cannot go on: a
    divergence with early stopping keeps the best epoch's weights (the non-finite epochs never
    beat it), Ctrl-C warns and leaves a usable model (the best weights with early stopping)."""
    try:
        run()
    except DivergenceError:
        if not rule.stop_at_best_weights():
            raise
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=5)
        rule.on_train_end({})
        rule.converged = True


def record_validation(estimator, loss: float, score: float, verbose: bool) -> None:
    """Append one epoch's (iteration's) validation J and score to the estimator's curves."""
    estimator.validation_loss_curve_.append(loss)
    estimator.validation_scores_.append(score)
    estimator.best_validation_score_ = max(estimator.best_validation_score_, score)
    estimator.best_validation_loss_ = min(estimator.best_validation_loss_, loss)
    if verbose:
        print(f"Validation score: {score:f}, validation loss = {loss:.8f}")


def hold_out(X, Y, raw_weights, strata, settings: dict, rng):
    """scikit-learn's early-stopping split (its own train_test_split, so that the same
    random_state holds out the same rows): validation_fraction of the rows, stratified by
    class (strata) for classifiers. Returns (X, Y, raw_weights, (X_val, Y_val, raw_weights_val))."""
    arrays = [X, Y] + ([raw_weights] if raw_weights is not None else [])
    try:
        parts = train_test_split(*arrays, test_size=settings["validation_fraction"], random_state=rng,
                                 stratify=strata)
    except ValueError as error:
        raise ValueError(f"cannot hold out validation_fraction={settings['validation_fraction']} of "
                         f"{X.shape[0]} samples for early stopping: {error}") from error
    X_train, X_val, Y_train, Y_val = parts[:4]
    w_train, w_val = (parts[4], parts[5]) if raw_weights is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError("The validation set is too small for early stopping: increase "
                         "'validation_fraction' or the size of your data set")
    def ready(X_part):  # a sparse X stays sparse (CSR): the engine trains on it as it is
        return X_part.tocsr() if is_sparse(X_part) else np.ascontiguousarray(X_part)

    return (ready(X_train), np.ascontiguousarray(Y_train), w_train,
            (ready(X_val), np.ascontiguousarray(Y_val), w_val))
