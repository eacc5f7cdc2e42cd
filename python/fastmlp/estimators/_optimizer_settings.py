"""The engine's optimiser for an estimator's solver settings ('sgd' or 'adam'), scaled for J = s·L + penalty
(see _base's module docstring)."""
from __future__ import annotations

from ..optimizers import SGD, Adam


def configure_optimizer(estimator, settings: dict, decay: float, keep_state: bool) -> None:
    """Give the estimator's engine the optimiser of `settings`, weight decay `decay`; with keep_state,
    an optimiser of the same kind keeps its moments."""
    scale = estimator._loss_scale
    if settings["solver"] == "sgd":
        momentum = settings["momentum"]
        key = ("sgd", momentum, settings["nesterovs_momentum"], decay)
    else:
        key = ("adam", settings["beta_1"], settings["beta_2"], settings["epsilon"], decay)
    if keep_state and key == getattr(estimator, "_optimizer_key", None):
        return
    if settings["solver"] == "sgd":
        optimizer = SGD(lr=estimator._learning_rate_now * scale, momentum=momentum,
                        nesterov=settings["nesterovs_momentum"] and momentum > 0, weight_decay=decay)
    else:
        optimizer = Adam(lr=estimator._learning_rate_now, beta1=settings["beta_1"], beta2=settings["beta_2"],
                         eps=settings["epsilon"] / scale, weight_decay=decay)
    # partial_fit keeps the optimiser's state when only the settings changed (the weight decay
    # follows the block's size) or the model was loaded or unpickled, as scikit-learn keeps
    # its optimiser across partial_fit calls: a shipped model resumes exactly.
    previous = estimator._model.optimizer
    carried = keep_state and previous is not None and previous.get_config()["name"] == key[0]
    state = estimator._engine.get_optimizer_state() if carried else None
    optimizer._configure(estimator._engine)
    if state is not None:
        estimator._engine.set_optimizer_state(*state)
    estimator._model.optimizer = optimizer
    estimator._optimizer_key = key
