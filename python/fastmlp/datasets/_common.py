"""Argument checks and small helpers shared by the dataset modules."""
from __future__ import annotations

import math
import numbers

import numpy as np


def _as_generator(random_state) -> np.random.Generator:
    """Turn None, an int seed or a Generator into a Generator (a Generator is used as is)."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int seed, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise ValueError(
        "random_state must be None, a non-negative int or a numpy.random.Generator, "
        f"got {random_state!r}"
    )


def _check_int(value, name: str, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_real(value, name: str, minimum: float = 0.0) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"{name} must be a real number >= {minimum}, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {value}")
    return value


def _split_evenly(n_samples: int, n_groups: int) -> np.ndarray:
    """Group sizes differing by at most one; the first ``n_samples % n_groups`` get the extra."""
    sizes = np.full(n_groups, n_samples // n_groups, dtype=np.int64)
    sizes[: n_samples % n_groups] += 1
    return sizes


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    order = rng.permutation(X.shape[0])
    return X[order], y[order]


def _as_indexable(array, name: str):
    """Arrays (including memmaps) pass unchanged; other sequences become arrays."""
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array of samples, got a scalar")
    return array
