"""Optimisers: configuration objects that the engine's C++ optimisers are built from.

SGD follows PyTorch's momentum convention (v ← μv + g, w ← w − lr·v; Nesterov
w ← w − lr·(g + μv)); Adam is Kingma & Ba's with bias correction and ε outside the square
root. weight_decay λ adds λ·W to the gradient of every weight matrix, never to biases.
RMSprop and AdamW are PyTorch's (RMSprop's rho is PyTorch's alpha, ε outside the square root;
AdamW shrinks every W by 1 − lr·λ before its Adam step, decoupled from the moments).

Every optimiser takes Keras's gradient clipping, applied to the gradient of the loss before
weight decay: ``clipnorm`` (each W and each b rescaled to that norm at most),
``global_clipnorm`` (the whole gradient) or ``clipvalue`` (each element clipped to
[−clipvalue, clipvalue]); at most one of them.

The learning rate can be changed at any time, also between epochs of a fit: ``opt.lr = 0.01``
(or ``opt.learning_rate``, as Keras spells it) reaches the engine of every model compiled with
this optimiser at once, without resetting its moments.
"""
from __future__ import annotations

import math
import weakref

from . import _core


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


def _learning_rate(lr, learning_rate, default: float) -> float:
    if lr is not None and learning_rate is not None:
        raise ValueError("give the learning rate once: lr or learning_rate (Keras's name), not both")
    if lr is None and learning_rate is None:
        return default
    return _positive(lr if lr is not None else learning_rate, "lr" if lr is not None else "learning_rate")


_CLIP_NAMES = ("clipnorm", "global_clipnorm", "clipvalue")


class Optimizer:
    """Base class; subclasses configure the engine's optimiser.

    Attributes
    ----------
    lr, learning_rate : float
        The same value under both names; assigning either one changes the rate the engine uses
        from the next batch on (the optimiser's moments are kept).
    clipnorm, global_clipnorm, clipvalue : float or None
        Keras's gradient clipping (None: off).
    """

    def _init_common(self, lr, learning_rate, default_lr, clipnorm, global_clipnorm, clipvalue) -> None:
        self._engines: weakref.WeakSet = weakref.WeakSet()
        self._lr = _learning_rate(lr, learning_rate, default_lr)
        clips = {"clipnorm": clipnorm, "global_clipnorm": global_clipnorm, "clipvalue": clipvalue}
        for name, value in clips.items():
            setattr(self, name, None if value is None else _positive(value, name))
        if sum(value is not None for value in clips.values()) > 1:
            raise ValueError("only one of clipnorm, global_clipnorm and clipvalue can be set")

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _positive(value, "lr")
        for engine in list(self._engines):
            engine.learning_rate = self._lr

    learning_rate = lr

    def get_config(self) -> dict:
        config = self._config()
        config.update({name: getattr(self, name) for name in _CLIP_NAMES if getattr(self, name) is not None})
        return config

    def _config(self) -> dict:
        raise NotImplementedError

    def _configure(self, network) -> None:
        """Give `network` (a _core.Network32/64) this optimiser, with fresh state."""
        self._set_engine_optimizer(network, self._clip_arguments())
        self._engines.add(network)

    def _set_engine_optimizer(self, network, clip) -> None:
        raise NotImplementedError

    def _clip_arguments(self):
        return _core.ClipConfig(**{name: getattr(self, name) or 0.0 for name in _CLIP_NAMES})

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_engines", None)  # links to live engines are not part of a copy
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._engines = weakref.WeakSet()

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items() if key != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Mini-batch stochastic gradient descent, optionally with (Nesterov) momentum."""

    def __init__(self, lr: float | None = None, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, *, learning_rate: float | None = None, clipnorm: float | None = None,
                 global_clipnorm: float | None = None, clipvalue: float | None = None):
        self._init_common(lr, learning_rate, 0.01, clipnorm, global_clipnorm, clipvalue)
        self.momentum = _in_unit_interval(momentum, "momentum")
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")

    def _config(self) -> dict:
        return {"name": "sgd", "lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def _set_engine_optimizer(self, network, clip) -> None:
        network.set_sgd(self.lr, self.momentum, self.nesterov, self.weight_decay, clip=clip)


def _epsilon(eps, epsilon) -> float:
    if eps is not None and epsilon is not None:
        raise ValueError("give epsilon once: eps or epsilon (Keras's name), not both")
    return _positive(1e-8 if eps is None and epsilon is None else (eps if eps is not None else epsilon),
                     "eps" if epsilon is None else "epsilon")


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015). ε defaults to PyTorch's 1e-8 (Keras's is 1e-7)."""

    def __init__(self, lr: float | None = None, beta1: float = 0.9, beta2: float = 0.999, eps: float | None = None,
                 weight_decay: float = 0.0, *, learning_rate: float | None = None, epsilon: float | None = None,
                 clipnorm: float | None = None, global_clipnorm: float | None = None, clipvalue: float | None = None):
        self._init_common(lr, learning_rate, 1e-3, clipnorm, global_clipnorm, clipvalue)
        self.beta1 = _in_unit_interval(beta1, "beta1")
        self.beta2 = _in_unit_interval(beta2, "beta2")
        self.eps = _epsilon(eps, epsilon)
        self.weight_decay = _non_negative(weight_decay, "weight_decay")

    _name = "adam"

    def _config(self) -> dict:
        return {"name": self._name, "lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def _set_engine_optimizer(self, network, clip) -> None:
        network.set_adam(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay, clip=clip)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019), as PyTorch's: every W shrinks by 1 − lr·λ before its
    Adam step, decoupled from the moments; biases never decay. λ defaults to PyTorch's 0.01."""

    _name = "adamw"

    def __init__(self, lr: float | None = None, beta1: float = 0.9, beta2: float = 0.999, eps: float | None = None,
                 weight_decay: float = 0.01, *, learning_rate: float | None = None, epsilon: float | None = None,
                 clipnorm: float | None = None, global_clipnorm: float | None = None, clipvalue: float | None = None):
        super().__init__(lr, beta1, beta2, eps, weight_decay, learning_rate=learning_rate, epsilon=epsilon,
                         clipnorm=clipnorm, global_clipnorm=global_clipnorm, clipvalue=clipvalue)

    def _set_engine_optimizer(self, network, clip) -> None:
        network.set_adamw(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay, clip=clip)


