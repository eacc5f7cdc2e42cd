"""Same seed and same thread count give bit-identical weights, also when products are split
across threads (the layers here are wide enough for the engine's parallel path)."""
import numpy as np
import pytest

import fastmlp as fm


@pytest.fixture
def restore_threads():
    before = fm.get_num_threads()
    yield
    fm.set_num_threads(before)


def _train(seed: int, dtype: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 256)).astype(dtype)
    y = rng.integers(0, 10, 512)
    model = fm.Sequential([fm.Dense(512, activation="relu"), fm.Dense(256, activation="tanh"),
                           fm.Dense(10, activation="softmax")], dtype=dtype, seed=seed)
    model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=1e-3))
    model.fit(X, y, epochs=3, batch_size=128, verbose=0)
    return model.get_parameters()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_same_seed_and_threads_give_identical_weights(threads, dtype, restore_threads):
    fm.set_num_threads(threads)
    first, second = _train(7, dtype), _train(7, dtype)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, _train(8, dtype))


def test_thread_counts_agree_to_rounding(restore_threads):
    fm.set_num_threads(1)
    one = _train(3, "float64")
    fm.set_num_threads(2)
    two = _train(3, "float64")
    # Other slab boundaries may sum in another order: equal up to float64 rounding.
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-12 * np.abs(one).max())
