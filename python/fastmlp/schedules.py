"""Learning rates that change during training: schedules of the epoch and the callbacks that apply them.

A schedule is a callable of the (0-based) epoch that returns the learning rate for that epoch.
``fm.LearningRateScheduler(schedule)`` sets it on the optimiser at the start of every epoch;
``fm.ReduceLROnPlateau`` divides the rate when a monitored quantity stops improving. With either
of them, fit logs the rate in effect during each epoch as ``"learning_rate"``, so
``history.history["learning_rate"]`` has one value per epoch.

The schedules count epochs, where Keras's ``keras.optimizers.schedules`` count optimiser steps:
the engine runs an epoch's batches in one call, so the rate changes between epochs only.
"""
from __future__ import annotations

import inspect
import math
import warnings

import numpy as np

from .callbacks import Callback, _improvement_mode
from .optimizers import _positive


def _fraction(value, name: str) -> float:
    value = _positive(value, name)
    if value >= 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


def _whole(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class StepDecay:
    """lr(epoch) = initial_learning_rate · drop ** ⌊epoch / epochs_per_drop⌋."""

    def __init__(self, initial_learning_rate: float, drop: float = 0.5, epochs_per_drop: int = 10):
        self.initial_learning_rate = _positive(initial_learning_rate, "initial_learning_rate")
        self.drop = _fraction(drop, "drop")
        self.epochs_per_drop = _whole(epochs_per_drop, "epochs_per_drop")

    def __call__(self, epoch: int) -> float:
        return self.initial_learning_rate * self.drop ** (epoch // self.epochs_per_drop)

    def __repr__(self) -> str:
        return f"StepDecay({self.initial_learning_rate!r}, drop={self.drop!r}, epochs_per_drop={self.epochs_per_drop})"


class ExponentialDecay:
    """lr(epoch) = initial_learning_rate · decay_rate ** (epoch / decay_epochs), as Keras's
    ExponentialDecay with epochs for steps; ``staircase=True`` floors the exponent."""

    def __init__(self, initial_learning_rate: float, decay_rate: float, decay_epochs: int = 1,
                 staircase: bool = False):
        self.initial_learning_rate = _positive(initial_learning_rate, "initial_learning_rate")
        self.decay_rate = _positive(decay_rate, "decay_rate")
        self.decay_epochs = _whole(decay_epochs, "decay_epochs")
        self.staircase = bool(staircase)

    def __call__(self, epoch: int) -> float:
        exponent = epoch / self.decay_epochs
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate ** exponent

    def __repr__(self) -> str:
        return (f"ExponentialDecay({self.initial_learning_rate!r}, decay_rate={self.decay_rate!r}, "
                f"decay_epochs={self.decay_epochs}, staircase={self.staircase})")


class CosineDecay:
    """Half a cosine from initial_learning_rate down to alpha · initial_learning_rate over
    decay_epochs epochs, then constant (Keras's CosineDecay without warm-up, in epochs):
    lr(epoch) = initial · ((1 − alpha) · ½(1 + cos(π · min(epoch, decay_epochs) / decay_epochs)) + alpha).
    alpha must be > 0 when training runs past decay_epochs, since the engine needs a positive rate."""

    def __init__(self, initial_learning_rate: float, decay_epochs: int, alpha: float = 0.0):
        self.initial_learning_rate = _positive(initial_learning_rate, "initial_learning_rate")
        self.decay_epochs = _whole(decay_epochs, "decay_epochs")
        alpha = float(alpha)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        self.alpha = alpha

    def __call__(self, epoch: int) -> float:
        progress = min(epoch, self.decay_epochs) / self.decay_epochs
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def __repr__(self) -> str:
        return f"CosineDecay({self.initial_learning_rate!r}, decay_epochs={self.decay_epochs}, alpha={self.alpha!r})"


def _takes_current_rate(schedule) -> bool:
    """Keras's schedule(epoch, lr) form, or the plain schedule(epoch)."""
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and
                  p.default is p.empty]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


class LearningRateScheduler(Callback):
    """Sets the optimiser's learning rate at the start of each epoch to ``schedule(epoch)``
    (or ``schedule(epoch, lr)``, Keras's form, given the rate in effect). A schedule object
    (StepDecay, ExponentialDecay, CosineDecay) or any callable returning a positive number."""

    logs_learning_rate = True  # fit adds "learning_rate" to each epoch's logs

    def __init__(self, schedule, verbose: int = 0):
        if not callable(schedule):
            raise ValueError(f"schedule must be a callable of the epoch, got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._with_rate = _takes_current_rate(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer_of(self.model)
        rate = self.schedule(epoch, optimizer.lr) if self._with_rate else self.schedule(epoch)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating, np.integer)):
            raise ValueError(f"the schedule returned {rate!r} for epoch {epoch}; it must return a number")
        try:
            optimizer.lr = float(rate)
        except ValueError:
            raise ValueError(f"the schedule returned {rate!r} for epoch {epoch}; the learning rate must be a "
                             "positive finite number") from None
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {optimizer.lr:g}.")



class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` has not improved by more than
    ``min_delta`` for ``patience`` epochs, then waits ``cooldown`` epochs before counting again;
    never below ``min_lr``. Keras's arguments and rule (its mode "auto" reads "acc" and the like
    as higher-is-better)."""

    logs_learning_rate = True

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        if not isinstance(monitor, str):
            raise ValueError(f"monitor must be the name of a logged quantity, got {monitor!r}")
        self.monitor = monitor
        self.factor = _fraction(factor, "factor")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"patience must be an integer >= 0, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, (int, np.integer)) or cooldown < 0:
            raise ValueError(f"cooldown must be an integer >= 0, got {cooldown!r}")
        self.patience, self.cooldown = int(patience), int(cooldown)
        self.verbose = verbose
        self.mode = _improvement_mode(monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.min_lr = float(min_lr)
        if not (math.isfinite(self.min_lr) and self.min_lr >= 0):
            raise ValueError(f"min_lr must be a finite number >= 0, got {min_lr!r}")
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def _improved(self, current: float) -> bool:
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = _optimizer_of(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ReduceLROnPlateau: '{self.monitor}' is not in the logs (they have "
                          f"{', '.join(sorted(logs))}); the learning rate was left alone", RuntimeWarning,
                          stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(float(current)):
            self.best = float(current)
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and optimizer.lr > self.min_lr:
                optimizer.lr = max(optimizer.lr * self.factor, self.min_lr)
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {optimizer.lr:g}.")
                self.cooldown_counter = self.cooldown
                self.wait = 0


def _optimizer_of(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError("the model has no optimiser to steer: compile it first")
    return optimizer
