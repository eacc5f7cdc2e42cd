"""Sparse input (SciPy CSR, CSC, COO matrices and arrays), as scikit-learn's estimators take it.

Predictions never densify the whole matrix: the one-layer models multiply the sparse X by W
directly (SciPy's sparse product), the networks run the engine on blocks of rows made dense
one block at a time, so memory stays that of ROWS_PER_BLOCK dense rows. Training densifies
the rows it trains on (the engine's epoch takes dense X; docs/estimators.md says so).
"""
from __future__ import annotations

import numpy as np

SPARSE_FORMATS = ("csr", "csc", "coo")
ROWS_PER_BLOCK = 4096


def is_sparse(X) -> bool:
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def dense_for_training(X, dtype) -> np.ndarray:
    """X (checked, maybe sparse) as the engine's C-contiguous dense array."""
    if is_sparse(X):
        return np.ascontiguousarray(X.toarray(), dtype=dtype)
    return X


def outputs_in_blocks(engine, X) -> np.ndarray:
    """engine.predict over a sparse X, ROWS_PER_BLOCK rows at a time (each row's output does not
    depend on the other rows of its batch, so this equals one call on the dense matrix)."""
    X = X.tocsr()
    blocks = [engine.predict(np.ascontiguousarray(X[start:start + ROWS_PER_BLOCK].toarray(), dtype=engine.dtype))
              for start in range(0, X.shape[0], ROWS_PER_BLOCK)]
    return np.concatenate(blocks, axis=0)
