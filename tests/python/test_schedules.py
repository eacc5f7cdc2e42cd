"""Learning-rate schedules epoch by epoch, LearningRateScheduler and ReduceLROnPlateau in fit.

The rates are worked out by hand from each schedule's formula; that the engine used them is
checked against a model trained one epoch at a time with the rate set by hand, bit for bit.
"""
import math

import numpy as np
import pytest

import fastmlp as fm


def test_step_decay_halves_every_three_epochs():
    # 0.1 · 0.5^⌊e/3⌋ for e = 0..7
    schedule = fm.schedules.StepDecay(0.1, drop=0.5, epochs_per_drop=3)
    assert [schedule(e) for e in range(8)] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]


def test_exponential_decay_smooth_and_staircase():
    smooth = fm.schedules.ExponentialDecay(0.2, decay_rate=0.5, decay_epochs=2)
    # 0.2 · 0.5^(e/2): 0.2, 0.2/√2, 0.1, 0.1/√2, 0.05
    np.testing.assert_allclose([smooth(e) for e in range(5)],
                               [0.2, 0.2 / math.sqrt(2), 0.1, 0.1 / math.sqrt(2), 0.05], rtol=1e-15)
    stairs = fm.schedules.ExponentialDecay(0.2, decay_rate=0.5, decay_epochs=2, staircase=True)
    assert [stairs(e) for e in range(5)] == [0.2, 0.2, 0.1, 0.1, 0.05]


def test_cosine_decay_from_the_initial_rate_to_alpha_times_it():
    # 1 · ((1 − 0.1) · ½(1 + cos(π e/4)) + 0.1): e = 0: 1; e = 1: 0.9 · 0.8535534 + 0.1;
    # e = 2: 0.9 · 0.5 + 0.1 = 0.55; e = 3: 0.9 · 0.1464466 + 0.1; e >= 4: 0.1.
    schedule = fm.schedules.CosineDecay(1.0, decay_epochs=4, alpha=0.1)
    expected = [1.0, 0.9 * (1 + math.sqrt(0.5)) / 2 + 0.1, 0.55, 0.9 * (1 - math.sqrt(0.5)) / 2 + 0.1, 0.1, 0.1]
    np.testing.assert_allclose([schedule(e) for e in range(6)], expected, rtol=1e-14)


@pytest.mark.parametrize("make, message", [
    (lambda: fm.schedules.StepDecay(0.1, drop=1.5), "drop must be in"),
    (lambda: fm.schedules.StepDecay(-0.1), "initial_learning_rate must be a positive"),
    (lambda: fm.schedules.ExponentialDecay(0.1, decay_rate=0.9, decay_epochs=0), "decay_epochs must be a positive"),
    (lambda: fm.schedules.CosineDecay(0.1, decay_epochs=10, alpha=2), "alpha must be in"),
    (lambda: fm.LearningRateScheduler(0.1), "schedule must be a callable"),
    (lambda: fm.ReduceLROnPlateau(factor=1.0), "factor must be in"),
    (lambda: fm.ReduceLROnPlateau(patience=-1), "patience must be an integer"),
    (lambda: fm.ReduceLROnPlateau(mode="up"), "mode must be"),
])
def test_bad_schedule_arguments_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def regression(m=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    return X, X @ np.array([0.5, -1.0, 2.0]) + 0.1 * rng.normal(size=m)


def model_for(lr=0.1):
    model = fm.Sequential([fm.Dense(5, activation="tanh"), fm.Dense(1)], input_dim=3, dtype="float64", seed=3)
    model.compile(loss="mse", optimizer=fm.SGD(lr=lr, momentum=0.9))
    return model


@pytest.mark.parametrize("schedule, takes_rate", [
    (fm.schedules.StepDecay(0.1, drop=0.5, epochs_per_drop=2), False),
    (fm.schedules.CosineDecay(0.1, decay_epochs=5, alpha=0.01), False),
    (lambda epoch: 0.1 / (1 + epoch), False),              # a callable of the epoch
    (lambda epoch, lr: lr * 0.9 if epoch else lr, True),   # Keras's (epoch, lr) form
], ids=["step", "cosine", "callable", "keras-form"])
def test_the_scheduled_rate_is_the_one_the_engine_uses_and_history_logs(schedule, takes_rate):
    X, y = regression()
    scheduled = model_for()
    history = scheduled.fit(X, y, epochs=5, batch_size=4, verbose=0,
                            callbacks=[fm.LearningRateScheduler(schedule)])
    by_hand, rates, lr = model_for(), [], 0.1
    for epoch in range(5):
        lr = schedule(epoch, lr) if takes_rate else schedule(epoch)
        rates.append(lr)
        by_hand.optimizer.lr = lr
        by_hand.fit(X, y, epochs=1, batch_size=4, verbose=0)
    np.testing.assert_array_equal(scheduled.get_parameters(), by_hand.get_parameters())
    assert history.history["learning_rate"] == rates
    assert scheduled.engine.learning_rate == rates[-1]


def test_reduce_lr_on_plateau_follows_kerass_rule():
    # Scores written into the logs by the callback before it; factor 0.5, patience 2, cooldown 1,
    # min_delta 0.01. Worked through Keras's rule (an epoch improves when score < best − 0.01):
    #  e0 1.00 best        e1 0.90 best        e2 0.95 wait 1      e3 0.92 wait 2 → lr 0.05, cooldown
    #  e4 0.91 cooldown ends, wait 1           e5 0.50 best        e6 0.60 wait 1
    #  e7 0.70 wait 2 → lr 0.025, cooldown     e8 0.80 wait 1      e9 0.90 wait 2 → lr 0.0125
    # The logged rate is the one in effect during the epoch.
    scores = [1.0, 0.9, 0.95, 0.92, 0.91, 0.5, 0.6, 0.7, 0.8, 0.9]

    class Scripted(fm.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = scores[epoch]

    X, y = regression()
    model = model_for()
    plateau = fm.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, cooldown=1, min_delta=0.01, mode="min")
    history = model.fit(X, y, epochs=10, batch_size=8, verbose=0, callbacks=[Scripted(), plateau])
    assert history.history["learning_rate"] == [0.1] * 4 + [0.05] * 4 + [0.025] * 2
    assert model.optimizer.lr == 0.0125 and model.engine.learning_rate == 0.0125


def test_reduce_lr_on_plateau_stops_at_min_lr_and_warns_without_its_quantity():
    X, y = regression()
    model = model_for()
    plateau = fm.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=0, min_delta=10.0, min_lr=0.002)
    model.fit(X, y, epochs=4, batch_size=8, verbose=0, callbacks=[plateau])
    # patience 0 and a min_delta no epoch beats: 0.1 → 0.01 → 0.002 (floored), then it stays.
    assert model.optimizer.lr == 0.002
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        model.fit(X, y, epochs=1, batch_size=8, verbose=0, callbacks=[fm.ReduceLROnPlateau()])
