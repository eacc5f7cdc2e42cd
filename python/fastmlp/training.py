"""The epoch loop: the one place where a model's engine trains, whoever asks for it.

Sequential.fit, the estimators' SGD/Adam training and the perceptron rule all call
``train``. Per epoch it calls the callbacks' hooks (Keras's names), the engine's epoch over
mini-batches, the evaluation of the validation set, and the progress display; it refuses a
non-finite epoch with one wording (DivergenceError), the engine having kept the last finite
weights. Whatever decides to stop (fm.EarlyStopping, scikit-learn's rule, a user's
callback) is a callback that sets ``model.stop_training``.

Also here: the hold-out of a validation fraction (stratified for classifiers).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .callbacks import Callback, History, batch_hooks
from .errors import DivergenceError
from .inspection import layer_diagnostics
from .metrics import metric_value
from ._sparse import engine_input, is_sparse


def train(model, X, Y, weights, *, epochs: int, batch_size: int, shuffle: bool, callbacks: list,
          validation=None, verbose=0, learning_rate: tuple | None = None, initial_epoch: int = 0) -> None:
    """Train `model` (a built, compiled fm.Sequential) for at most `epochs` epochs.

    X (m, d) and Y (m, n_outputs) are ready for the engine (its dtype, C order; X may also be a
    SciPy sparse matrix of that dtype, which the engine trains on as it is); weights are
    the engine's per-sample weights or None; validation is (X_val, Y_val, weights_val) or
    None. Each epoch's logs carry "loss" (and "accuracy" for classifiers), and "val_loss"
    ("val_accuracy") when there is a validation set, and "learning_rate" (the rate in effect
    during the epoch) when a callback steers it (``logs_learning_rate = True``, as
    fm.LearningRateScheduler and fm.ReduceLROnPlateau declare). verbose: 0 silent, 1 a progress bar,
    2 one line per epoch. learning_rate, (name, value) for the DivergenceError's advice,
    defaults to the engine's ("learning rate", its current value). Epochs are numbered from
    initial_epoch up to epochs − 1, as Keras's fit(initial_epoch=) numbers them. The model's
    compiled metrics (fastmlp.metrics) are logged for both sets too.
    """
    engine = model.engine
    X = engine_input(X, engine.dtype)
    if validation is not None:
        validation = (engine_input(validation[0], engine.dtype), *validation[1:])
    log_rate = any(getattr(callback, "logs_learning_rate", False) for callback in callbacks)
    metrics = ["loss", "accuracy"] if model.is_classifier else ["loss"]
    metrics += list(getattr(model, "metrics", []))
    if validation is not None:
        metrics += [f"val_{name}" for name in metrics]
    params = {"epochs": epochs, "batch_size": batch_size, "samples": X.shape[0], "metrics": metrics}
    for callback in callbacks:
        callback.set_model(model)
        callback.set_params(params)
    model.stop_training = False
    for callback in callbacks:
        callback.on_train_begin({})
    main = next((name for name in metrics if name not in ("loss", "val_loss") and name.startswith("val_")),
                next((name for name in metrics if name != "loss"), None))
    progress = Progress(epochs, X.shape[0], verbose, main)
    batch_begin, batch_end = batch_hooks(callbacks, model)
    try:
        for epoch in range(initial_epoch, epochs):
            for callback in callbacks:
                callback.on_epoch_begin(epoch, {})
            rate = engine.learning_rate
            started = time.perf_counter()
            result = engine.train_epoch(X, Y, weights, batch_size, bool(shuffle), progress.within_epoch,
                                        batch_begin, batch_end)
            seconds = time.perf_counter() - started
            if not result.finite:
                raise divergence_error(epoch, epochs, *(learning_rate or ("learning rate", engine.learning_rate)))
            logs = _epoch_logs(model, result, validation, X, Y)
            if log_rate:
                logs["learning_rate"] = rate
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)
            progress.update(epoch, logs, X.shape[0] / max(seconds, 1e-12))
            if model.stop_training:
                progress.stop_early(epoch)
                break
    finally:
        progress.close()  # also when a callback raises or training diverges
    for callback in callbacks:
        callback.on_train_end({})


def _epoch_logs(model, result, validation, X, Y) -> dict:
    logs = {"loss": result.loss}
    if model.is_classifier:
        logs["accuracy"] = result.correct / result.samples
    extra = list(getattr(model, "metrics", []))
    if extra:
        P = model.engine.predict(X)
        logs.update({name: metric_value(name, P, Y) for name in extra})
    if validation is not None:
        val = model.engine.evaluate(*validation)
        logs["val_loss"] = val.loss
        if model.is_classifier:
            logs["val_accuracy"] = val.correct / val.samples
        if extra:
            P_val = model.engine.predict(validation[0])
            logs.update({f"val_{name}": metric_value(name, P_val, validation[1]) for name in extra})
    return logs


def divergence_error(epoch: int, epochs: int, learning_rate_name: str, learning_rate: float) -> DivergenceError:
    """The error for a non-finite loss or weights in the 0-based `epoch` of `epochs`."""
    kept = "the initial weights" if epoch == 0 else f"the weights at the end of epoch {epoch}"
    return DivergenceError(
        f"training diverged in epoch {epoch + 1} of {epochs}: the loss or the weights became NaN or infinite. "
        f"The model keeps {kept}, the last finite ones. Try a smaller {learning_rate_name} "
        f"(it is {learning_rate:g}) or standardise the inputs.", epoch=epoch + 1)


def check_validation_split(validation_split, validation_data) -> float:
    if validation_data is not None:
        if validation_split:
            raise ValueError("give validation_split or validation_data, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (X_val, y_val) or (X_val, y_val, sample_weight)")
    try:
        validation_split = float(validation_split)
    except (TypeError, ValueError):
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}") from None
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    return validation_split


def hold_out(X, Y, weights, fraction: float, seed: int, stratify: bool):
    """Split off ceil(fraction · m) rows for validation, chosen with the generator of `seed`:
    a shuffled subset, or for classifiers (stratify) one whose class proportions follow Y's.

    Returns (X_train, Y_train, weights_train, (X_val, Y_val, weights_val)); both parts keep
    the rows in their original order.
    """
    n = X.shape[0]
    n_val = int(math.ceil(n * fraction))
    if n_val < 1 or n - n_val < 1:
        raise ValueError(f"validation_split={fraction} leaves no samples for training or validation "
                         f"with {n} samples")
    rng = np.random.default_rng(seed)
    if stratify:
        labels = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0]
        val_index = _stratified_holdout(labels, n_val, rng)
    else:
        val_index = np.sort(rng.permutation(n)[:n_val])
    mask = np.zeros(n, dtype=bool)
    mask[val_index] = True
    train_w = None if weights is None else weights[~mask]
    val_w = None if weights is None else weights[mask]
    return X[~mask], Y[~mask], train_w, (X[mask], Y[mask], val_w)


def _stratified_holdout(labels: np.ndarray, n_val: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of a validation set of n_val rows whose class proportions follow `labels`."""
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse)
    exact = counts * (n_val / labels.shape[0])
    take = np.floor(exact).astype(int)
    remainder = n_val - take.sum()
    take[np.argsort(-(exact - take), kind="stable")[:remainder]] += 1
    chosen = [rng.permutation(np.flatnonzero(inverse == c))[:take[c]] for c in range(classes.size)]
    return np.sort(np.concatenate(chosen))


