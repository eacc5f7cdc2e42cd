"""Optimisers from Python: the learning rate in effect, Keras's spelling of it, clipping options.

A full-batch epoch without shuffling is exactly one optimiser step, so a step's arithmetic can
be checked through the public API: W ← W − lr·dW with dW from model.gradients at the same W.
"""
import numpy as np
import pytest

import fastmlp as fm


def regression_data(m=12, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=m)
    return X, y


def small_model(optimizer):
    model = fm.Sequential([fm.Dense(4, activation="tanh"), fm.Dense(1)], input_dim=3, dtype="float64", seed=1)
    model.compile(loss="mse", optimizer=optimizer)
    return model


def one_full_batch_epoch(model, X, y):
    model.fit(X, y, epochs=1, batch_size=len(X), shuffle=False, verbose=0)


def test_changing_lr_after_compile_changes_the_next_step():
    X, y = regression_data()
    model = small_model(fm.SGD(lr=0.1))
    one_full_batch_epoch(model, X, y)
    model.optimizer.lr = 0.05
    before = [(layer.W.copy(), layer.b.copy()) for layer in model.layers]
    grads = model.gradients(X, y)
    one_full_batch_epoch(model, X, y)
    for (W, b), grad, layer in zip(before, grads, model.layers):
        np.testing.assert_allclose(layer.W, W - 0.05 * grad.dW, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.b, b - 0.05 * grad.db, rtol=1e-12, atol=1e-14)


def test_learning_rate_is_kerass_name_for_the_same_rate():
    X, y = regression_data()
    model = small_model(fm.SGD(learning_rate=0.1))
    assert model.optimizer.lr == 0.1 and model.optimizer.learning_rate == 0.1
    one_full_batch_epoch(model, X, y)
    model.optimizer.learning_rate = 0.02
    assert model.optimizer.lr == 0.02
    W = model.layers[1].W.copy()
    dW = model.gradients(X, y)[1].dW
    one_full_batch_epoch(model, X, y)
    np.testing.assert_allclose(model.layers[1].W, W - 0.02 * dW, rtol=1e-12, atol=1e-14)
    assert fm.Adam(learning_rate=0.01).get_config()["lr"] == 0.01


def test_changing_adams_rate_keeps_its_moments():
    # Adam's step t uses its moments m and s; a rate change must not reset them. Two models
    # trained alike for 3 epochs, one at lr 0.01 throughout and one switched to 0.02 for the
    # third: the third step of the switched model is exactly twice as long, which holds only
    # if both kept the same moments (a reset would make the third step a first step again).
    X, y = regression_data()
    steady, switched = small_model(fm.Adam(lr=0.01)), small_model(fm.Adam(lr=0.01))
    for model in (steady, switched):
        one_full_batch_epoch(model, X, y)
        one_full_batch_epoch(model, X, y)
    start = steady.get_parameters()
    np.testing.assert_array_equal(start, switched.get_parameters())
    switched.optimizer.lr = 0.02
    one_full_batch_epoch(steady, X, y)
    one_full_batch_epoch(switched, X, y)
    np.testing.assert_allclose(switched.get_parameters() - start, 2 * (steady.get_parameters() - start),
                               rtol=1e-10, atol=1e-15)
    assert switched.engine.optimizer_steps == 3


def test_a_rate_set_before_build_is_the_one_the_engine_gets():
    X, y = regression_data()
    optimizer = fm.SGD(lr=0.3)
    model = fm.Sequential([fm.Dense(1)], dtype="float64", seed=0)
    model.compile(loss="mse", optimizer=optimizer)
    optimizer.lr = 0.01                     # not built yet: there is no engine to tell
    one_full_batch_epoch(model, X, y)       # builds the engine, from the optimiser as it is now
    assert model.engine.learning_rate == 0.01


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0.1, learning_rate=0.1), "lr or learning_rate"),
    (dict(learning_rate=-1), "learning_rate must be a positive"),
    (dict(lr=0), "lr must be a positive"),
])
def test_bad_learning_rates_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fm.SGD(**kwargs)


def test_an_invalid_rate_assigned_later_is_refused_and_changes_nothing():
    model = small_model(fm.SGD(lr=0.1))
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        model.optimizer.lr = float("nan")
    assert model.optimizer.lr == 0.1 and model.engine.learning_rate == 0.1


def test_unknown_keywords_are_still_refused_by_name():
    with pytest.raises(TypeError, match="beta_1"):
        fm.Adam(beta_1=0.9)


def test_a_copied_optimizer_steers_no_engine_of_the_original():
    import copy
    import pickle

    model = small_model(fm.SGD(lr=0.1, momentum=0.5))
    for clone in (copy.deepcopy(model.optimizer), pickle.loads(pickle.dumps(model.optimizer))):
        assert clone.get_config() == model.optimizer.get_config()
        clone.lr = 0.5
        assert model.engine.learning_rate == 0.1
