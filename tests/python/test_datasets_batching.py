"""Tests for fastmlp.datasets.batching: mini-batches, also over memory-mapped arrays."""

import tracemalloc

import numpy as np
import pytest

from fastmlp import datasets as ds


def test_minibatches_sequential_views_and_sizes():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    batches = list(ds.iterate_minibatches(X, y, batch_size=4))
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    for i, (xb, yb) in enumerate(batches):
        assert np.shares_memory(xb, X) and np.shares_memory(yb, y)
        np.testing.assert_array_equal(yb, np.arange(4 * i, min(4 * i + 4, 10)))
        np.testing.assert_array_equal(xb, X[yb])
    dropped = list(ds.iterate_minibatches(X, batch_size=4, drop_last=True))
    assert [b.shape for b in dropped] == [(4, 2), (4, 2)]
    assert all(isinstance(b, np.ndarray) for b in dropped)  # no tuple without y
    assert [len(b) for b in ds.iterate_minibatches(X, batch_size=32)] == [10]


def test_minibatches_shuffled_every_row_once_aligned_and_reproducible():
    X = np.arange(103.0)[:, None] * np.array([1.0, -1.0])
    y = np.arange(103)
    first = list(ds.iterate_minibatches(X, y, batch_size=10, shuffle=True, random_state=4))
    again = list(ds.iterate_minibatches(X, y, batch_size=10, shuffle=True, random_state=4))
    other = list(ds.iterate_minibatches(X, y, batch_size=10, shuffle=True, random_state=5))
    assert [len(yb) for _, yb in first] == [10] * 10 + [3]
    seen = np.concatenate([yb for _, yb in first])
    assert sorted(seen.tolist()) == list(range(103))
    assert not np.array_equal(seen, np.sort(seen))
    for xb, yb in first:
        np.testing.assert_array_equal(xb[:, 0], yb)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, other))
    dropped = list(ds.iterate_minibatches(X, y, batch_size=10, shuffle=True, random_state=4,
                                          drop_last=True))
    assert [len(yb) for _, yb in dropped] == [10] * 10


def test_minibatches_generator_gives_new_order_each_epoch():
    rng = np.random.default_rng(0)
    X = np.arange(50)
    epoch1 = np.concatenate(list(ds.iterate_minibatches(X, batch_size=50, shuffle=True, random_state=rng)))
    epoch2 = np.concatenate(list(ds.iterate_minibatches(X, batch_size=7, shuffle=True, random_state=rng)))
    assert sorted(epoch1.tolist()) == sorted(epoch2.tolist()) == list(range(50))
    assert not np.array_equal(epoch1, epoch2)


def test_minibatches_block_shuffle_visits_whole_blocks():
    X = np.arange(50)
    batches = list(ds.iterate_minibatches(X, batch_size=10, shuffle=True, random_state=1,
                                          block_size=10))
    blocks = [int(b[0]) // 10 for b in batches]
    for b, block in zip(batches, blocks):
        np.testing.assert_array_equal(np.sort(b), np.arange(10 * block, 10 * block + 10))
    assert sorted(blocks) == [0, 1, 2, 3, 4]
    assert blocks != [0, 1, 2, 3, 4]  # blocks visited in a random order


def test_minibatches_in_memory_default_is_a_full_shuffle():
    X = np.arange(1000)
    rows = np.concatenate(list(ds.iterate_minibatches(X, batch_size=100, shuffle=True,
                                                      random_state=0)))
    # rows from both ends of the array meet in the first batch only with a global shuffle
    first = rows[:100]
    assert first.min() < 200 and first.max() > 800


def _write_memmap(path, n_rows, n_cols):
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, n_cols))
    step = 50_000
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        array[start:stop, 0] = np.arange(start, stop, dtype=np.float32)
        array[start:stop, 1:] = 1.0
    array.flush()
    del array
    return np.load(path, mmap_mode="r")


def test_minibatches_on_memmap_use_little_memory(tmp_path):
    n_rows, n_cols = 200_000, 40  # 32 MB on disk
    X = _write_memmap(tmp_path / "big.npy", n_rows, n_cols)
    y = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=np.int64, shape=(n_rows,))
    y[:] = np.arange(n_rows)
    y.flush()
    y = np.load(tmp_path / "y.npy", mmap_mode="r")
    array_bytes = X.nbytes + y.nbytes

    def one_pass(**kwargs):
        visits = np.zeros(n_rows, dtype=np.int64)
        tracemalloc.start()
        try:
            for xb, yb in ds.iterate_minibatches(X, y, batch_size=256, **kwargs):
                assert np.array_equal(xb[:, 0], yb)
                np.add.at(visits, yb, 1)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_array_equal(visits, 1)
        return peak

    assert one_pass(shuffle=False) < array_bytes / 100
    assert one_pass(shuffle=True, random_state=0, block_size=8192) < array_bytes / 100
    assert one_pass(shuffle=True, random_state=0) < array_bytes / 10

    # tracemalloc does see NumPy's allocations, so the bounds above are meaningful
    tracemalloc.start()
    try:
        copy = np.array(X[: n_rows // 2])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak >= copy.nbytes
    del copy

    unshuffled = next(iter(ds.iterate_minibatches(X, batch_size=256)))
    assert np.shares_memory(unshuffled, X)

    def order(seed):
        return np.concatenate([yb for _, yb in ds.iterate_minibatches(
            X, y, batch_size=4096, shuffle=True, random_state=seed, block_size=20_000)])

    np.testing.assert_array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))


def test_minibatches_errors():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        ds.iterate_minibatches(X, batch_size=0)
    with pytest.raises(ValueError, match="batch_size must be an integer"):
        ds.iterate_minibatches(X, batch_size=2.5)
    with pytest.raises(ValueError, match="X has 5 rows but y has 4"):
        ds.iterate_minibatches(X, np.zeros(4))
    with pytest.raises(ValueError, match="block_size must be >= 1"):
        ds.iterate_minibatches(X, shuffle=True, block_size=0)
    with pytest.raises(ValueError, match="random_state"):
        ds.iterate_minibatches(X, shuffle=True, random_state=-5)
    with pytest.raises(ValueError, match="X must be an array of samples, got a scalar"):
        ds.iterate_minibatches(3.0)
