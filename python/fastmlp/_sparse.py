"""Sparse X (SciPy's CSR, CSC and COO matrices and arrays) as the engine takes it: never dense.

The engine trains, predicts and evaluates on a CSR matrix itself (the first layer's products
X·W[0] and Xᵀ·dZ[0] run over the nonzeros, in C++). This module only hands SciPy's matrix over
as a ``_core.CsrMatrix``: CSC and COO become CSR (SciPy converts without densifying; callers
that use X more than once convert it once with ``as_csr``), the values take the network's dtype
(no copy when they have it), and SciPy's int32 or int64 index arrays cross as they are, as
views. SciPy itself is never imported: a sparse matrix brings its own methods.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._shapes import check_feature_shape

FORMATS = ("csr", "csc", "coo")


def is_sparse(X) -> bool:
    """A SciPy sparse matrix or array (or anything that behaves as one)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def check_structure(X, name: str = "X") -> None:
    """Refuse index arrays that do not describe X's shape (ValueError naming the problem), before
    SciPy's own routines (conversions, sklearn's checks) read them: those may fail obscurely or
    write out of bounds on them. Reads every index once."""
    fmt = getattr(X, "format", None)
    if fmt in ("csr", "csc", "bsr"):
        try:
            X.check_format(full_check=True)
        except ValueError as error:
            raise ValueError(f"{name} is a malformed {fmt.upper()} matrix: {error}") from None
    elif fmt == "coo":
        coords = getattr(X, "coords", None) or (X.row, X.col)
        for axis, (index, size) in enumerate(zip(coords, X.shape)):
            if index.shape != X.data.shape:
                raise ValueError(f"{name} is a malformed COO matrix: {index.size} indices of axis {axis} "
                                 f"for {X.data.size} values")
            if index.size and (index.min() < 0 or index.max() >= size):
                raise ValueError(f"{name} is a malformed COO matrix: indices of axis {axis} must lie in "
                                 f"[0, {size}), found {index.min()} to {index.max()}")


def checked_structure(X, name: str = "X"):
    """X itself, once check_structure has accepted it (anything not sparse passes as it is)."""
    if is_sparse(X):
        check_structure(X, name)
    return X


def as_csr(X):
    """X in CSR format (X itself when it is CSR already)."""
    return X if getattr(X, "format", None) == "csr" else X.tocsr()


def engine_input(X, dtype):
    """X for the engine's passes: a dense array as it is, a sparse matrix as a _core.CsrMatrix
    over its own arrays (ValueError, naming the problem, for indices or indptr out of order)."""
    if not is_sparse(X):
        return X
    if X.format != "csr" or X.dtype != dtype:
        check_structure(X)  # before SciPy converts it; a ready CSR is checked by the engine itself
    csr = as_csr(X)
    if csr.dtype != dtype:
        csr = csr.astype(dtype)
    indices, indptr = csr.indices, csr.indptr
    if indices.dtype != indptr.dtype:  # SciPy keeps them alike; anything else is widened once
        indices, indptr = indices.astype(np.int64), indptr.astype(np.int64)
    return _core.CsrMatrix(np.ascontiguousarray(csr.data), np.ascontiguousarray(indices),
                           np.ascontiguousarray(indptr), tuple(int(n) for n in csr.shape))


def check_sparse_features(X, dtype, name: str, n_features: int | None):
    """A sparse X checked as check_features checks a dense one; returned as CSR of `dtype`."""
    if len(X.shape) != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    check_feature_shape(X.shape, name, n_features)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_) or np.iscomplexobj(X.data):
        raise ValueError(f"{name} must contain real numbers; got a sparse matrix of dtype {X.dtype}")
    check_structure(X, name)
    csr = as_csr(X)
    with np.errstate(over="ignore"):
        csr = csr.astype(dtype, copy=False)
    if not np.isfinite(csr.data).all():
        raise ValueError(f"{name} contains NaN or infinity (or values too large for {np.dtype(dtype).name}); "
                         "clean or rescale the data first")
    return csr
