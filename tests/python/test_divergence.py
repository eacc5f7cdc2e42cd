"""A loss that becomes NaN or infinite stops training, keeps the last finite weights and
raises fm.DivergenceError naming the epoch and suggesting a smaller learning rate."""

import numpy as np
import pytest

import fastmlp as fm


class Recorder(fm.Callback):
    def __init__(self):
        self.parameters = []

    def on_epoch_end(self, epoch, logs=None):
        self.parameters.append(self.model.get_parameters())


def exploding_regression(dtype="float64", lr=0.3, optimizer=None):
    """z = w·x + b on x = 1 with target 0, one sample per batch: dW = db = 2s for s = w + b,
    so each SGD step multiplies s by (1 − 4·lr): it shrinks for lr < 0.5 and explodes above."""
    model = fm.Sequential([fm.Dense(1)], input_dim=1, dtype=dtype, seed=0)
    model.compile(loss="mse", optimizer=optimizer or fm.SGD(lr=lr))
    model.layers[0].W = [[1.0]]
    model.layers[0].b = [0.0]
    return model, np.ones((10, 1)), np.zeros(10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_divergence_raises_names_the_epoch_and_keeps_the_last_finite_weights(dtype):
    # |1 − 4·lr| = 3 per step, 10 steps per epoch: ×3^10 per epoch. The squared output
    # overflows when 3^n passes ~1.8e19 in float32 (epoch 5) or ~1.3e154 in float64 (epoch 33).
    model, X, y = exploding_regression(dtype, lr=1.0)
    recorder = Recorder()
    with pytest.raises(fm.DivergenceError) as caught:
        model.fit(X, y, epochs=100, batch_size=1, shuffle=False, callbacks=[recorder], verbose=0)
    completed = len(recorder.parameters)
    assert completed >= 1
    message = str(caught.value)
    assert f"diverged in epoch {completed + 1} of 100" in message
    assert f"end of epoch {completed}" in message
    assert "smaller learning rate" in message and "it is 1" in message
    parameters = model.get_parameters()
    assert np.all(np.isfinite(parameters))
    np.testing.assert_array_equal(parameters, recorder.parameters[-1])
    # the completed epochs are in the History, the diverged one is not
    assert len(model.history.history["loss"]) == completed
    assert np.all(np.isfinite(model.history.history["loss"]))


def test_the_growth_really_is_geometric_before_the_divergence():
    # Check the test's own arithmetic: after each epoch s = (1 − 4·lr)^10.
    model, X, y = exploding_regression("float64", lr=1.0)
    recorder = Recorder()
    with pytest.raises(fm.DivergenceError):
        model.fit(X, y, epochs=100, batch_size=1, shuffle=False, callbacks=[recorder], verbose=0)
    for epoch, parameters in enumerate(recorder.parameters, start=1):
        assert parameters.sum() == pytest.approx((-3.0) ** (10 * epoch), rel=1e-9)


def test_divergence_in_the_first_epoch_keeps_the_initial_weights():
    model, X, y = exploding_regression("float32", lr=1e6)
    initial = model.get_parameters()
    with pytest.raises(fm.DivergenceError, match=r"diverged in epoch 1 of 5: .*keeps the initial weights.*"
                                                 r"smaller learning rate \(it is 1e\+06\)"):
        model.fit(X, y, epochs=5, batch_size=1, verbose=0)
    np.testing.assert_array_equal(model.get_parameters(), initial)
    assert model.history.history == {}


def test_divergence_is_a_floating_point_error():
    model, X, y = exploding_regression("float32", lr=1e6)
    with pytest.raises(FloatingPointError):
        model.fit(X, y, epochs=2, batch_size=1, verbose=0)


def test_adam_divergence_on_a_real_network_is_caught():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)) * 1e4
    y = rng.standard_normal(64) * 1e18
    model = fm.Sequential([fm.Dense(8, activation="relu"), fm.Dense(1)], dtype="float32", seed=1)
    model.compile(loss="mse", optimizer=fm.Adam(lr=1e3))
    recorder = Recorder()
    with pytest.raises(fm.DivergenceError, match="smaller learning rate"):
        model.fit(X, y, epochs=50, callbacks=[recorder], verbose=0)
    assert np.all(np.isfinite(model.get_parameters()))
    if recorder.parameters:
        np.testing.assert_array_equal(model.get_parameters(), recorder.parameters[-1])


def test_divergence_keeps_the_last_weights_even_with_early_stopping():
    model, X, y = exploding_regression("float64", lr=1.0)
    recorder = Recorder()
    stopper = fm.EarlyStopping(monitor="loss", patience=1000)
    with pytest.raises(fm.DivergenceError):
        model.fit(X, y, epochs=100, batch_size=1, shuffle=False, callbacks=[recorder, stopper], verbose=0)
    np.testing.assert_array_equal(model.get_parameters(), recorder.parameters[-1])


def test_training_can_go_on_after_a_divergence_with_a_smaller_learning_rate():
    model, X, y = exploding_regression("float64", lr=1.0)
    with pytest.raises(fm.DivergenceError):
        model.fit(X, y, epochs=100, batch_size=1, shuffle=False, verbose=0)
    model.compile(loss="mse", optimizer=fm.SGD(lr=0.1))
    history = model.fit(X, y, epochs=30, batch_size=1, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < 1e-6 * history.history["loss"][0]


def test_a_stable_learning_rate_does_not_raise():
    model, X, y = exploding_regression("float64", lr=0.2)       # |1 − 4·0.2| = 0.2 per step
    history = model.fit(X, y, epochs=2, batch_size=1, shuffle=False, verbose=0)
    # each epoch's loss is the mean of s² before each of its 10 steps; w − b = 1 stays fixed,
    # so s = w + b cancels and loses digits as it shrinks: a loose rtol in epoch 2.
    expected = [np.mean([0.2 ** (2 * step) for step in range(10 * e, 10 * e + 10)]) for e in range(2)]
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-6)


def test_the_progress_bar_is_closed_on_divergence(capfd):
    model, X, y = exploding_regression("float32", lr=1e6)
    with pytest.raises(fm.DivergenceError):
        model.fit(X, y, epochs=3, batch_size=1, verbose=1)
    _, err = capfd.readouterr()
    assert err.endswith("\n")
