"""Mini-batches, also over memory-mapped arrays larger than memory."""
from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._common import _as_indexable, _as_generator, _check_int


# A shuffled pass over a memory-mapped array keeps about this many bytes of rows per
# block, and never more than _MAX_BLOCK_ROWS rows (its index permutation is 8 bytes a row).
_BLOCK_BYTES = 64 * 2**20
_MAX_BLOCK_ROWS = 2**21


def _is_memory_mapped(array: np.ndarray) -> bool:
    base: Any = array
    while base is not None:
        if isinstance(base, (np.memmap, mmap.mmap)):
            return True
        base = getattr(base, "base", None)
    return False


def _row_bytes(array: np.ndarray) -> int:
    return array.itemsize * int(np.prod(array.shape[1:], dtype=np.int64))


def iterate_minibatches(X, y=None, batch_size=32, shuffle=False, random_state=None,
                        drop_last=False, block_size=None):
    """Iterate over mini-batches of rows of ``X`` (and ``y``), one pass.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...), may be an ``np.memmap``
    y : array-like of shape (n_samples, ...), optional
    batch_size : int >= 1
    shuffle : bool
        False yields consecutive slices, which are views (nothing is copied).
        True yields every row once in a random order, as follows: the rows are cut into
        contiguous blocks of ``block_size`` rows, the blocks are visited in a random
        order, and the rows inside each block are shuffled (a batch may straddle two
        consecutive blocks). Each batch is gathered by fancy indexing, with the row
        indices sorted inside the batch so reads from a file go forwards.
        Memory stays O(block_size) indices plus one batch, so this works on memory-mapped
        files larger than RAM; an exactly uniform shuffle of such a file would need random
        reads all over it. When the whole array is one block the shuffle is exactly
        uniform.
    random_state : None, int or np.random.Generator
        Used only when shuffling; a seed gives the same batches every time.
    drop_last : bool
        Skip the last batch when it has fewer than ``batch_size`` rows.
    block_size : int, optional
        Rows per shuffle block. Default: the whole array when neither X nor y is
        memory-mapped; for memory-mapped data, as many rows as fit in 64 MiB
        (at most 2**21 rows, at least ``batch_size``).

    Yields
    ------
    X_batch : ndarray of shape (batch, ...) when y is None, else
    (X_batch, y_batch) : ndarrays of shapes (batch, ...) and (batch, ...)
    """
    X = _as_indexable(X, "X")
    if y is not None:
        y = _as_indexable(y, "y")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    batch_size = _check_int(batch_size, "batch_size", 1)
    n_samples = X.shape[0]
    rng = None
    if shuffle:
        rng = _as_generator(random_state)
        if block_size is None:
            if _is_memory_mapped(X) or (y is not None and _is_memory_mapped(y)):
                row_bytes = _row_bytes(X) + (0 if y is None else _row_bytes(y))
                block_size = min(_BLOCK_BYTES // max(row_bytes, 1), _MAX_BLOCK_ROWS)
                block_size = max(block_size, batch_size)
            else:
                block_size = max(n_samples, 1)
        block_size = _check_int(block_size, "block_size", 1)
        return _shuffled_batches(X, y, batch_size, drop_last, block_size, rng)
    if block_size is not None:
        _check_int(block_size, "block_size", 1)
    return _sequential_batches(X, y, batch_size, drop_last)


def _sequential_batches(X, y, batch_size, drop_last) -> Iterator:
    n_samples = X.shape[0]
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        if drop_last and stop - start < batch_size:
            return
        yield X[start:stop] if y is None else (X[start:stop], y[start:stop])


def _shuffled_batches(X, y, batch_size, drop_last, block_size, rng) -> Iterator:
    def gather(indices):
        indices = np.sort(indices)
        return X[indices] if y is None else (X[indices], y[indices])

    n_samples = X.shape[0]
    n_blocks = -(-n_samples // block_size)
    pending = np.empty(0, dtype=np.intp)
    for block in rng.permutation(n_blocks):
        start = block * block_size
        stop = min(start + block_size, n_samples)
        block_rows = start + rng.permutation(stop - start)
        pending = np.concatenate([pending, block_rows]) if pending.size else block_rows
        while pending.size >= batch_size:
            yield gather(pending[:batch_size])
            pending = pending[batch_size:]
    if pending.size and not drop_last:
        yield gather(pending)
