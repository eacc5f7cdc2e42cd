"""Full-batch L-BFGS (scipy's L-BFGS-B) on an estimator's objective J = s·L + λ/2·‖W‖².

One engine call computes L and ∇L per evaluation; scipy owns the iterations, so this is
the one way of training that does not go through fastmlp's epoch loop.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from .._sparse import engine_input
from ..errors import DivergenceError
from ._checks import engine_weights
from ._stopping import record_validation


def fit_lbfgs(estimator, X, Y, raw_weights, validation, settings: dict) -> None:
    """Minimise J from the current parameters; loss_curve_ gets J after every iteration."""
    engine = estimator._engine
    X = engine_input(X, engine.dtype)  # a sparse X once, for every evaluation
    n_samples = X.shape[0]
    weights, mean_weight = engine_weights(raw_weights, engine.dtype)
    penalty = estimator._penalty(n_samples * mean_weight, n_samples * mean_weight)
    objective = _objective(estimator, X, Y, weights, penalty)
    record = _validation_recorder(estimator, validation, penalty)

    def after_iteration(intermediate_result):
        estimator.loss_curve_.append(float(intermediate_result.fun))
        if record is not None:
            engine.set_parameters(intermediate_result.x.astype(engine.dtype))
            record()

    options = {"maxiter": settings["max_iter"], "maxfun": settings["max_fun"], "gtol": settings["tol"]}
    options.update(estimator._lbfgs_options())
    result = scipy.optimize.minimize(objective, engine.get_parameters().astype(np.float64), jac=True,
                                     method="L-BFGS-B", options=options, callback=after_iteration)
    engine.set_parameters(result.x.astype(engine.dtype))
    estimator._model.optimizer = None  # the model file should not name an optimiser that was not used
    estimator._optimizer_key = None
    if not np.all(np.isfinite(result.x)):
        raise DivergenceError("L-BFGS produced non-finite weights; standardise the inputs")
    estimator.n_iter_ = int(result.nit)
    estimator.loss_ = float(result.fun)
    estimator.best_loss_ = min(estimator.loss_curve_) if estimator.loss_curve_ else estimator.loss_
    if result.status != 0:
        message = result.message.decode() if isinstance(result.message, bytes) else str(result.message)
        warnings.warn(f"{type(estimator).__name__}: lbfgs failed to converge after {estimator.n_iter_} iterations "
                      f"({message}). Increase max_iter or scale the data.", ConvergenceWarning, stacklevel=4)


def _objective(estimator, X, Y, weights, penalty: float):
    """theta (float64, flat [W0, b0, W1, b1, ...]) -> (J, ∇J) for scipy."""
    engine = estimator._engine
    scale = estimator._loss_scale
    is_weight = estimator._weight_mask()

    def objective(theta):
        engine.set_parameters(theta.astype(engine.dtype))
        loss, grads = engine.gradients(X, Y, weights)
        gradient = np.concatenate([part.ravel() for pair in grads for part in pair]).astype(np.float64)
        value = scale * loss
        gradient *= scale
        if penalty:
            value += 0.5 * penalty * float(np.dot(theta[is_weight], theta[is_weight]))
            gradient[is_weight] += penalty * theta[is_weight]
        return value, gradient

    return objective


def _validation_recorder(estimator, validation, penalty: float):
    """A function that scores the current parameters on the validation set, or None."""
    if validation is None:
        return None
    X_val, Y_val, raw = validation
    X_val = engine_input(X_val, estimator._engine.dtype)
    weights, _ = engine_weights(raw, estimator._engine.dtype)

    def record():
        result = estimator._engine.evaluate(X_val, Y_val, weights)
        loss = estimator._objective(result.loss, penalty)
        score = estimator._validation_score(X_val, Y_val, raw, result.correct / result.samples)
        record_validation(estimator, loss, score, False)

    return record
