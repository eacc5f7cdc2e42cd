"""Training callbacks, with Keras's hook names, and the History that fit() returns."""
from __future__ import annotations

import math
import os
import re
import string

import numpy as np


class Callback:
    """Base class: override any hook. ``self.model`` and ``self.params`` are set before
    training starts; ``params`` holds "epochs", "batch_size", "samples" (training rows) and
    "metrics" (the names each epoch's logs will carry, e.g. ["loss", "accuracy", "val_loss"]).

    A callback stops training by setting ``self.model.stop_training = True``.
    """

    model = None
    params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        pass

    def on_train_end(self, logs=None) -> None:
        pass

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        """Before training batch `batch` (0-based within the epoch); calls on_batch_begin, as Keras does.

        Cost: the engine trains a whole epoch in one C++ call; a callback that defines any of the
        batch hooks (this one, on_train_batch_end, or Keras's older on_batch_begin/on_batch_end)
        makes it take the GIL and call into Python around every batch: about 6 µs per batch
        measured once (benchmarks/bench_batch_hooks.py; AMD EPYC, avx2 engine, a busy machine),
        +20% on an epoch of batches of 32 through a 10-16-3 network, +7% with batches of 256
        and 128 units. A fit without such a callback never crosses per batch.
        """
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        """After batch `batch`'s update; logs hold "loss" (the mean over the epoch's batches so far,
        as Keras reports it) and "accuracy" for classifiers. Setting model.stop_training stops the
        epoch after this batch. Calls on_batch_end, as Keras does. Same cost as on_train_batch_begin."""
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs=None) -> None:
        pass

    def on_batch_end(self, batch: int, logs=None) -> None:
        pass


class History(Callback):
    """Per-epoch record of training.

    ``history`` maps each logged quantity ("loss", "accuracy", "val_loss", ...) to a list
    with one float per epoch; ``epoch`` lists the epoch numbers (0-based). When fit() runs
    with diagnostics=True, ``diagnostics`` maps "grad_norm", "saturated_fraction" and
    "dead_fraction" to one list per epoch with one value per layer.
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.diagnostics: dict[str, list[list[float]]] = {}
        self.params: dict = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))

    def record_diagnostics(self, values: dict) -> None:
        for key, per_layer in values.items():
            self.diagnostics.setdefault(key, []).append([float(v) for v in per_layer])

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


def _improvement_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    higher_is_better = ("acc", "score", "r2", "f1", "auc", "precision", "recall")
    return "max" if any(word in monitor.lower() for word in higher_is_better) else "min"


# What fit() itself can log. One of these that this run will not log (val_loss without
# validation data, accuracy for a regressor) is refused before the first epoch; other names
# may come from user callbacks that add to the logs, so they are looked for at each epoch end.
FIT_QUANTITIES = ("loss", "accuracy", "val_loss", "val_accuracy")


def _not_logged_by_this_fit(name: str, params: dict) -> bool:
    metrics = params.get("metrics")
    return metrics is not None and name in FIT_QUANTITIES and name not in metrics


def improves(value: float, best: float, mode: str, margin: float, strictly: bool = True) -> bool:
    """Whether `value` beats `best` by more than `margin` (by at least `margin` when not
    strictly): lower is better in mode "min", higher in "max". Keras's EarlyStopping counts
    strict progress beyond min_delta; scikit-learn's rule counts progress of at least tol."""
    if mode == "min":
        return value < best - margin if strictly else value <= best - margin
    return value > best + margin if strictly else value >= best + margin


class _AnyQuantity(dict):
    def __missing__(self, key):
        return 0.0


