"""Callbacks: the hooks of fm.Callback, stop_training, fm.EarlyStopping and fm.ModelCheckpoint."""

import os

import numpy as np
import pytest

import fastmlp as fm


def blobs(n_samples=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 3
    X = rng.standard_normal((3, 4))[y] * 2 + rng.standard_normal((n_samples, 4))
    return X, y


def classifier(seed=0, lr=0.1):
    model = fm.Sequential([fm.Dense(5, activation="tanh"), fm.Dense(3, activation="softmax")],
                          input_dim=4, dtype="float64", seed=seed)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=lr, momentum=0.5))
    return model


class Recorder(fm.Callback):
    """Keeps every hook call and the model's parameters at the end of each epoch."""

    def __init__(self):
        self.calls = []
        self.parameters = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", None, dict(logs or {})))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch, dict(logs or {})))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs)))
        self.parameters.append(self.model.get_parameters())

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", None, dict(logs or {})))


class Script(fm.Callback):
    """Replaces a logged quantity by scripted values, so that later callbacks see them."""

    def __init__(self, values, key="loss"):
        self.values, self.key = values, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


# ---------------------------------------------------------------- the base class

def test_hooks_run_in_order_with_epoch_numbers_and_logs():
    X, y = blobs()
    model = classifier()
    recorder = Recorder()
    history = model.fit(X, y, epochs=3, validation_split=0.2, callbacks=[recorder], verbose=0)
    hooks = [(name, epoch) for name, epoch, _ in recorder.calls]
    assert hooks == [("train_begin", None),
                     ("epoch_begin", 0), ("epoch_end", 0),
                     ("epoch_begin", 1), ("epoch_end", 1),
                     ("epoch_begin", 2), ("epoch_end", 2),
                     ("train_end", None)]
    ends = [logs for name, _, logs in recorder.calls if name == "epoch_end"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [logs[key] for logs in ends] == history.history[key]


def test_callbacks_see_the_model_and_the_training_params():
    X, y = blobs()
    model = classifier()
    seen = {}

    class Look(fm.Callback):
        def on_train_begin(self, logs=None):
            seen["model"] = self.model
            seen["params"] = dict(self.params)

    model.fit(X, y, epochs=2, batch_size=7, validation_split=0.25, callbacks=[Look()], verbose=0)
    assert seen["model"] is model
    assert seen["params"] == {"epochs": 2, "batch_size": 7, "samples": 45,
                              "metrics": ["loss", "accuracy", "val_loss", "val_accuracy"]}


def test_parameters_at_epoch_end_are_those_after_that_epochs_updates():
    X, y = blobs()
    recorder, model = Recorder(), classifier()
    model.fit(X, y, epochs=3, shuffle=False, callbacks=[recorder], verbose=0)
    other = classifier()
    for epoch in range(3):
        other.fit(X, y, epochs=1, shuffle=False, verbose=0)
        np.testing.assert_array_equal(recorder.parameters[epoch], other.get_parameters())


def test_a_callback_stops_training_by_setting_stop_training():
    X, y = blobs()
    model = classifier()

    class StopAfterSecond(fm.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    recorder = Recorder()
    history = model.fit(X, y, epochs=10, callbacks=[StopAfterSecond(), recorder], verbose=0)
    assert history.epoch == [0, 1]
    assert [name for name, _, _ in recorder.calls][-1] == "train_end"
    # a later fit starts afresh
    assert len(model.fit(X, y, epochs=3, verbose=0).epoch) == 3


def test_callbacks_run_in_the_order_given_after_the_history():
    X, y = blobs()
    order = []

    class Named(fm.Callback):
        def __init__(self, name):
            self.name = name

        def on_epoch_end(self, epoch, logs=None):
            order.append((self.name, len(self.model.history.epoch)))

    classifier().fit(X, y, epochs=1, callbacks=[Named("a"), Named("b")], verbose=0)
    assert order == [("a", 1), ("b", 1)]          # the History already holds the epoch


def test_a_single_callback_needs_no_list():
    X, y = blobs()
    recorder = Recorder()
    classifier().fit(X, y, epochs=2, callbacks=recorder, verbose=0)
    assert len(recorder.parameters) == 2


def test_an_exception_in_a_callback_propagates_and_closes_the_bar(capfd):
    X, y = blobs()

    class Broken(fm.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        classifier().fit(X, y, epochs=3, callbacks=[Broken()], verbose=1)
    _, err = capfd.readouterr()
    assert err.endswith("\n")                      # the bar was closed, not left mid-line


# ---------------------------------------------------------------- EarlyStopping

@pytest.mark.parametrize("patience, stopped_epoch", [(0, 3), (1, 3), (2, 4), (3, 5), (4, None)])
def test_early_stopping_counts_patience_in_epochs_without_improvement(patience, stopped_epoch):
    # best at epoch 2; epochs 3, 4, 5 do not improve; epoch 6 would.
    losses = [5.0, 4.0, 3.0, 3.5, 3.0, 4.0, 1.0, 0.5]
    X, y = blobs()
    stopper = fm.EarlyStopping(monitor="loss", patience=patience)
    history = classifier().fit(X, y, epochs=len(losses), callbacks=[Script(losses), stopper], verbose=0)
    expected_epochs = len(losses) if stopped_epoch is None else stopped_epoch + 1
    assert len(history.epoch) == expected_epochs
    assert stopper.stopped_epoch == stopped_epoch
    assert stopper.best_epoch == (2 if stopped_epoch is not None else 7)


def test_early_stopping_min_delta_requires_a_large_enough_improvement():
    losses = [1.0, 0.95, 0.91, 0.80, 0.79]
    X, y = blobs()
    stopper = fm.EarlyStopping(monitor="loss", patience=1, min_delta=0.1)
    history = classifier().fit(X, y, epochs=5, callbacks=[Script(losses), stopper], verbose=0)
    # 0.95 is not better than 1.0 by more than 0.1: stop after epoch 1 with the best at epoch 0
    assert history.epoch == [0, 1]
    assert stopper.best_epoch == 0 and stopper.best == 1.0


def test_early_stopping_improvement_by_exactly_min_delta_is_not_enough():
    losses = [1.0, 0.5, 0.6]
    X, y = blobs()
    stopper = fm.EarlyStopping(monitor="loss", patience=5, min_delta=0.5)
    classifier().fit(X, y, epochs=3, callbacks=[Script(losses), stopper], verbose=0)
    assert stopper.best_epoch == 0


def test_early_stopping_mode_max_and_auto_for_accuracies():
    scores = [0.5, 0.7, 0.6, 0.65, 0.9]
    X, y = blobs()
    for mode in ("max", "auto"):
        stopper = fm.EarlyStopping(monitor="accuracy", patience=2, mode=mode)
        history = classifier().fit(X, y, epochs=5, callbacks=[Script(scores, "accuracy"), stopper], verbose=0)
        assert history.epoch == [0, 1, 2, 3] and stopper.best_epoch == 1
    # mode="min" on the same numbers treats the first as best
    stopper = fm.EarlyStopping(monitor="accuracy", patience=2, mode="min")
    classifier().fit(X, y, epochs=5, callbacks=[Script(scores, "accuracy"), stopper], verbose=0)
    assert stopper.best_epoch == 0 and stopper.stopped_epoch == 2


@pytest.mark.parametrize("monitor", ["loss", "val_loss", "val_accuracy"])
def test_early_stopping_restores_the_best_epochs_parameters_exactly(monitor):
    # A high learning rate makes the monitored quantities wander, so the best epoch is
    # rarely the last one; the check holds either way.
    X, y = blobs(n_samples=45)
    recorder = Recorder()
    stopper = fm.EarlyStopping(monitor=monitor, patience=3)
    model = classifier(lr=1.5)
    history = model.fit(X, y, epochs=12, validation_split=0.3, callbacks=[recorder, stopper], verbose=0)
    values = np.array(history.history[monitor])
    best = int(np.argmax(values) if "accuracy" in monitor else np.argmin(values))
    assert stopper.best_epoch == best
    assert stopper.best == values[best]
    np.testing.assert_array_equal(model.get_parameters(), recorder.parameters[best])


def test_early_stopping_restores_the_best_weights_also_when_it_does_not_stop():
    losses = [3.0, 1.0, 2.0, 2.5]
    X, y = blobs()
    recorder = Recorder()
    stopper = fm.EarlyStopping(monitor="loss", patience=10)
    model = classifier()
    history = model.fit(X, y, epochs=4, callbacks=[Script(losses), recorder, stopper], verbose=0)
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_epoch is None
    np.testing.assert_array_equal(model.get_parameters(), recorder.parameters[1])
    assert not np.array_equal(recorder.parameters[1], recorder.parameters[3])


def test_early_stopping_restores_when_stopping_early():
    losses = [3.0, 1.0, 2.0, 2.5, 0.1]
    X, y = blobs()
    recorder = Recorder()
    stopper = fm.EarlyStopping(monitor="loss", patience=2)
    model = classifier()
    history = model.fit(X, y, epochs=5, callbacks=[Script(losses), recorder, stopper], verbose=0)
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_epoch == 3
    np.testing.assert_array_equal(model.get_parameters(), recorder.parameters[1])


def test_early_stopping_without_restoring_keeps_the_last_weights():
    losses = [3.0, 1.0, 2.0, 2.5]
    X, y = blobs()
    recorder = Recorder()
    stopper = fm.EarlyStopping(monitor="loss", patience=2, restore_best_weights=False)
    model = classifier()
    model.fit(X, y, epochs=4, callbacks=[Script(losses), recorder, stopper], verbose=0)
    np.testing.assert_array_equal(model.get_parameters(), recorder.parameters[-1])


def test_the_same_early_stopping_can_serve_two_fits():
    X, y = blobs()
    stopper = fm.EarlyStopping(monitor="loss", patience=0)
    model = classifier()
    model.fit(X, y, epochs=3, callbacks=[Script([1.0, 2.0, 0.5]), stopper], verbose=0)
    assert stopper.stopped_epoch == 1
    history = model.fit(X, y, epochs=3, callbacks=[Script([9.0, 8.0, 7.0]), stopper], verbose=0)
    assert len(history.epoch) == 3 and stopper.best_epoch == 2 and stopper.best == 7.0


def test_design_default_monitors_val_loss():
    stopper = fm.EarlyStopping(patience=3)
    assert stopper.monitor == "val_loss" and stopper.mode == "min" and stopper.restore_best_weights


@pytest.mark.parametrize("monitor, kwargs, message", [
    ("val_loss", {}, r"EarlyStopping monitors 'val_loss', but training logs only accuracy, loss; "
                     r"pass validation data"),
    ("val_accuracy", {}, r"monitors 'val_accuracy', but training logs only accuracy, loss"),
    ("accuracy", {}, None),
])
def test_early_stopping_refuses_an_unlogged_quantity_before_training(monitor, kwargs, message):
    X, y = blobs()
    model = classifier()
    before = model.get_parameters()
    stopper = fm.EarlyStopping(monitor=monitor)
    if message is None:
        model.fit(X, y, epochs=1, callbacks=[stopper], verbose=0, **kwargs)
        return
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, epochs=3, callbacks=[stopper], verbose=0, **kwargs)
    np.testing.assert_array_equal(model.get_parameters(), before)     # not one epoch was trained


def test_early_stopping_on_a_name_nobody_logs_fails_at_the_first_epoch_end():
    X, y = blobs()
    with pytest.raises(ValueError, match=r"monitors 'val_acc', but training logs only accuracy, loss, "
                                         r"val_accuracy, val_loss"):
        classifier().fit(X, y, epochs=3, validation_split=0.2, callbacks=[fm.EarlyStopping(monitor="val_acc")],
                         verbose=0)


class LogF1(fm.Callback):
    """A user callback that adds its own quantity to each epoch's logs."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["f1"] = self.values[epoch]


def test_early_stopping_monitors_a_quantity_another_callback_logs():
    X, y = blobs()
    stopper = fm.EarlyStopping(monitor="f1", patience=1)            # mode "auto": higher is better
    history = classifier().fit(X, y, epochs=5, callbacks=[LogF1([0.2, 0.6, 0.5, 0.9, 1.0]), stopper], verbose=0)
    assert history.epoch == [0, 1, 2] and stopper.best_epoch == 1


def test_early_stopping_on_a_regressor_cannot_monitor_accuracy():
    model = fm.Sequential([fm.Dense(1)], input_dim=4)
    model.compile(loss="mse")
    X, _ = blobs()
    with pytest.raises(ValueError, match="monitors 'accuracy', but training logs only loss"):
        model.fit(X, X[:, 0], callbacks=[fm.EarlyStopping(monitor="accuracy")], verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"patience": -1}, "patience must be an integer >= 0"),
    ({"patience": 1.5}, "patience must be an integer >= 0"),
    ({"min_delta": -0.1}, "min_delta must be >= 0"),
    ({"min_delta": float("nan")}, "min_delta must be >= 0"),
    ({"mode": "lowest"}, "mode must be 'auto', 'min' or 'max'"),
    ({"monitor": ""}, "monitor must be the name of a logged quantity"),
    ({"monitor": None}, "monitor must be the name of a logged quantity"),
])
def test_early_stopping_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fm.EarlyStopping(**kwargs)


# ---------------------------------------------------------------- ModelCheckpoint

def test_checkpoint_every_epoch_saves_each_epochs_model(tmp_path):
    X, y = blobs()
    recorder = Recorder()
    checkpoint = fm.ModelCheckpoint(tmp_path / "ckpt-{epoch:03d}.fmlp")
    model = classifier()
    model.fit(X, y, epochs=3, callbacks=[recorder, checkpoint], verbose=0)
    names = sorted(os.listdir(tmp_path))
    assert names == ["ckpt-001.fmlp", "ckpt-002.fmlp", "ckpt-003.fmlp"]
    assert checkpoint.saved == [str(tmp_path / name) for name in names]
    for epoch, name in enumerate(names):
        np.testing.assert_array_equal(fm.load(tmp_path / name).get_parameters(), recorder.parameters[epoch])


def test_checkpoint_best_only_keeps_the_best_epoch(tmp_path):
    losses = [3.0, 1.0, 2.0, 0.5, 0.7]
    X, y = blobs()
    recorder = Recorder()
    checkpoint = fm.ModelCheckpoint(tmp_path / "best.fmlp", monitor="loss", save_best_only=True)
    model = classifier()
    model.fit(X, y, epochs=5, callbacks=[Script(losses), recorder, checkpoint], verbose=0)
    assert checkpoint.saved == [str(tmp_path / "best.fmlp")] * 3           # epochs 0, 1 and 3 improved
    np.testing.assert_array_equal(fm.load(tmp_path / "best.fmlp").get_parameters(), recorder.parameters[3])


def test_checkpoint_best_only_with_a_formatted_name_writes_one_file_per_improvement(tmp_path):
    X, y = blobs()
    checkpoint = fm.ModelCheckpoint(tmp_path / "m-{epoch:02d}-{val_accuracy:.3f}.fmlp", monitor="val_accuracy",
                                    save_best_only=True)
    history = classifier(lr=1.5).fit(X, y, epochs=6, validation_split=0.3, callbacks=[checkpoint], verbose=0)
    accuracy = history.history["val_accuracy"]
    improved = [e for e in range(6) if accuracy[e] > max(accuracy[:e], default=-1.0)]
    expected = [f"m-{e + 1:02d}-{accuracy[e]:.3f}.fmlp" for e in improved]
    assert sorted(os.listdir(tmp_path)) == sorted(expected)
    assert [os.path.basename(p) for p in checkpoint.saved] == expected


def test_checkpoint_file_predicts_like_the_model_at_that_epoch(tmp_path):
    X, y = blobs()
    predictions = []

    class Predict(fm.Callback):
        def on_epoch_end(self, epoch, logs=None):
            predictions.append(self.model.predict(X))

    model = classifier()
    model.fit(X, y, epochs=2, callbacks=[Predict(), fm.ModelCheckpoint(tmp_path / "e{epoch}.fmlp")], verbose=0)
    for epoch in range(2):
        np.testing.assert_array_equal(fm.load(tmp_path / f"e{epoch + 1}.fmlp").predict(X), predictions[epoch])


def test_checkpoint_creates_a_missing_folder(tmp_path):
    X, y = blobs()
    classifier().fit(X, y, epochs=1, callbacks=[fm.ModelCheckpoint(tmp_path / "runs" / "a" / "m.fmlp")],
                     verbose=0)
    assert (tmp_path / "runs" / "a" / "m.fmlp").is_file()


@pytest.mark.parametrize("name, message", [
    ("m-{val_loss:.2f}.fmlp", r"uses \{val_loss\}, but training logs only accuracy, loss"),
    ("m-{epoch", "cannot be formatted"),
    ("m-{0}.fmlp", "cannot be formatted"),
    ("m-{epoch:s}.fmlp", "cannot be formatted"),
])
def test_checkpoint_refuses_a_name_it_cannot_format_before_training(tmp_path, name, message):
    X, y = blobs()
    model = classifier()
    before = model.get_parameters()
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, epochs=2, callbacks=[fm.ModelCheckpoint(tmp_path / name)], verbose=0)
    np.testing.assert_array_equal(model.get_parameters(), before)
    assert os.listdir(tmp_path) == []


def test_checkpoint_names_a_field_nobody_logs_at_the_first_epoch_end(tmp_path):
    X, y = blobs()
    with pytest.raises(ValueError, match=r"cannot be formatted \(KeyError\('f2'\)\); it may use \{epoch\} and "
                                         r"the logged quantities accuracy, f1, loss"):
        classifier().fit(X, y, epochs=2, callbacks=[LogF1([0.5, 0.6]), fm.ModelCheckpoint(tmp_path / "{f2}.fmlp")],
                         verbose=0)
    assert os.listdir(tmp_path) == []


def test_checkpoint_names_a_file_with_a_quantity_another_callback_logs(tmp_path):
    X, y = blobs()
    checkpoint = fm.ModelCheckpoint(tmp_path / "m-{f1:.1f}.fmlp", monitor="f1", save_best_only=True)
    classifier().fit(X, y, epochs=3, callbacks=[LogF1([0.5, 0.4, 0.7]), checkpoint], verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["m-0.5.fmlp", "m-0.7.fmlp"]


def test_checkpoint_best_only_refuses_an_unlogged_quantity(tmp_path):
    X, y = blobs()
    checkpoint = fm.ModelCheckpoint(tmp_path / "m.fmlp", save_best_only=True)   # monitors val_loss
    with pytest.raises(ValueError, match="ModelCheckpoint monitors 'val_loss', but training logs only"):
        classifier().fit(X, y, epochs=2, callbacks=[checkpoint], verbose=0)


def test_checkpoint_every_epoch_needs_no_validation(tmp_path):
    X, y = blobs()
    checkpoint = fm.ModelCheckpoint(tmp_path / "m.fmlp")          # monitor is unused
    classifier().fit(X, y, epochs=1, callbacks=[checkpoint], verbose=0)
    assert (tmp_path / "m.fmlp").is_file()
