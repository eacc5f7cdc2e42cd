"""Keras's CSVLogger and LambdaCallback, and Keras's batch-level hooks."""
import csv

import numpy as np
import pytest

import fastmlp as fm


def classifier_and_data():
    X, y = fm.datasets.make_blobs(n_samples=60, centers=3, random_state=0)
    model = fm.Sequential([fm.Dense(8, activation="relu"), fm.Dense(3, activation="softmax")], seed=0)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.1))
    return model, X, y


def test_csv_logger_writes_one_row_per_epoch_with_what_history_holds(tmp_path):
    model, X, y = classifier_and_data()
    path = tmp_path / "log.csv"
    history = model.fit(X, y, epochs=3, validation_split=0.2, verbose=0, callbacks=[fm.CSVLogger(path)])
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    assert set(rows[0]) == {"epoch", *history.history}
    for key, values in history.history.items():
        assert [float(row[key]) for row in rows] == values       # repr of a float reads back exactly
    # append=True continues the file without a second header
    model.fit(X, y, epochs=2, validation_split=0.2, verbose=0, callbacks=[fm.CSVLogger(path, append=True)])
    with open(path, newline="") as file:
        lines = file.read().splitlines()
    assert len(lines) == 1 + 3 + 2 and lines[0].startswith("epoch")


def test_csv_logger_takes_another_separator_and_refuses_a_long_one(tmp_path):
    model, X, y = classifier_and_data()
    path = tmp_path / "log.tsv"
    model.fit(X, y, epochs=1, verbose=0, callbacks=[fm.CSVLogger(path, separator="\t")])
    assert path.read_text().splitlines()[0] == "epoch\taccuracy\tloss"
    with pytest.raises(ValueError, match="separator must be one character"):
        fm.CSVLogger(path, separator="::")


def test_lambda_callback_calls_the_functions_it_is_given():
    model, X, y = classifier_and_data()
    calls = []
    callback = fm.LambdaCallback(on_train_begin=lambda logs: calls.append("begin"),
                                 on_epoch_end=lambda epoch, logs: calls.append((epoch, round(logs["loss"], 12))),
                                 on_train_end=lambda logs: calls.append("end"))
    history = model.fit(X, y, epochs=2, verbose=0, callbacks=[callback])
    assert calls == ["begin", (0, round(history.history["loss"][0], 12)), (1, round(history.history["loss"][1], 12)),
                     "end"]
    with pytest.raises(ValueError, match="on_epoch_end must be a callable"):
        fm.LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="on_predict_batch_end"):
        fm.LambdaCallback(on_predict_batch_end=print)


@pytest.mark.parametrize("hook", ["on_batch_end", "on_train_batch_end", "on_train_batch_begin", "on_batch_begin"])
def test_a_batch_level_hook_is_called_once_per_batch_in_order(hook):
    model, X, y = classifier_and_data()
    calls = []
    callback = type("PerBatch", (fm.Callback,), {hook: lambda self, batch, logs=None: calls.append((batch, logs))})()
    epoch_calls = fm.LambdaCallback(on_epoch_end=lambda epoch, logs: calls.append(("epoch", epoch)))
    model.fit(X, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback, epoch_calls])
    batches = [0, 1, 2, 3]  # 60 rows in batches of 16: 16, 16, 16, 12
    assert [call[0] for call in calls] == batches + ["epoch"] + batches + ["epoch"]
    if hook.endswith("end"):
        assert all(set(logs) == {"loss", "accuracy"} for batch, logs in calls if batch != "epoch")
    else:
        assert all(logs == {} for batch, logs in calls if batch != "epoch")


def test_batch_logs_are_the_running_mean_of_the_epoch_and_the_last_is_the_epochs():
    model, X, y = classifier_and_data()
    seen = []
    hook = fm.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))
    history = model.fit(X, y, epochs=1, batch_size=16, shuffle=False, verbose=0, callbacks=[hook])
    assert seen[-1]["loss"] == history.history["loss"][0]
    assert seen[-1]["accuracy"] == history.history["accuracy"][0]
    # Batch by batch, without shuffling, the running mean follows from train_batch on a twin.
    twin, _, _ = classifier_and_data()
    twin.build(X.shape[1])
    Y = np.eye(3)[y].astype(np.float32)
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    total, rows = 0.0, 0
    for index, start in enumerate(range(0, 60, 16)):
        batch = slice(start, start + 16)
        total += twin.engine.train_batch(X32[batch], Y[batch]) * len(X32[batch])
        rows += len(X32[batch])
        assert seen[index]["loss"] == pytest.approx(total / rows, rel=1e-6)


def test_stop_training_in_a_batch_hook_stops_after_that_batch():
    model, X, y = classifier_and_data()

    def stop_at_second(batch, logs):
        if batch == 1:
            model.stop_training = True

    epochs = []
    history = model.fit(X, y, epochs=5, batch_size=16, verbose=0,
                        callbacks=[fm.LambdaCallback(on_train_batch_end=stop_at_second,
                                                     on_epoch_end=lambda epoch, logs: epochs.append(epoch))])
    assert epochs == [0] and len(history.history["loss"]) == 1
    assert model.engine.optimizer_steps == 2


def test_without_a_batch_hook_the_engine_is_not_given_one():
    from fastmlp import callbacks

    model, X, y = classifier_and_data()
    assert callbacks.batch_hooks([fm.EarlyStopping(monitor="loss"), fm.History()], model) == (None, None)
    begin, end = callbacks.batch_hooks([fm.LambdaCallback(on_batch_end=print)], model)
    assert begin is None and end is not None