class _MonitorMixin:
    def _init_monitor(self, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a logged quantity, got {monitor!r}")
        self.monitor = monitor
        self.mode = _improvement_mode(monitor, mode)
        if not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.min_delta = float(min_delta)
        self.best = math.inf if self.mode == "min" else -math.inf

    def _check_monitor_is_logged(self) -> None:
        """Refuse, before the first epoch, a quantity of fit's own that this training will not log."""
        if _not_logged_by_this_fit(self.monitor, self.params):
            raise ValueError(f"{type(self).__name__} monitors {self.monitor!r}, but training logs only "
                             f"{', '.join(sorted(self.params['metrics']))}; pass validation data for val_* "
                             "quantities")

    def _current(self, logs) -> float:
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(f"{type(self).__name__} monitors {self.monitor!r}, but training logs only "
                             f"{', '.join(sorted(logs)) or 'nothing'}; pass validation data for val_* quantities")
        return float(logs[self.monitor])

    def _is_improvement(self, value: float) -> bool:
        return improves(value, self.best, self.mode, self.min_delta)


class _BestWeights:
    """Keeps the parameters of the best epoch so far and puts them back at the end."""

    _best_parameters = None

    def _keep_best_weights(self) -> None:
        self._best_parameters = self.model.get_parameters()

    def _restore_best_weights(self) -> None:
        if self._best_parameters is not None:
            self.model.set_parameters(self._best_parameters)
            self._best_parameters = None


class EarlyStopping(Callback, _MonitorMixin, _BestWeights):
    """Stop when the monitored quantity has not improved for `patience` epochs.

    An epoch improves when the quantity beats the best so far by more than `min_delta`
    (lower for losses, higher for accuracies: mode "auto"). Training stops at the end of
    the `patience`-th epoch in a row without improvement (Keras's meaning; patience=0
    stops at the first). With restore_best_weights (the default) the model ends with the
    weights of its best epoch, whether training stopped early or ran to the end.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, mode: str = "auto",
                 restore_best_weights: bool = True):
        self._init_monitor(monitor, mode, min_delta)
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"patience must be an integer >= 0, got {patience!r}")
        self.patience = int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self.best_epoch = None
        self.stopped_epoch = None
        self._best_parameters = None
        self._wait = 0

    def on_train_begin(self, logs=None):
        self._check_monitor_is_logged()
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.stopped_epoch = None
        self._best_parameters = None
        self._wait = 0

    def on_epoch_end(self, epoch, logs=None):
        value = self._current(logs)
        if self._is_improvement(value):
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best_weights:
                self._keep_best_weights()
            return
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights:
            self._restore_best_weights()


class ModelCheckpoint(Callback, _MonitorMixin):
    """Save the model after epochs: every epoch, or only when `monitor` improves.

    `filepath` may contain format fields: ``{epoch}`` (1-based) and any logged quantity,
    e.g. "ckpt-{epoch:03d}-{val_loss:.3f}.fmlp". Saving is atomic (see Sequential.save).
    """

    def __init__(self, filepath, monitor: str = "val_loss", save_best_only: bool = False, mode: str = "auto"):
        self.filepath = os.fspath(filepath)
        self.save_best_only = bool(save_best_only)
        self._init_monitor(monitor, mode)
        self.saved: list[str] = []

    def on_train_begin(self, logs=None):
        if self.save_best_only:
            self._check_monitor_is_logged()
        # Refuse before the first epoch what can be known now: a malformed pattern, and fields
        # naming quantities of fit's own that this run will not log.
        self._path(0, _AnyQuantity())
        for _, field, _, _ in string.Formatter().parse(self.filepath):
            name = re.split(r"[.\[]", field, maxsplit=1)[0] if field else ""
            if _not_logged_by_this_fit(name, self.params):
                raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} uses {{{name}}}, but training "
                                 f"logs only {', '.join(sorted(self.params['metrics']))}")
        self.best = math.inf if self.mode == "min" else -math.inf

    def _path(self, epoch: int, logs: dict) -> str:
        try:
            return self.filepath.format_map({**logs, "epoch": epoch + 1} if not isinstance(logs, _AnyQuantity)
                                            else _AnyQuantity(epoch=epoch + 1))
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as error:
            allowed = "named fields: {epoch} and logged quantities" if isinstance(logs, _AnyQuantity) else \
                f"{{epoch}} and the logged quantities {', '.join(sorted(logs))}"
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} cannot be formatted ({error!r}); "
                             f"it may use {allowed}") from None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = self._current(logs)
            if not self._is_improvement(value):
                return
            self.best = value
        path = self._path(epoch, logs)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.model.save(path)
        self.saved.append(path)


def callbacks_with_history(callbacks, model) -> list:
    """[History(), *callbacks], each given the model: the History first, so that a callback's
    on_epoch_end already finds the epoch in model.history. Refuses what is not a Callback."""
    callback_list: list[Callback] = [History()]
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    for callback in callbacks or []:
        if not isinstance(callback, Callback):
            raise ValueError(f"callbacks must be fm.Callback instances, got {callback!r}")
        callback_list.append(callback)
    for callback in callback_list:
        callback.set_model(model)
    return callback_list


# Keras's batch-level hooks: the engine calls into Python around every batch only for the
# callbacks that define one (overriding Callback's, or given to a LambdaCallback).
_BEGIN_HOOKS = ("on_train_batch_begin", "on_batch_begin")
_END_HOOKS = ("on_train_batch_end", "on_batch_end")


def _defines(callback, hooks) -> bool:
    return any(hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)
               for hook in hooks)


def batch_hooks(callbacks, model) -> tuple:
    """(begin, end) for the engine's train_epoch: None each unless a callback defines a batch hook."""
    begins = [callback for callback in callbacks if _defines(callback, _BEGIN_HOOKS)]
    ends = [callback for callback in callbacks if _defines(callback, _END_HOOKS)]
    if not begins and not ends:
        return None, None
    classify = model.is_classifier

    def begin(batch: int) -> None:
        for callback in begins:
            callback.on_train_batch_begin(batch, {})

    def end(batch: int, loss: float, correct: int, samples: int) -> bool:
        logs = {"loss": loss, "accuracy": correct / samples} if classify else {"loss": loss}
        for callback in ends:
            callback.on_train_batch_end(batch, dict(logs))
        return bool(model.stop_training)  # a begin hook's stop is honoured after that batch too

    return (begin if begins else None), end


class LambdaCallback(Callback):
    """A callback from plain functions, as Keras's: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)`` and ``on_train_batch_end(batch, logs)`` (or Keras's
    older ``on_batch_begin``/``on_batch_end``); the ones not given do nothing. A batch hook has
    the cost described in Callback.on_train_batch_begin."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, on_batch_begin=None, on_batch_end=None):
        given = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, "on_batch_begin": on_batch_begin,
                 "on_batch_end": on_batch_end}
        for name, function in given.items():
            if function is None:
                continue
            if not callable(function):
                raise ValueError(f"{name} must be a callable, got {function!r}")
            setattr(self, name, function)  # an instance attribute: the hook is overridden


class CSVLogger(Callback):
    """Writes one row per epoch to a CSV file: the epoch (0-based, as Keras) and every logged
    quantity, with a header row. ``append=True`` adds to an existing file without a second
    header; ``separator`` is the field separator."""

    def __init__(self, filename, separator: str = ",", append: bool = False):
        self.filename = os.fspath(filename)
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be one character, got {separator!r}")
        self.separator = separator
        self.append = bool(append)
        self._file = None
        self._writer = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs=None):
        import csv

        existed = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.separator)
        self._keys = None
        self._header_written = existed

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            if not self._header_written:
                self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(repr(float(logs[key])) if key in logs else "" for key in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
