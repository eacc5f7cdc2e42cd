"""Loss and metric curves per epoch: one run, or several runs overlaid on shared axes."""
from __future__ import annotations

import numpy as np

from ._common import color, finish, legend_outside, new_figure, require_matplotlib


def plot_history(history, metrics=None, path=None, figsize=None, dpi: int = 100, kept_epoch=None,
                 title: str | None = None, yscale: str = "linear"):
    """Loss and metric curves per epoch, training and validation in the same panel.

    Parameters
    ----------
    history : fm.History, dict, or several runs
        A History from fit(), or a dict mapping names ("loss", "val_loss", "accuracy",
        ...) to one value per epoch: one run. Several runs to compare, drawn on the same
        axes in one colour each (training solid, validation dashed): a dict mapping each
        run's name to its History (or to its dict of curves), or a list of Histories.
    metrics : list of str or None
        The quantities to draw, one panel each, named without "val_" (its val_ curve joins
        it when logged). None draws every logged quantity.
    path : str or path-like or None
        Save the figure there as a PNG.
    figsize : (width, height) in inches or None
        Default: 4.5 inches wide per panel (plus room for the legend), 3.5 high.
    dpi : int
    kept_epoch : int, fm.EarlyStopping, dict or None
        Mark the epoch whose weights the model kept: a 1-based epoch, or the EarlyStopping
        callback of the fit (its best_epoch); for several runs, a dict from run name to
        either.
    title : str or None
        A title over the whole figure.
    yscale : "linear" or "log"
        "log" shows runs whose losses differ by orders of magnitude.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_matplotlib()
    runs = _runs(history)
    metrics = _chosen_metrics(runs, metrics)
    kept = _kept_epochs(kept_epoch, runs)
    if yscale not in ("linear", "log"):
        raise ValueError(f"yscale must be 'linear' or 'log', got {yscale!r}")
    if figsize is None:
        figsize = (4.5 * len(metrics) + 1.6, 3.5)
    figure = new_figure(figsize, dpi)
    from matplotlib.ticker import MaxNLocator

    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    single = len(runs) == 1
    for ax, name in zip(axes, metrics):
        for index, (run, logs) in enumerate(runs.items()):
            _draw_run(ax, logs, name, run if not single else None, color(index), kept.get(run))
        ax.set_title(name.replace("_", " "))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(name.replace("_", " "))
        ax.set_yscale(yscale)
        ax.grid(True, alpha=0.3)
    if not single or any(f"val_{name}" in logs for logs in runs.values() for name in metrics) or kept:
        legend_outside(axes[-1])            # a single curve per panel needs no legend
    if title is not None:
        figure.suptitle(title)
    return finish(figure, path)


def _draw_run(ax, logs: dict, name: str, run, line_color, kept) -> None:
    for key, kind, style in ((name, "train", "-"), (f"val_{name}", "validation", "--")):
        values = logs.get(key)
        if not values:
            continue
        label = kind if run is None else (run if kind == "train" else f"{run} (validation)")
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, style, color=line_color, marker="o" if len(values) < 30 else None, markersize=3,
                label=label)
    if kept is not None:
        curve = logs.get(f"val_{name}") or logs.get(name)
        if curve and 1 <= kept <= len(curve):
            ax.axvline(kept, color=line_color, linestyle=":", linewidth=1.0)
            ax.plot([kept], [curve[kept - 1]], marker="*", markersize=12, color=line_color, linestyle="none",
                    markeredgecolor="k", label=f"weights kept: epoch {kept}" + ("" if run is None else f" ({run})"))


def _runs(history) -> dict:
    """{run name: {quantity: [one float per epoch]}}; the name of a single run is ""."""
    if isinstance(history, (list, tuple)) and history and all(hasattr(h, "history") for h in history):
        return {f"run {i + 1}": _history_dict(h) for i, h in enumerate(history)}
    if isinstance(history, dict) and history and all(
            hasattr(v, "history") or isinstance(v, dict) for v in history.values()):
        return {str(name): _history_dict(h) for name, h in history.items()}
    return {"": _history_dict(history)}


def _history_dict(history) -> dict:
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise ValueError(f"history must be an fm.History or a dict of per-epoch lists, got {type(history).__name__}")
    return {str(k): [float(v) for v in np.ravel(values)] for k, values in logs.items()}


def _chosen_metrics(runs: dict, metrics) -> list:
    logged = {}
    for logs in runs.values():
        logged.update(dict.fromkeys(logs))
    if metrics is None:
        metrics = [name for name in logged if not name.startswith("val_")]
        metrics += [name[4:] for name in logged if name.startswith("val_") and name[4:] not in logged]
    elif isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    if not metrics:
        raise ValueError("the history holds no values to plot: train the model for at least one epoch first")
    for name in metrics:
        if name not in logged and f"val_{name}" not in logged:
            raise ValueError(f"history has no {name!r}; it logged {', '.join(logged) or 'nothing'}")
    return metrics


def _kept_epochs(kept_epoch, runs: dict) -> dict:
    """{run name: 1-based epoch} from plot_history's kept_epoch."""
    if kept_epoch is None:
        return {}
    if isinstance(kept_epoch, dict):
        unknown = sorted(set(map(str, kept_epoch)) - set(runs))
        if unknown:
            raise ValueError(f"kept_epoch names runs {unknown} that are not among {sorted(runs)}")
        return {str(run): _one_kept_epoch(value) for run, value in kept_epoch.items()}
    if len(runs) > 1:
        raise ValueError("with several runs, kept_epoch must be a dict from run name to epoch")
    return {next(iter(runs)): _one_kept_epoch(kept_epoch)}


def _one_kept_epoch(value):
    if hasattr(value, "best_epoch"):          # an EarlyStopping callback: its best_epoch is 0-based
        return None if value.best_epoch is None else int(value.best_epoch) + 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"kept_epoch must be a 1-based epoch number or an EarlyStopping callback, got {value!r}")
    return int(value)
