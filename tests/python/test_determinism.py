"""Same seed gives bit-identical weights at any thread count (the layers here are wide enough
for the engine's parallel path), and a row's prediction has the same bits alone, in any chunk
and in a batch of 10,000."""
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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_thread_counts_give_identical_weights(dtype, restore_threads):
    # Products are cut into slabs by their shape alone and no sum is split between threads.
    weights = []
    for threads in (1, 2, 3, 4):
        fm.set_num_threads(threads)
        weights.append(_train(3, dtype))
    for other in weights[1:]:
        assert np.array_equal(other, weights[0])


HIDDEN = ["relu", "tanh", "sigmoid", "softplus", "elu", "silu", "leaky_relu", "identity"]


def _predictor(hidden: str, output: str, dtype: str, widths=(37, 50, 21)) -> fm.Sequential:
    # Odd widths: every layer has a tail narrower than a SIMD packet.
    n_in, *hidden_widths = widths
    layers = [fm.Dense(units, activation=hidden) for units in hidden_widths]
    units, loss = {"softmax": (7, "cross_entropy"), "sigmoid": (3, "binary_cross_entropy"),
                   "identity": (1, "mse")}[output]
    model = fm.Sequential([*layers, fm.Dense(units, activation=output)], input_dim=n_in, dtype=dtype, seed=5)
    model.compile(loss=loss, optimizer="sgd")
    return model


def _rows_alone_and_in_chunks(model, X):
    whole = model.predict(X)
    alone = np.concatenate([model.predict(X[i:i + 1]) for i in range(len(X))])
    assert np.array_equal(alone, whole)
    for chunk in (2, 3, 5, 7, 64, len(X) - 1):
        parts = np.concatenate([model.predict(X[i:i + chunk]) for i in range(0, len(X), chunk)])
        assert np.array_equal(parts, whole), chunk
    assert np.array_equal(model.predict(X[1:]), whole[1:])  # every row moved to another position
    assert np.array_equal(model.predict(X[::-1]), whole[::-1])
    return whole


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_row_predicts_the_same_alone_and_in_any_batch(hidden, dtype):
    # 500 rows: more than the engine's two blocks of rows (cpp/src/network.cpp), so the whole
    # batch goes through every layer in row blocks on the pool while a row alone does not.
    X = np.random.default_rng(1).standard_normal((500, 37)).astype(dtype)
    for output in ("softmax", "sigmoid", "identity"):
        model = _predictor(hidden, output, dtype)
        whole = _rows_alone_and_in_chunks(model, X)
        # not a trivial network: the rows' predictions differ
        assert len(np.unique(whole[:, 0])) > 400


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_batch_of_10000_rows_at_any_thread_count(dtype, restore_threads):
    # W3's shape: large enough for the products to be cut into slabs of rows, columns and
    # several chunks of rows within one predict call.
    rng = np.random.default_rng(2)
    X = rng.standard_normal((10_000, 784)).astype(dtype)
    model = fm.Sequential([fm.Dense(256, activation="relu"), fm.Dense(128, activation="relu"),
                           fm.Dense(10, activation="softmax")], input_dim=784, dtype=dtype, seed=4)
    model.compile(loss="cross_entropy", optimizer="sgd")
    fm.set_num_threads(1)
    reference = model.predict(X)
    for threads in (2, 3):
        fm.set_num_threads(threads)
        assert np.array_equal(model.predict(X), reference)
    picked = rng.choice(10_000, 200, replace=False)
    for threads in (1, 2):
        fm.set_num_threads(threads)
        alone = np.concatenate([model.predict(X[i:i + 1]) for i in picked])
        assert np.array_equal(alone, reference[picked])
        assert np.array_equal(model.predict(X[picked]), reference[picked])
        assert np.array_equal(model.predict(X[17:4113]), reference[17:4113])