class RMSprop(Optimizer):
    """RMSprop as PyTorch's (not centered): s ← ρs + (1 − ρ)g², w ← w − lr·g/(√s + ε); with
    momentum μ, v ← μv + g/(√s + ε), w ← w − lr·v. ε sits outside the square root (Keras puts
    it inside) and defaults to 1e-8."""

    def __init__(self, lr: float | None = None, rho: float = 0.9, momentum: float = 0.0, eps: float | None = None,
                 weight_decay: float = 0.0, *, learning_rate: float | None = None, epsilon: float | None = None,
                 clipnorm: float | None = None, global_clipnorm: float | None = None, clipvalue: float | None = None):
        self._init_common(lr, learning_rate, 1e-3, clipnorm, global_clipnorm, clipvalue)
        self.rho = _in_unit_interval(rho, "rho")
        self.momentum = _in_unit_interval(momentum, "momentum")
        self.eps = _epsilon(eps, epsilon)
        self.weight_decay = _non_negative(weight_decay, "weight_decay")

    def _config(self) -> dict:
        return {"name": "rmsprop", "lr": self.lr, "rho": self.rho, "momentum": self.momentum, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def _set_engine_optimizer(self, network, clip) -> None:
        network.set_rmsprop(self.lr, self.rho, self.eps, self.momentum, self.weight_decay, clip=clip)


_KINDS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def get(optimizer) -> Optimizer:
    """Accept an Optimizer, a name ("sgd", "adam", ...) or a config dict from get_config()."""
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
        kinds = ", ".join(f"fm.{kind.__name__}(...)" for kind in _KINDS.values())
        raise ValueError(f"optimizer must be {kinds} or one of their names; got {optimizer!r}")
    if name in _KINDS:
        return _KINDS[name](**config)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(repr(key) for key in _KINDS)}")