class DiagnosticsProbe(Callback):
    """fit(diagnostics=True): per-layer gradient norms, saturated and dead units after every
    epoch, measured on up to 512 evenly spaced rows (data sorted by class would bias a leading
    slice) and recorded in the History."""

    def __init__(self, model, X, Y, history: History):
        rows = np.linspace(0, X.shape[0] - 1, min(X.shape[0], 512)).astype(np.intp)
        probe = X[rows].toarray() if is_sparse(X) else X[rows]  # 512 rows at most: dense is small
        self.probe = (np.ascontiguousarray(probe), np.ascontiguousarray(Y[rows]))
        self.history = history
        self.set_model(model)

    def on_epoch_end(self, epoch, logs=None):
        self.history.record_diagnostics(layer_diagnostics(self.model, *self.probe))


# The progress line: "epoch 3/100 45%|####  | loss=0.2 val_loss=0.3 val_accuracy=0.9 12.3k samples/s",
# cut to the terminal's width by leaving out the other metrics, then by shortening names
# (val_accuracy -> val_acc), the bar keeping MIN_BAR columns; then by narrowing the bar to one.
MIN_BAR = 10
_SHORT_NAMES = {"accuracy": "acc", "val_accuracy": "val_acc", "learning_rate": "lr"}


def progress_postfix(logs: dict, samples_per_second: float, width: int, main: str | None = None,
                     narrowest: int | None = None) -> str:
    """The metrics part of the progress line, at most `width` characters, or `narrowest` when loss,
    val_loss, the main metric and the one throughput figure need more than `width`."""
    from tqdm import tqdm

    rate = f"{tqdm.format_sizeof(samples_per_second)} samples/s"
    required = [key for key in ("loss", "val_loss", main) if key is not None and key in logs]
    optional = [key for key in logs if key not in required]

    def text(keys: list, short: bool, with_rate: bool = True) -> str:
        return " ".join([f"{_SHORT_NAMES.get(k, k) if short else k}={logs[k]:.4g}" for k in keys]
                        + ([rate] if with_rate else []))

    for keys in ([*required, *optional[:n]] for n in range(len(optional), -1, -1)):
        for short in (False, True):
            if len(text(keys, short)) <= width:
                return text(keys, short)
    width = max(width, narrowest or 0)
    for shown in (text(required, False), text(required, True), text(required, True, with_rate=False)):
        if len(shown) <= width:
            return shown
    return shown[:width]


