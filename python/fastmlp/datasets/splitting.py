"""train_test_split with scikit-learn's semantics, stratified when asked."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._common import _as_indexable, _as_generator


def _size_to_count(size, name: str, n_samples: int, round_up: bool) -> int:
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        if not 1 <= int(size) < n_samples:
            raise ValueError(
                f"{name}={size} must be in [1, {n_samples - 1}] as a count "
                f"(there are {n_samples} samples), or a float in (0, 1)"
            )
        return int(size)
    if isinstance(size, numbers.Real) and not isinstance(size, bool):
        if not 0.0 < float(size) < 1.0:
            raise ValueError(f"{name}={size} must be a float in (0, 1) or an int count")
        exact = float(size) * n_samples
        return math.ceil(exact) if round_up else math.floor(exact)
    raise ValueError(f"{name} must be a float in (0, 1), an int count or None, got {size!r}")


def _allocate(counts, total, lower, upper, rng):
    """Integer parts of ``total`` per class, proportional to ``counts``, within bounds.

    Starts from the floor of each class's exact share ``counts * total / sum(counts)``
    and hands out (or takes back) single units by largest (smallest) remainder, ties
    broken at random, so every class gets the floor or the ceiling of its share
    whenever the bounds allow it.
    """
    n = counts.sum()
    share_num = counts * total  # exact share is share_num / n
    alloc = np.clip(share_num // n, lower, upper)
    tie_rank = rng.permutation(counts.size)
    while True:
        missing = total - alloc.sum()
        if missing == 0:
            return alloc
        # remainder of the exact share over the allocation, scaled by n (integer)
        remainder = share_num - alloc * n
        if missing > 0:
            candidates = np.flatnonzero(alloc < upper)
            order = np.lexsort((tie_rank[candidates], -remainder[candidates]))
            alloc[candidates[order[0]]] += 1
        else:
            candidates = np.flatnonzero(alloc > lower)
            order = np.lexsort((tie_rank[candidates], remainder[candidates]))
            alloc[candidates[order[0]]] -= 1


def _stratified_indices(stratify, n_train, n_test, rng):
    if stratify.ndim == 1:
        _, labels = np.unique(stratify, return_inverse=True)
    else:
        _, labels = np.unique(stratify.reshape(stratify.shape[0], -1), axis=0, return_inverse=True)
    labels = labels.ravel()
    counts = np.bincount(labels).astype(np.int64)
    n_splittable = int((counts >= 2).sum())
    if n_test < n_splittable or n_train < n_splittable:
        raise ValueError(
            f"stratified split of {n_train} train and {n_test} test samples cannot hold each "
            f"of the {n_splittable} classes with at least 2 members in both parts; "
            "use a larger test_size/train_size"
        )
    splittable = counts >= 2
    max_test = int(counts[splittable].sum()) - n_splittable
    if n_test > max_test:
        raise ValueError(
            f"stratified split cannot put {n_test} samples in the test part: keeping one "
            f"member of every class in the train part leaves at most {max_test}; "
            "use a smaller test_size"
        )
    test_counts = _allocate(counts, n_test, splittable.astype(np.int64),
                            np.where(splittable, counts - 1, 0), rng)
    train_counts = _allocate(counts, n_train, splittable.astype(np.int64),
                             counts - test_counts, rng)

    train_parts, test_parts = [], []
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    for c in range(counts.size):
        members = rng.permutation(order[starts[c]:starts[c + 1]])
        test_parts.append(members[: test_counts[c]])
        train_parts.append(members[test_counts[c]: test_counts[c] + train_counts[c]])
    return (rng.permutation(np.concatenate(train_parts)),
            rng.permutation(np.concatenate(test_parts)))


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True,
                     stratify=None):
    """Split arrays into random train and test subsets (scikit-learn's semantics).

    Parameters
    ----------
    *arrays : sequence of arrays with the same first dimension n_samples
    test_size : float in (0, 1), int, or None
        Fraction (rounded up) or number of test samples. None means the complement of
        ``train_size``, or 0.25 when ``train_size`` is None too.
    train_size : float in (0, 1), int, or None
        Fraction (rounded down) or number of train samples; None means the complement.
    random_state : None, int or np.random.Generator
    shuffle : bool
        False takes the first samples for training and the next for testing.
    stratify : array-like of shape (n_samples,), optional
        Class labels; each part then keeps the class proportions (every class gets the
        floor or ceiling of its exact share) and every class with at least 2 members
        appears in both parts. A class with a single member goes to the train part.

    Returns
    -------
    list of length 2 * len(arrays)
        ``[a_train, a_test, b_train, b_test, ...]``; lists are returned as arrays.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrays = [_as_indexable(a, f"array {i}") for i, a in enumerate(arrays)]
    lengths = [a.shape[0] for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"arrays have inconsistent numbers of samples: {lengths}")
    n_samples = lengths[0]
    if n_samples < 2:
        raise ValueError(f"need at least 2 samples to split, got {n_samples}")

    n_train, n_test = _split_counts(test_size, train_size, n_samples)
    train_idx, test_idx = _split_indices(n_samples, n_train, n_test, random_state, shuffle, stratify)
    result = []
    for array in arrays:
        result.extend([array[train_idx], array[test_idx]])
    return result


def _split_counts(test_size, train_size, n_samples: int) -> tuple:
    """(n_train, n_test) for scikit-learn's test_size/train_size rules; neither part empty."""
    if test_size is None and train_size is None:
        test_size = 0.25
    if train_size is None:
        n_test = _size_to_count(test_size, "test_size", n_samples, True)
        n_train = n_samples - n_test
    elif test_size is None:
        n_train = _size_to_count(train_size, "train_size", n_samples, False)
        n_test = n_samples - n_train
    else:
        n_test = _size_to_count(test_size, "test_size", n_samples, True)
        n_train = _size_to_count(train_size, "train_size", n_samples, False)
    if n_train + n_test > n_samples:
        raise ValueError(
            f"train_size + test_size = {n_train} + {n_test} samples exceeds the "
            f"{n_samples} samples available"
        )
    if n_train == 0:
        raise ValueError(
            f"the train set would be empty with test_size={test_size!r}, "
            f"train_size={train_size!r} and {n_samples} samples"
        )
    if n_test == 0:
        raise ValueError(
            f"the test set would be empty with test_size={test_size!r}, "
            f"train_size={train_size!r} and {n_samples} samples"
        )
    return n_train, n_test


def _split_indices(n_samples: int, n_train: int, n_test: int, random_state, shuffle: bool, stratify) -> tuple:
    """(train indices, test indices): the leading rows, a random permutation, or per class."""
    if not shuffle:
        if stratify is not None:
            raise ValueError("stratify requires shuffle=True (a stratified split is random)")
        train_idx = np.arange(n_train)
        test_idx = np.arange(n_train, n_train + n_test)
    else:
        rng = _as_generator(random_state)
        if stratify is not None:
            stratify = _as_indexable(stratify, "stratify")
            if stratify.shape[0] != n_samples:
                raise ValueError(
                    f"stratify has {stratify.shape[0]} labels but the arrays have "
                    f"{n_samples} samples"
                )
            train_idx, test_idx = _stratified_indices(stratify, n_train, n_test, rng)
        else:
            permutation = rng.permutation(n_samples)
            test_idx = permutation[:n_test]
            train_idx = permutation[n_test:n_test + n_train]
    return train_idx, test_idx
