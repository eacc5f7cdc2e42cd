"""scikit-learn's callback protocol (sklearn.callback, scikit-learn 1.9 and later) on the estimators.

As scikit-learn's own estimators do it (LogisticRegression with lbfgs): fit opens the root task
with ``_init_callback_context`` and calls its ``on_fit_task_begin``; every epoch of the
stochastic solvers is a subtask, begun before the epoch and ended after it with a fitted copy
of the estimator to score (a snapshot of the network, made only when a callback asks for
``fitted_estimator``); a callback whose ``on_fit_task_end`` returns True stops training after
that epoch; the root task ends after the last epoch; ``with_callbacks`` tears the callbacks
down whatever happens. L-BFGS fits and the perceptron report the root task only. With an older scikit-learn
the mixin and the decorator do nothing and ``set_callbacks`` does not exist.
"""
from __future__ import annotations

from .._model_state import snapshot
from ..callbacks import Callback

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
    HAS_SKLEARN_CALLBACKS = True
except ImportError:  # scikit-learn < 1.9
    HAS_SKLEARN_CALLBACKS = False

    class CallbackSupportMixin:  # type: ignore[no-redef]
        """scikit-learn without sklearn.callback: nothing to support."""

    def with_callbacks(method):  # type: ignore[no-redef]
        return method


def fitted_copy_attributes(estimator) -> dict:
    """What makes a copy of `estimator` predict as the estimator does now, whatever training does next."""
    return {"_model": snapshot(estimator._model), "_parameter_mirror": None}


class FitTasks:
    """The task tree of one fit: the root task and, through ``epoch_callback``, one subtask per epoch."""

    def __init__(self, estimator, X, y, sample_weight, epochs: int):
        self.estimator = estimator
        self.data = {"X": X, "y": y, "metadata": None if sample_weight is None else {"sample_weight": sample_weight}}
        self.root = None
        if HAS_SKLEARN_CALLBACKS and getattr(estimator, "_skl_callbacks", None):
            self.root = estimator._init_callback_context(max_subtasks=epochs)
            self.root.call_on_fit_task_begin(estimator=estimator, **self.data)

    def epoch_callback(self) -> list:
        """The fm callbacks that report each epoch as a subtask (none without sklearn callbacks, or
        when the root task has no subtasks)."""
        return [] if self.root is None or self.root.max_subtasks == 0 else [_EpochTasks(self)]

    def end(self) -> None:
        if self.root is not None:
            self.root.call_on_fit_task_end(estimator=self.estimator, reconstruction_attributes={}, **self.data)


class _EpochTasks(Callback):
    def __init__(self, tasks: FitTasks):
        self.tasks = tasks
        self.current = None

    def _attributes(self):
        return lambda: fitted_copy_attributes(self.tasks.estimator)

    def on_epoch_begin(self, epoch, logs=None):
        tasks = self.tasks
        self.current = tasks.root.subcontext(task_name="epoch")
        self.current.call_on_fit_task_begin(estimator=tasks.estimator, reconstruction_attributes=self._attributes(),
                                            **tasks.data)

    def on_epoch_end(self, epoch, logs=None):
        tasks = self.tasks
        stop = self.current.call_on_fit_task_end(estimator=tasks.estimator,
                                                 reconstruction_attributes=self._attributes(), **tasks.data)
        self.current = None
        if stop:
            self.model.stop_training = True
