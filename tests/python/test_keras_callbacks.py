"""Keras's CSVLogger and LambdaCallback, and the refusal of batch-level hooks fastmlp never calls."""
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
    with pytest.raises(TypeError, match="on_batch_end"):
        fm.LambdaCallback(on_batch_end=print)


@pytest.mark.parametrize("hook", ["on_batch_end", "on_train_batch_end", "on_train_batch_begin"])
def test_a_batch_level_hook_is_refused_rather_than_never_called(hook):
    model, X, y = classifier_and_data()
    callback = type("PerBatch", (fm.Callback,), {hook: lambda self, batch, logs=None: None})()
    before = model.get_parameters() if model.built else None
    with pytest.raises(ValueError, match=f"PerBatch defines {hook}, which fastmlp never calls"):
        model.fit(X, y, epochs=1, verbose=0, callbacks=[callback])
    if before is not None:
        np.testing.assert_array_equal(model.get_parameters(), before)
