"""Optimisers: configuration objects that the engine's C++ optimisers are built from.

SGD follows PyTorch's momentum convention (v ← μv + g, w ← w − lr·v; Nesterov
w ← w − lr·(g + μv)); Adam is Kingma & Ba's with bias correction and ε outside the square
root. weight_decay λ adds λ·W to the gradient of every weight matrix, never to biases.
"""
from __future__ import annotations

import math


def _real(value, name: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def _positive(value, name: str) -> float:
    value = _real(value, name)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _in_unit_interval(value, name: str) -> float:
    value = _real(value, name)
    if not (0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def _non_negative(value, name: str) -> float:
    value = _real(value, name)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


class Optimizer:
    """Base class; subclasses configure the engine's optimiser."""

    lr: float

    def get_config(self) -> dict:
        raise NotImplementedError

    def _configure(self, network) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items() if key != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Mini-batch stochastic gradient descent, optionally with (Nesterov) momentum."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        self.lr = _positive(lr, "lr")
        self.momentum = _in_unit_interval(momentum, "momentum")
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")

    def get_config(self) -> dict:
        return {"name": "sgd", "lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def _configure(self, network) -> None:
        network.set_sgd(self.lr, self.momentum, self.nesterov, self.weight_decay)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015)."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.lr = _positive(lr, "lr")
        self.beta1 = _in_unit_interval(beta1, "beta1")
        self.beta2 = _in_unit_interval(beta2, "beta2")
        self.eps = _positive(eps, "eps")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")

    def get_config(self) -> dict:
        return {"name": "adam", "lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def _configure(self, network) -> None:
        network.set_adam(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay)


def get(optimizer) -> Optimizer:
    """Accept an Optimizer, "sgd", "adam" or a config dict from get_config()."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer is None:
        return SGD()
    if isinstance(optimizer, str):
        name, config = optimizer.lower(), {}
    elif isinstance(optimizer, dict):
        config = dict(optimizer)
        name = str(config.pop("name", "")).lower()
    else:
        raise ValueError(f"optimizer must be fm.SGD(...), fm.Adam(...), 'sgd' or 'adam'; got {optimizer!r}")
    if name == "sgd":
        return SGD(**config)
    if name == "adam":
        return Adam(**config)
    raise ValueError(f"unknown optimizer {name!r}; expected 'sgd' or 'adam'")
