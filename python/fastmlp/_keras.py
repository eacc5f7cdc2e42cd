"""Keras's habits on Sequential: get_weights/set_weights and model(X)."""
from __future__ import annotations

from typing import Any

import numpy as np


class KerasHabits:
    """Mixed into Sequential; every method goes through the model's public API."""

    def get_weights(self: Any) -> list:
        """Copies of the parameters as Keras lists them: [W0, b0, W1, b1, ...], W[l] of shape
        (n_in, n_out) and b[l] of shape (n_out,)."""
        weights = []
        for layer in self.layers:
            weights += [layer.W.copy(), layer.b.copy()]
        return weights

    def set_weights(self: Any, weights) -> None:
        """Set every parameter from a list as get_weights returns it; shapes are checked before
        anything changes, so a refused list leaves the model as it was."""
        weights = list(weights)
        expected = 2 * len(self.layers)
        if len(weights) != expected:
            raise ValueError(f"set_weights needs {expected} arrays ([W0, b0, W1, b1, ...] for {len(self.layers)} "
                             f"layers), got {len(weights)}")
        arrays = []
        for index, (array, layer) in enumerate(zip(weights, [layer for layer in self.layers for _ in (0, 1)])):
            target = layer.W if index % 2 == 0 else layer.b
            array = np.asarray(array, dtype=self.dtype)
            if array.shape != target.shape:
                name = f"{'W' if index % 2 == 0 else 'b'}{index // 2}"
                raise ValueError(f"weights[{index}] ({name}) must have shape {target.shape}, got {array.shape}")
            arrays.append(array.ravel())
        self.set_parameters(np.concatenate(arrays))

    def __call__(self: Any, X) -> np.ndarray:
        """model(X) is model.predict(X), as in Keras (a NumPy array here, not a tensor)."""
        return self.predict(X)

    def _predict_in_batches(self: Any, X, batch_size, verbose) -> np.ndarray:
        if verbose not in (0, 1, 2, "auto"):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        X = self._features(X)
        return np.concatenate([self.predict(X[start:start + batch_size]) for start in range(0, X.shape[0], batch_size)])


def class_sample_weights(class_weight, Y: np.ndarray, weights, dtype, is_classifier: bool = True) -> np.ndarray:
    """Keras's fit(class_weight={class index: weight}): each training sample's weight times
    its class's (1 for a class the dict leaves out). Y is the encoded targets: one-hot rows,
    or one 0/1 column for a single sigmoid or step output."""
    if not is_classifier:
        raise ValueError("class_weight is for classification losses; use sample_weight")
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict {{class index: weight}}, got {class_weight!r}")
    n_classes = max(2, Y.shape[1])
    table = np.ones(n_classes)
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n_classes:
            raise ValueError(f"class_weight keys must be class indices 0..{n_classes - 1}, got {key!r}")
        value = float(value)
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"class_weight[{key}] must be a finite number >= 0, got {value!r}")
        table[int(key)] = value
    labels = Y.argmax(axis=1) if Y.shape[1] > 1 else (Y[:, 0] > 0.5).astype(np.intp)
    per_sample = table[labels]
    if weights is not None:
        per_sample = per_sample * weights
    return np.ascontiguousarray(per_sample, dtype=dtype)


def check_initial_epoch(initial_epoch, epochs: int) -> int:
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) \
            or not 0 <= initial_epoch < epochs:
        raise ValueError(f"initial_epoch must be an integer in [0, epochs) = [0, {epochs}), got {initial_epoch!r}")
    return int(initial_epoch)