# tqdm's own {postfix} starts with ", " and its rate would be a second throughput figure: the line is
# the description, the percentage, the bar and our metrics, a field of the bar's format.
_BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {metrics}"


def _with_metrics(tqdm_class):
    class MetricsBar(tqdm_class):
        metrics = ""

        @property
        def format_dict(self):
            return {**super().format_dict, "metrics": self.metrics}

    return MetricsBar


class Progress:
    """A tqdm bar over all samples of all epochs, with the latest losses and the samples per second.

    The engine reports a few times a second during an epoch, so a long epoch moves the bar too.
    """

    def __init__(self, epochs: int, samples_per_epoch: int, verbose, main_metric: str | None = None):
        self.bar = None
        self.verbose = int(verbose)
        self.epochs = epochs
        self.samples_per_epoch = samples_per_epoch
        self.done_in_epoch = 0
        self.within_epoch = None
        self.main_metric = main_metric
        self.last: tuple = ({}, 0.0)  # the logs and samples/s last shown
        if self.verbose == 1:
            import shutil

            from tqdm.auto import tqdm  # tqdm.auto picks a notebook widget; loaded only for a bar
            self.width = shutil.get_terminal_size((80, 24)).columns - 1  # the last column would wrap
            # A notebook's widget reads ncols as pixels: it sizes itself.
            width = {} if tqdm.__module__.startswith("tqdm.notebook") else {"ncols": self.width}
            self.bar = _with_metrics(tqdm)(total=epochs * samples_per_epoch, unit="sample", leave=True, **width,
                                           bar_format=_BAR_FORMAT, desc=self._desc(0))
            self.within_epoch = self._advance

    def _desc(self, epoch: int) -> str:
        return f"epoch {epoch + 1}/{self.epochs}"

    def _advance(self, samples_done: int) -> None:
        if self.bar is not None:  # the engine reports only while the bar is open
            self.bar.update(samples_done - self.done_in_epoch)
        self.done_in_epoch = samples_done

    def update(self, epoch: int, logs: dict, samples_per_second: float) -> None:
        if self.bar is not None:
            self._advance(self.samples_per_epoch)
            self.done_in_epoch = 0
            self.last = (logs, samples_per_second)
            self._show(self._desc(min(epoch + 1, self.epochs - 1)))
        elif self.verbose == 2:
            shown = {key: f"{value:.4g}" for key, value in logs.items()}
            shown["samples/s"] = f"{samples_per_second:,.0f}"
            print(f"epoch {epoch + 1}: " + " ".join(f"{k}={v}" for k, v in shown.items()), flush=True)

    def _show(self, desc: str) -> None:
        if self.bar is None:
            return
        self.bar.set_description(desc, refresh=False)
        room = self.width - len(desc) - len(":  100%|| ")  # tqdm writes the desc as "desc: "
        logs, rate = self.last
        self.bar.metrics = progress_postfix(logs, rate, room - MIN_BAR, self.main_metric, narrowest=room - 1)
        self.bar.refresh()

    def stop_early(self, epoch: int) -> None:
        """Shrink the bar to the epochs that ran, so an early stop does not look unfinished."""
        if self.bar is not None:
            self.bar.total = (epoch + 1) * self.samples_per_epoch
            self._show(f"epoch {epoch + 1}/{self.epochs} (stopped early)")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
