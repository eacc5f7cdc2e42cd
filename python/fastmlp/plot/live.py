"""A callback that redraws the loss curves (and a 2-D decision boundary) while fit runs."""
from __future__ import annotations

import time

import numpy as np

from ..callbacks import Callback
from ._common import color, legend_outside, new_figure, require_matplotlib

# Drawing may take at most this share of the wall time: a redraw that took d seconds
# waits at least d / DRAW_BUDGET before the next one.
DRAW_BUDGET = 0.03


class LivePlot(Callback):
    """Redraw the loss curves while fit() runs; in Jupyter the figure updates in place.

    Parameters
    ----------
    X, y : arrays or None
        Two-feature data: the decision boundary is drawn beside the curves (the class
        regions the model predicts now, with the data on top). None draws curves only.
    metrics : list of str
        Quantities to draw, each with its val_ curve when logged.
    max_redraws_per_second : float
        At most this many redraws per second; whatever the rate, drawing takes at most 3%
        of the time (a slow redraw spaces the next ones out), so training slows by a few
        percent at most. The last epoch is always drawn.
    resolution : int
        Grid points along each axis of the decision boundary.
    display : bool or None
        Show the figure with IPython's display and update it in place; None does so only
        inside a Jupyter kernel. Elsewhere the callback only keeps ``figure`` up to date
        (save it with path=..., or read it afterwards).
    path : str or path-like or None
        Save the figure there after every redraw (a PNG).
    clock : callable
        Returns seconds; time.perf_counter by default (tests pass a fake one).

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    redraws : int
        How many times the figure was drawn.
    """

    def __init__(self, X=None, y=None, metrics=("loss",), max_redraws_per_second: float = 4.0,
                 resolution: int = 60, display: bool | None = None, path=None, clock=time.perf_counter):
        require_matplotlib()
        if not (isinstance(max_redraws_per_second, (int, float)) and max_redraws_per_second > 0):
            raise ValueError(f"max_redraws_per_second must be a positive number, got {max_redraws_per_second!r}")
        if isinstance(resolution, bool) or not isinstance(resolution, int) or not 2 <= resolution <= 400:
            raise ValueError(f"resolution must be an integer from 2 to 400, got {resolution!r}")
        self.X, self.y = _boundary_data(X, y)
        self.metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        self.min_interval = 1.0 / float(max_redraws_per_second)
        self.resolution = resolution
        self.display = display
        self.path = path
        self.clock = clock
        self.logs: dict = {}
        self.redraws = 0
        self.figure = None
        self._handle = None
        self._next_draw = -np.inf

    def on_train_begin(self, logs=None):
        self.logs = {}
        panels = len(self.metrics) + (self.X is not None)
        self.figure = new_figure((4.2 * panels + 1.4, 3.4), 90)
        self._axes = self.figure.subplots(1, panels, squeeze=False)[0]
        self._next_draw = self.clock() + self.min_interval   # a run shorter than that is drawn once, at its end
        if self.display is None:
            self.display = _in_jupyter()

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.logs.setdefault(key, []).append(float(value))
        if self.clock() >= self._next_draw:
            self._redraw()

    def on_train_end(self, logs=None):
        if self.logs:
            self._redraw()

    def _redraw(self) -> None:
        started = self.clock()
        self._draw_curves()
        if self.X is not None:
            self._draw_boundary(self._axes[-1])
        self._show()
        finished = self.clock()
        self.redraws += 1
        self._next_draw = finished + max(self.min_interval, (finished - started) / DRAW_BUDGET)

    def _draw_curves(self) -> None:
        epochs_done = 0
        for ax, name in zip(self._axes, self.metrics):
            ax.clear()
            for index, key in enumerate((name, f"val_{name}")):
                values = self.logs.get(key)
                if values:
                    epochs_done = len(values)
                    ax.plot(np.arange(1, len(values) + 1), values, "-" if index == 0 else "--", color=color(index),
                            label="train" if index == 0 else "validation")
            ax.set_title(name.replace("_", " "))
            ax.set_xlabel("epoch")
            ax.grid(True, alpha=0.3)
        legend_outside(self._axes[len(self.metrics) - 1])
        self.figure.suptitle(f"epoch {epochs_done}")

    def _draw_boundary(self, ax) -> None:
        from .boundary import _class_index, _grid, _predict_labels

        ax.clear()
        low, high, grid_x, grid_y, grid = _grid(self.X, self.resolution)
        predicted = _predict_labels(self.model, grid)
        classes = np.unique(np.concatenate([np.unique(self.y), np.unique(predicted)]))
        regions = _class_index(predicted, classes, "the model's predictions").reshape(grid_x.shape)
        from matplotlib.colors import BoundaryNorm, ListedColormap

        colors = [color(i) for i in range(len(classes))]
        norm = BoundaryNorm(np.arange(len(classes) + 1) - 0.5, len(classes))
        ax.pcolormesh(grid_x, grid_y, regions, cmap=ListedColormap(colors), norm=norm, alpha=0.3, shading="auto")
        data_index = _class_index(self.y, classes, "y")
        ax.scatter(self.X[:, 0], self.X[:, 1], c=[colors[i] for i in data_index], s=10, edgecolors="k",
                   linewidths=0.3)
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        ax.set_title("decision boundary")

    def _show(self) -> None:
        if self.display:
            from IPython.display import display

            if self._handle is None:
                self._handle = display(self.figure, display_id=True)
            else:
                self._handle.update(self.figure)
        if self.path is not None:
            self.figure.savefig(self.path, dpi=self.figure.dpi, format="png")


def _boundary_data(X, y):
    if X is None and y is None:
        return None, None
    if X is None or y is None:
        raise ValueError("LivePlot draws a decision boundary from X and y together: pass both, or neither")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"LivePlot's decision boundary needs 2 features: X must have shape (n_samples, 2), "
                         f"got {X.shape}")
    labels = np.asarray(y)
    labels = labels.argmax(axis=1) if labels.ndim == 2 and labels.shape[1] > 1 else labels.reshape(-1)
    if labels.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {labels.shape[0]}")
    return X, labels


def _in_jupyter() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), False in a terminal or a script."""
    import sys

    if "IPython" not in sys.modules:
        return False
    shell = sys.modules["IPython"].get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
