"""Models trained with the losses and the output added in round two (mae, huber, poisson with
its exp output) survive a model file and a pickle: same loss, same predictions, bit for bit."""
import pickle

import numpy as np
import pytest

import fastmlp as fm


def _regression(rng, n=120):
    X = rng.normal(size=(n, 4))
    y = np.exp(0.3 * X[:, :1] - 0.2 * X[:, 1:2])  # positive, as Poisson needs
    return X, y


@pytest.mark.parametrize("loss, output", [("mae", "identity"), ("huber", "identity"), ("poisson", "exp")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_sequential_with_a_new_loss_round_trips(loss, output, dtype, tmp_path):
    X, y = _regression(np.random.default_rng(0))
    model = fm.Sequential([fm.Dense(8, activation="tanh"), fm.Dense(1, activation=output)], dtype=dtype, seed=1)
    model.compile(loss=loss, optimizer=fm.Adam(lr=0.01))
    model.fit(X, y, epochs=3, batch_size=16, verbose=0)
    path = tmp_path / "model.fmlp"
    model.save(path)
    loaded = fm.load(path)
    assert loaded.loss == loss
    assert loaded.layers[-1].activation == output
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.evaluate(X, y)["loss"] == model.evaluate(X, y)["loss"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 20 epochs are enough to compare
def test_a_poisson_regressor_pickles_and_saves(tmp_path):
    pytest.importorskip("sklearn")
    X, y = _regression(np.random.default_rng(2), n=200)
    regressor = fm.MLPRegressor(hidden_layer_sizes=(8,), loss="poisson", max_iter=20, random_state=0)
    regressor.fit(X, y.ravel())
    again = pickle.loads(pickle.dumps(regressor))
    assert np.array_equal(again.predict(X), regressor.predict(X))
    regressor.save(tmp_path / "poisson.fmlp")
    assert np.array_equal(fm.load(tmp_path / "poisson.fmlp").predict(X), regressor.predict(X))
