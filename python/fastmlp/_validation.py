"""Input checks shared by models, estimators and the CLI.

Every check raises ValueError (or TypeError for things that are not numbers at all) whose
message names the argument and the problem, before any work is done.
"""
from __future__ import annotations

import numpy as np

from ._shapes import check_feature_shape

DTYPES = {"float32": np.float32, "float64": np.float64}
REGRESSION_LOSSES = ("mse", "mae", "huber", "poisson")


def resolve_dtype(dtype) -> np.dtype:
    """Return np.float32 or np.float64 for "float32"/"float64"/np.float32/np.float64."""
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise ValueError("dtype must be 'float32' or 'float64', got None")
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from error
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return resolved


def all_finite(array: np.ndarray) -> bool:
    """True when no element is NaN or infinite; allocates nothing the size of the array."""
    if array.size == 0:
        return True
    if array.ndim == 2 and array.dtype in (np.float32, np.float64) and array.flags.c_contiguous:
        from . import _core
        return bool(_core.all_finite(array))  # one vectorised pass in C++, GIL released
    # min and max propagate NaN and expose ±inf without a boolean mask as large as the data.
    return bool(np.isfinite(array.min()) and np.isfinite(array.max()))


def check_features(X, dtype, name: str = "X", n_features: int | None = None, accept_sparse: bool = False):
    """Return X as a C-contiguous 2-D array of `dtype` (a view when it already is one), or with
    accept_sparse a SciPy sparse X as a CSR matrix of `dtype` (never made dense).

    Refuses non-numeric data, 1-D or 3-D arrays, empty data, NaN/inf and a number of
    columns other than `n_features` (when given).
    """
    if hasattr(X, "tocsr") and hasattr(X, "nnz"):  # a SciPy sparse matrix or array
        if accept_sparse:
            from ._sparse import check_sparse_features
            return check_sparse_features(X, dtype, name, n_features)
        raise ValueError(f"{name} is a sparse matrix ({type(X).__name__}); this takes dense arrays only: "
                         f"pass {name}.toarray() (fit, predict, evaluate and gradients take sparse input)")
    _refuse_missing_values(X, name)
    array = np.asarray(X)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name} must contain numbers; got an array of dtype {array.dtype}") from error
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real-valued, got complex numbers")
    if array.ndim == 1:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got a 1-D array of shape {array.shape}; "
            f"use {name}.reshape(-1, 1) for a single feature or {name}.reshape(1, -1) for a single sample")
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got {array.ndim}-D shape {array.shape}")
    check_feature_shape(array.shape, name, n_features)
    if array.dtype != dtype and not all_finite(array):
        raise ValueError(f"{name} contains NaN or infinity; clean or impute the data first")
    # Values beyond float32's range become inf in the cast; say so instead of warning.
    with np.errstate(over="ignore"):
        converted = np.ascontiguousarray(array, dtype=dtype)
    if not all_finite(converted):
        if array.dtype != dtype:
            raise ValueError(f"{name} has values too large for {np.dtype(dtype).name} (largest magnitude "
                             f"{float(np.max(np.abs(array))):.3g}); rescale the data or use dtype='float64'")
        raise ValueError(f"{name} contains NaN or infinity; clean or impute the data first")
    return converted


def _refuse_missing_values(X, name: str) -> None:
    """Name pandas' missing values (pd.NA, NaT, nullable dtypes) instead of failing on 'dtype object'."""
    isna = getattr(X, "isna", None)
    if isna is None or not hasattr(X, "columns"):
        return
    try:
        missing = isna().to_numpy().any(axis=0)
    except (TypeError, ValueError, AttributeError):
        return
    if missing.any():
        columns = [str(column) for column in X.columns[missing]][:5]
        raise ValueError(f"{name} has missing values (NaN or pd.NA) in the columns {columns}; fill or drop them first")


