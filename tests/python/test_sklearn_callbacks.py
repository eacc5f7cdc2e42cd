"""scikit-learn's callback protocol (sklearn.callback, scikit-learn >= 1.9) on fastmlp's estimators:
set_callbacks, its ScoringMonitor and ProgressBar, one subtask per epoch, stopping from a
callback, teardown however fit ends. Skipped where the installed scikit-learn lacks it."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import fastmlp as fm

pytest.importorskip("sklearn")
sklearn_callback = pytest.importorskip("sklearn.callback")
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402


def blobs(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return rng.standard_normal((3, 4))[y] * 2.0 + rng.standard_normal((n, 4)), y


class Recorder:
    """A FitCallback that records every hook call: (hook, task_name, depth, score)."""

    def __init__(self, stop_after=None):
        self.calls = []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.calls.append(("begin", context.task_name, X.shape[0], y.shape[0]))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        score = None if fitted_estimator is None else accuracy_score(y, fitted_estimator.predict(X))
        self.calls.append(("end", context.task_name, context.task_id, score))
        return self.stop_after is not None and context.task_name == "epoch" and context.task_id >= self.stop_after


def quietly(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


def test_every_epoch_is_a_subtask_with_a_fitted_copy_of_its_weights():
    X, y = blobs()
    recorder = Recorder()
    model = fm.MLPClassifier(hidden_layer_sizes=(6,), max_iter=4, random_state=0, learning_rate_init=0.01)
    assert model.set_callbacks(recorder) is model
    quietly(lambda: model.fit(X, y))
    hooks = [call[0] for call in recorder.calls]
    assert hooks == ["setup", "begin"] + ["begin", "end"] * 4 + ["end", "teardown"]
    epochs = [call for call in recorder.calls if call[0] == "end" and call[1] == "epoch"]
    assert [call[2] for call in epochs] == [0, 1, 2, 3]
    # The copy scored after epoch k predicts as a fit stopped after k + 1 epochs.
    for k in (0, 3):
        shorter = fm.MLPClassifier(hidden_layer_sizes=(6,), max_iter=k + 1, random_state=0, learning_rate_init=0.01)
        quietly(lambda shorter=shorter: shorter.fit(X, y))
        assert epochs[k][3] == accuracy_score(y, shorter.predict(X))
    assert epochs[-1][3] == model.score(X, y)


def test_scoring_monitor_logs_one_score_per_epoch():
    X, y = blobs()
    monitor = sklearn_callback.ScoringMonitor(scoring="accuracy")
    model = fm.MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, tol=1e-1, n_iter_no_change=2, random_state=1)
    model.set_callbacks(monitor)
    quietly(lambda: model.fit(X, y))
    assert model.n_iter_ < 50  # stopped by scikit-learn's rule: the log counts the epochs that ran
    rows = monitor.get_logs().data
    epoch_rows = [row for row in rows if row["task_name"] == "epoch"]
    assert len(epoch_rows) == model.n_iter_
    assert epoch_rows[-1]["accuracy"] == model.score(X, y)
    assert all(0.0 <= row["accuracy"] <= 1.0 for row in epoch_rows)


def test_progress_bar_sees_every_epoch():
    pytest.importorskip("rich")
    ended = []

    class CountingBar(sklearn_callback.ProgressBar):
        def on_fit_task_end(self, estimator, context):
            ended.append(context.task_name)
            return super().on_fit_task_end(estimator, context)

    X, y = blobs()
    model = fm.MLPRegressor(hidden_layer_sizes=(5,), max_iter=6, random_state=0)
    model.set_callbacks(CountingBar())
    quietly(lambda: model.fit(X, X[:, 0]))
    assert ended == ["epoch"] * 6 + ["fit"]


def test_a_callback_can_stop_training_and_partial_fit_is_one_epoch():
    X, y = blobs()
    recorder = Recorder(stop_after=2)
    model = fm.MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0).set_callbacks(recorder)
    quietly(lambda: model.fit(X, y))
    assert model.n_iter_ == 3
    recorder.calls.clear()
    model.partial_fit(X, y)
    assert [call[1] for call in recorder.calls if call[0] == "end"] == ["epoch", "fit"]


def test_lbfgs_reports_the_fit_task_and_teardown_follows_an_error():
    X, y = blobs()
    recorder = Recorder()
    model = fm.MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5, random_state=0)
    quietly(lambda: model.set_callbacks(recorder).fit(X, y))
    assert [call[:2] for call in recorder.calls] == [("setup", "fit"), ("begin", "fit"), ("end", "fit"),
                                                      ("teardown", "fit")]
    recorder.calls.clear()
    with pytest.raises(ValueError):
        model.fit(X, y[:-1])  # refused before any task: nothing was set up, nothing to tear down

    class Failing(Recorder):
        def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
            raise RuntimeError("a callback failed")

    failing = Failing()
    with pytest.raises(RuntimeError, match="a callback failed"):
        fm.MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).set_callbacks(failing).fit(X, y)
    assert failing.calls[-1] == ("teardown", "fit")


def test_set_callbacks_refuses_what_is_not_a_callback():
    with pytest.raises(TypeError, match="FitCallback protocol"):
        fm.MLPRegressor().set_callbacks(object())
