"""Layers of a Sequential model."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _core

# The engine's name tables are the one source of these names (aliases included).
ACTIVATIONS = tuple(_core.activation_names())
ACTIVATION_ALIASES = _core.activation_aliases()
INITIALIZERS = tuple(_core.initializer_names())
INITIALIZER_ALIASES = _core.initializer_aliases()


def canonical_activation(name) -> str:
    """Return the engine's name for an activation ("logistic" -> "sigmoid"), or raise ValueError."""
    if name is None:
        return "identity"
    if not isinstance(name, str):
        raise ValueError(f"activation must be a string, got {name!r}")
    name = ACTIVATION_ALIASES.get(name.lower(), name.lower())
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return name


class LayerCache(NamedTuple):
    """What forward propagation keeps of one layer: Z = A_prev·W + b and A = f(Z), both (m, units).

    M is the dropout mask of a training pass (forward(X, training=True)) through a layer that
    drops: 1 for a kept unit, 0 for a dropped one; the next layer reads A ⊙ M / (1 − rate).
    None otherwise.
    """

    Z: np.ndarray
    A: np.ndarray
    M: np.ndarray | None = None


class LayerGradients(NamedTuple):
    """Backpropagation's result for one layer: dW (n_in, units) and db (units,)."""

    dW: np.ndarray
    db: np.ndarray


class Dense:
    """A fully connected layer: Z = A_prev·W + b, A = f(Z).

    Parameters
    ----------
    units : int
        Number of neurons (n_out).
    activation : str
        identity, sigmoid (or logistic), tanh, relu, leaky_relu, elu, softplus, silu;
        softmax and step only as the output layer.
    negative_slope : float
        Slope of leaky_relu for z <= 0 (the α of max(z, αz)).
    initializer : str
        auto (Glorot for saturating activations, He for the ReLU family), glorot_uniform,
        glorot_normal, he_uniform, he_normal or zeros.
    dropout : float
        Fraction of this layer's outputs dropped in training (inverted dropout: the kept ones
        are scaled by 1/(1 − dropout)); 0 is off. ``fm.Dropout(rate)`` after the layer in a
        Sequential sets it, as Keras's Dropout layer would. Hidden layers only.

    After the model is built, ``W`` (n_in, units) and ``b`` (units,) read the current
    parameters (as copies) and can be assigned.
    """

    def __init__(self, units: int, activation: str = "identity", negative_slope: float = 0.01,
                 initializer: str = "auto", name: str | None = None, dropout: float = 0.0):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = canonical_activation(activation)
        slope = float(negative_slope)
        if not math.isfinite(slope):
            raise ValueError(f"negative_slope must be finite, got {negative_slope!r}")
        self.negative_slope = slope
        if not isinstance(initializer, str) or (initializer not in INITIALIZERS
                                                and initializer not in INITIALIZER_ALIASES):
            raise ValueError(f"unknown initializer {initializer!r}; expected one of {', '.join(INITIALIZERS)}")
        self.initializer = INITIALIZER_ALIASES.get(initializer, initializer)
        self.dropout = check_dropout_rate(dropout, "dropout")
        self.name = name
        self._model = None
        self._index = None

    def _attach(self, model, index: int) -> None:
        if self._model is not None and self._model is not model:
            raise ValueError("this Dense layer already belongs to another model; create a new one")
        self._model, self._index = model, index

    def _engine(self):
        engine = None if self._model is None else self._model.engine
        if engine is None:
            raise ValueError("the layer is not built yet: give the model input_dim, or call fit() or build()")
        return engine

    @property
    def input_dim(self) -> int:
        network = self._engine()
        return network.input_dim if self._index == 0 else network.layer_units(self._index - 1)

    @property
    def W(self) -> np.ndarray:
        """Weights, shape (n_in, units): a copy of the current values."""
        return self._engine().get_weights(self._index)

    @W.setter
    def W(self, value) -> None:
        network = self._engine()
        array = self._checked(value, "W", (self.input_dim, self.units))
        network.set_weights(self._index, array)

    @property
    def b(self) -> np.ndarray:
        """Biases, shape (units,): a copy of the current values."""
        return self._engine().get_bias(self._index)

    @b.setter
    def b(self, value) -> None:
        network = self._engine()
        array = np.asarray(value)
        if array.ndim == 2 and array.shape[0] == 1:  # accept the notes' 1 × n_out row as well
            array = array[0]
        network.set_bias(self._index, self._checked(array, "b", (self.units,)))

    def _checked(self, value, what: str, shape: tuple) -> np.ndarray:
        array = np.asarray(value)
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise ValueError(f"{what} must be a real numeric array, got dtype {array.dtype}")
        if array.shape != shape:
            raise ValueError(f"{what} of layer {self._index} must have shape {shape}, got {array.shape}")
        # A float64 array assigned to a float32 model is rounded, as any float32 storage would.
        array = np.ascontiguousarray(array, dtype=self._model.dtype)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{what} of layer {self._index} contains NaN or infinity")
        return array

    @property
    def n_params(self) -> int:
        return (self.input_dim + 1) * self.units

    def get_config(self) -> dict:
        config = {"units": self.units, "activation": self.activation, "negative_slope": self.negative_slope,
                  "initializer": self.initializer}
        if self.dropout:  # absent at 0: the files of models without dropout stay as they were
            config["dropout"] = self.dropout
        return config

    def __repr__(self) -> str:
        extra = f", negative_slope={self.negative_slope}" if self.activation == "leaky_relu" else ""
        if self.dropout:
            extra += f", dropout={self.dropout}"
        return f"Dense({self.units}, activation={self.activation!r}{extra})"


def check_dropout_rate(rate, name: str = "rate") -> float:
    """A dropout rate as a float in [0, 1), or ValueError naming the problem."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in [0, 1) (the fraction of units dropped), got {rate!r}")
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"{name} must be in [0, 1) (the fraction of units dropped), got {rate!r}")
    return rate


class Dropout:
    """Keras's Dropout: in training, each output of the layer before it is dropped with
    probability ``rate`` and the kept ones are scaled by 1/(1 − rate) (inverted dropout), so
    that predict, evaluate and exported models, which never drop, need no rescaling.

    In a Sequential it folds into the Dense layer before it (that layer's ``dropout``), so
    ``model.layers`` lists the Dense layers only. The masks come from the model's seed, from a
    stream of their own: adding dropout leaves the shuffling as it was.
    """

    def __init__(self, rate: float, name: str | None = None):
        self.rate = check_dropout_rate(rate)
        self.name = name

    def get_config(self) -> dict:
        return {"rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"