def check_sample_weight(sample_weight, n_samples: int, dtype) -> np.ndarray | None:
    """Return sample weights as a contiguous 1-D array of `dtype`, or None."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(f"sample_weight must have shape ({n_samples},), got {weights.shape}")
    weights = np.ascontiguousarray(weights, dtype=dtype)
    if not all_finite(weights):
        raise ValueError("sample_weight contains NaN or infinity")
    if (weights < 0).any():
        raise ValueError("sample_weight must be non-negative")
    return weights


def _describe(labels, limit: int = 5) -> str:
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in labels[:limit])
    return shown + (f", ... ({len(labels)} in all)" if len(labels) > limit else "")


def encode_targets(y, n_samples: int, n_outputs: int, loss: str, dtype, name: str = "y",
                   x_name: str = "X") -> np.ndarray:
    """Turn user targets into the (n_samples, n_outputs) matrix the engine trains on.

    Classification losses take integer labels 0..k-1 (1-D), or rows that are already one-hot
    (several outputs) / 0-1 columns (one output). The regression losses (mse, mae, huber, poisson)
    take real targets of shape (m,) for one output or (m, n_outputs) (poisson: y >= 0). `name`
    and `x_name` are the argument names used in messages.
    """
    targets = np.asarray(y)
    if targets.ndim == 0:
        raise ValueError(f"{name} must be an array with one entry per sample, got a scalar")
    if targets.shape[0] != n_samples:
        raise ValueError(f"{x_name} has {n_samples} samples but {name} has {targets.shape[0]}")
    if targets.ndim > 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {targets.shape}")
    if not (np.issubdtype(targets.dtype, np.number) or targets.dtype == np.bool_):
        raise ValueError(
            f"{name} must be numeric (got dtype {targets.dtype}); encode class labels as integers 0..k-1, "
            "or use an estimator such as fm.MLPClassifier, which accepts any labels")
    if np.iscomplexobj(targets):
        raise ValueError(f"{name} must be real-valued")
    targets = targets.astype(np.float64, copy=False)
    if not all_finite(targets):
        raise ValueError(f"{name} contains NaN or infinity")

    if loss == "poisson" and np.any(targets < 0):
        raise ValueError(f"the poisson loss needs targets y >= 0 (counts or rates); {name} has negative values")
    if loss in REGRESSION_LOSSES or loss is None or loss == "none":
        if targets.ndim == 1:
            targets = targets.reshape(-1, 1)
        if targets.shape[1] != n_outputs:
            raise ValueError(f"{name} has {targets.shape[1]} target columns but the output layer has "
                             f"{n_outputs} units")
        return np.ascontiguousarray(targets, dtype=dtype)

    if targets.ndim == 2 and targets.shape[1] == 1:
        targets = targets[:, 0]
    if targets.ndim == 1:
        if not np.all(targets == np.round(targets)):
            raise ValueError(f"class labels in {name} must be integers (0..k-1); got non-integer values")
        n_classes = 2 if n_outputs == 1 else n_outputs
        if loss == "hinge" and n_outputs == 1 and np.any(targets == -1) and np.all(np.abs(targets) == 1):
            targets = (targets + 1) / 2  # the SVM's t in {-1, +1} as the engine's {0, 1}
        # Range check on the floats: a huge label must not wrap around in the integer cast.
        bad = np.unique(targets[(targets < 0) | (targets >= n_classes)])
        if bad.size:
            shown = [int(v) if abs(v) < 2 ** 53 else v for v in bad.tolist()]
            hint = "; hinge takes 0/1 or -1/+1" if loss == "hinge" and n_outputs == 1 else ""
            raise ValueError(
                f"{name} has labels {_describe(shown)} outside the output layer's classes 0..{n_classes - 1} "
                f"({n_outputs} output unit{'s' if n_outputs > 1 else ''}){hint}")
        labels = targets.astype(np.int64)
        if n_outputs == 1:
            return np.ascontiguousarray(labels.reshape(-1, 1), dtype=dtype)
        encoded = np.zeros((n_samples, n_outputs), dtype=dtype)
        encoded[np.arange(n_samples), labels] = 1
        return encoded

    if targets.shape[1] != n_outputs:
        raise ValueError(f"{name} has {targets.shape[1]} columns but the output layer has {n_outputs} units")
    if not np.all((targets == 0) | (targets == 1)):
        raise ValueError(f"one-hot targets in {name} must contain only 0 and 1")
    if loss == "cross_entropy" and not np.all(targets.sum(axis=1) == 1):
        raise ValueError(f"each one-hot row of {name} must contain exactly one 1 for cross_entropy")
    return np.ascontiguousarray(targets, dtype=dtype)
