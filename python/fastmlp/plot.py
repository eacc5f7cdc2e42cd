"""Pictures of training and of what a network computes (needs matplotlib: the `plot` extra).

Every function returns a matplotlib ``Figure`` built without pyplot (no global state, no
backend switching, safe in scripts, servers and notebooks) and saves it as a PNG when
given ``path``. In a notebook, a returned Figure displays itself.

    fm.plot.plot_history(history)                   loss and metric curves, train and validation
    fm.plot.plot_decision_boundary(model, X, y)     class regions of a 2-D classifier with its data
    fm.plot.plot_activations()                      each activation and its derivative side by side
    fm.plot.plot_gradient_flow(history)             per-layer gradient norms over epochs, log scale
"""
from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["plot_history", "plot_decision_boundary", "plot_activations", "plot_gradient_flow"]

DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def _require_matplotlib():
    """Import matplotlib, or say which extra installs it."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401
    except ImportError as error:
        raise ImportError("fastmlp's plots need matplotlib, an optional extra: pip install 'fastmlp[plot]'") \
            from error
    return matplotlib


def _figure(figsize, dpi):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def _finish(figure, path):
    """Save the figure as a PNG when a path is given (the extension picks another format)."""
    if path is not None:
        path = os.fspath(path)
        file_format = None if os.path.splitext(path)[1] else "png"
        figure.savefig(path, dpi=figure.dpi, format=file_format)
    return figure


# ---------------------------------------------------------------------------- history

def plot_history(history, metrics=None, path=None, figsize=None, dpi: int = 100):
    """Loss and metric curves per epoch, training and validation in the same panel.

    Parameters
    ----------
    history : fm.History or dict
        A History from fit(), or a dict mapping names ("loss", "val_loss", "accuracy",
        ...) to one value per epoch.
    metrics : list of str or None
        The quantities to draw, one panel each, named without "val_" (its val_ curve joins
        it when logged). None draws every logged quantity.
    path : str or path-like or None
        Save the figure there as a PNG.
    figsize : (width, height) in inches or None
        Default: 4.5 inches wide per panel, 3.5 high.
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    logs = _history_dict(history)
    if metrics is None:
        metrics = [name for name in logs if not name.startswith("val_")]
        metrics += [name[4:] for name in logs if name.startswith("val_") and name[4:] not in logs]
    elif isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    if not metrics:
        raise ValueError("the history holds no values to plot: train the model for at least one epoch first")
    for name in metrics:
        if name not in logs and f"val_{name}" not in logs:
            raise ValueError(f"history has no {name!r}; it logged {', '.join(logs) or 'nothing'}")
    if figsize is None:
        figsize = (4.5 * len(metrics), 3.5)
    figure = _figure(figsize, dpi)
    from matplotlib.ticker import MaxNLocator

    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    for ax, name in zip(axes, metrics):
        for key, label, style in ((name, "train", "-"), (f"val_{name}", "validation", "--")):
            values = logs.get(key)
            if values:
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, style, marker="o" if len(values) < 30 else None, markersize=3,
                        label=label)
        ax.set_title(name.replace("_", " "))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _finish(figure, path)


def _history_dict(history) -> dict:
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise ValueError(f"history must be an fm.History or a dict of per-epoch lists, got {type(history).__name__}")
    return {str(k): [float(v) for v in np.ravel(values)] for k, values in logs.items()}


# ---------------------------------------------------------------------- decision boundary

def plot_decision_boundary(model, X, y, resolution: int = 200, path=None, figsize=(5.5, 4.5), dpi: int = 100,
                           title: str | None = None):
    """Class regions of a classifier over the plane of its two features, with the data on top.

    Parameters
    ----------
    model : a fitted classifier with 2 input features
        An estimator with predict_proba (its argmax picks the class), any object with
        predict returning labels, or a Sequential, whose output activations decide: the
        largest of several outputs, > 0.5 for one sigmoid (or step) output, > 0 for one
        identity output (hinge).
    X : array of shape (n_samples, 2)
    y : array of shape (n_samples,) with class labels, or one-hot rows (n_samples, k)
    resolution : int
        Grid points along each axis.
    path : str or path-like or None
        Save the figure there as a PNG.
    figsize, dpi : figure size in inches and resolution
    title : str or None

    Returns
    -------
    matplotlib.figure.Figure
    """
    matplotlib = _require_matplotlib()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        shape = X.shape if X.ndim == 2 else f"a {X.ndim}-D array of shape {X.shape}"
        raise ValueError(f"plot_decision_boundary draws the plane of 2 features: X must have shape (n_samples, 2), "
                         f"got {shape}; pick two columns (X[:, [i, j]]) or reduce the data to 2-D first")
    if X.shape[0] == 0:
        raise ValueError("X is empty: there is nothing to draw")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity")
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1)
    if labels.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {labels.shape[0]}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")

    low, high = X.min(axis=0), X.max(axis=0)
    margin = np.maximum((high - low) * 0.08, 1e-3)
    low, high = low - margin, high + margin
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    predicted = _predict_labels(model, grid)

    classes = getattr(model, "classes_", None)
    if classes is None:
        classes = np.unique(np.concatenate([np.unique(labels), np.unique(predicted)]))
    classes = np.asarray(classes)
    data_index = _class_index(labels, classes, "y")
    grid_index = _class_index(predicted, classes, "the model's predictions").reshape(grid_x.shape)

    from matplotlib.colors import BoundaryNorm, ListedColormap

    palette = matplotlib.colormaps["tab10"].colors
    colors = [palette[i % len(palette)] for i in range(len(classes))]
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(len(classes) + 1) - 0.5, len(classes))
    figure = _figure(figsize, dpi)
    ax = figure.subplots()
    ax.pcolormesh(grid_x, grid_y, grid_index, cmap=cmap, norm=norm, alpha=0.3, shading="auto")
    if len(classes) > 1:
        ax.contour(grid_x, grid_y, grid_index, levels=np.arange(len(classes) - 1) + 0.5, colors="k",
                   linewidths=0.8)
    for index, label in enumerate(classes):
        chosen = data_index == index
        if chosen.any():
            ax.scatter(X[chosen, 0], X[chosen, 1], s=14, color=colors[index], edgecolors="k", linewidths=0.4,
                       label=str(label))
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("feature 0")
    ax.set_ylabel("feature 1")
    ax.set_title(title if title is not None else f"decision boundary of {type(model).__name__}")
    ax.legend(title="class", loc="best", fontsize="small")
    return _finish(figure, path)


def _predict_labels(model, grid: np.ndarray) -> np.ndarray:
    from .model import Sequential

    if isinstance(model, Sequential):
        outputs = np.asarray(model.predict(grid), dtype=np.float64)
        if outputs.shape[1] > 1:
            return outputs.argmax(axis=1)
        activation = model.layers[-1].activation
        threshold = 0.0 if activation == "identity" or model.loss == "hinge" else 0.5
        if activation not in ("sigmoid", "step", "identity") or (activation == "identity" and model.loss == "mse"):
            raise ValueError(f"plot_decision_boundary needs a classifier; the model's single {activation} output "
                             "is not one (sigmoid, step or identity/hinge outputs are)")
        return (outputs[:, 0] > threshold).astype(np.int64)
    if hasattr(model, "predict_proba"):
        probabilities = np.asarray(model.predict_proba(grid))
        classes = getattr(model, "classes_", None)
        index = probabilities.argmax(axis=1)
        return index if classes is None else np.asarray(classes)[index]
    if hasattr(model, "predict"):
        return np.asarray(model.predict(grid)).reshape(-1)
    raise ValueError(f"plot_decision_boundary needs a classifier with predict or predict_proba, "
                     f"got {type(model).__name__}")


def _class_index(labels: np.ndarray, classes: np.ndarray, what: str) -> np.ndarray:
    order = np.argsort(classes, kind="stable")
    positions = np.searchsorted(classes[order], labels)
    positions = np.clip(positions, 0, len(classes) - 1)
    index = order[positions]
    unknown = classes[index] != labels
    if np.any(unknown):
        raise ValueError(f"{what} contains labels {np.unique(labels[unknown])[:5].tolist()} that are not among "
                         f"the model's classes {classes.tolist()}")
    return index


# ---------------------------------------------------------------------------- activations

def plot_activations(names=None, z_range=(-5.0, 5.0), negative_slope: float = 0.1, path=None, figsize=None,
                     dpi: int = 100, points: int = 401):
    """Each activation f(z) and its derivative f'(z) side by side, as the engine computes them.

    The curves come from the C++ engine (``fastmlp._core.activate`` and
    ``activation_derivative``), so the picture shows exactly what training uses. The
    derivative panel marks the largest value of f' (0.25 for sigmoid: the root of the
    vanishing-gradient problem).

    Parameters
    ----------
    names : list of str or None
        Activations to draw, one row each; default sigmoid, tanh, relu, leaky_relu. Any
        elementwise activation works (identity, elu, softplus, silu, step); softmax acts on
        whole rows and has no curve.
    z_range : (low, high)
    negative_slope : float
        The α of leaky_relu (0.1 by default so the slope is visible).
    path : str or path-like or None
        Save the figure there as a PNG.
    figsize : (width, height) or None
        Default: 8 inches wide, 2.2 inches per activation.
    dpi : int
    points : int
        Points along z.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    from . import _core
    from .layers import canonical_activation

    names = list(DEFAULT_ACTIVATIONS if names is None else ([names] if isinstance(names, str) else names))
    if not names:
        raise ValueError("names is empty: give at least one activation")
    names = [canonical_activation(name) for name in names]
    if "softmax" in names:
        raise ValueError("softmax acts on a whole row of outputs, not on each z alone, so it has no curve f(z); "
                         "leave it out of names")
    low, high = (float(v) for v in z_range)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"z_range must be two finite numbers (low, high) with low < high, got {z_range!r}")
    if figsize is None:
        figsize = (8.0, 2.2 * len(names) + 0.4)
    z = np.linspace(low, high, int(points)).reshape(1, -1)
    figure = _figure(figsize, dpi)
    axes = figure.subplots(len(names), 2, squeeze=False, sharex=True)
    for row, name in enumerate(names):
        values = _core.activate(name, z, negative_slope)[0]
        label = f"leaky_relu (α={negative_slope:g})" if name == "leaky_relu" else name
        left, right = axes[row]
        left.plot(z[0], values, color="C0", label=name)
        left.set_ylabel(label)
        if name == "step":
            derivative = np.zeros_like(values)
            right.text(0.5, 0.6, "0 almost everywhere: no gradient to learn from", transform=right.transAxes,
                       ha="center", fontsize="small")
        else:
            derivative = _core.activation_derivative(name, z, negative_slope)[0]
            peak = float(derivative.max())
            right.axhline(peak, color="0.6", linestyle=":", linewidth=0.8)
            right.annotate(f"max f' = {peak:.3g}", xy=(0.02, 0.85), xycoords="axes fraction", fontsize="small")
        right.plot(z[0], derivative, color="C1", label=f"{name}'")
        for ax in (left, right):
            ax.axhline(0.0, color="0.8", linewidth=0.6, zorder=0)
            ax.axvline(0.0, color="0.8", linewidth=0.6, zorder=0)
            ax.grid(True, alpha=0.3)
        if row == 0:
            left.set_title("f(z)")
            right.set_title("f'(z)")
    axes[-1][0].set_xlabel("z")
    axes[-1][1].set_xlabel("z")
    return _finish(figure, path)


# ---------------------------------------------------------------------------- gradient flow

def plot_gradient_flow(history_or_diagnostics, X=None, y=None, path=None, figsize=(6.5, 4.0), dpi: int = 100,
                       title: str | None = None):
    """Per-layer gradient norms ‖dW‖ on a log scale: the picture of vanishing gradients.

    Parameters
    ----------
    history_or_diagnostics :
        - an fm.History from fit(..., diagnostics=True), or its ``diagnostics`` dict
          ({"grad_norm": [[one value per layer] per epoch], ...}): one line per layer over
          the epochs;
        - one epoch's norms: a list with one value per layer, the dict that
          layer_diagnostics returns, or a Diagnosis from model.diagnose: a bar per layer;
        - a compiled Sequential, with X and y: a bar per layer of its gradient norms on
          (X, y) at its current weights (e.g. at initialisation).
    X, y : data, only with a model
    path : str or path-like or None
        Save the figure there as a PNG.
    figsize, dpi : figure size in inches and resolution
    title : str or None

    Norms that are 0 (or nan) cannot sit on a log axis and are left out of the picture.

    Returns
    -------
    matplotlib.figure.Figure
    """
    matplotlib = _require_matplotlib()
    from .model import Sequential

    source = history_or_diagnostics
    if isinstance(source, Sequential):
        if X is None or y is None:
            raise ValueError("plotting a model's gradient flow needs data: plot_gradient_flow(model, X, y)")
        from .inspection import diagnose

        source = diagnose(source, X, y)
    elif X is not None or y is not None:
        raise ValueError("X and y are only used with a model (plot_gradient_flow(model, X, y)); "
                         "to save the figure, pass path=...")
    norms = _gradient_norms(source)
    figure = _figure(figsize, dpi)
    ax = figure.subplots()
    ax.set_yscale("log")
    positive = np.where(norms > 0, norms, np.nan)
    if not np.any(np.isfinite(positive)):
        raise ValueError("every gradient norm is 0 or nan: there is nothing to draw on a log scale")
    n_epochs, n_layers = positive.shape
    colormap = matplotlib.colormaps["viridis"]
    colors = [colormap(i / max(n_layers - 1, 1)) for i in range(n_layers)]
    if n_epochs == 1:
        layers = np.arange(n_layers)
        shown = np.isfinite(positive[0])
        ax.bar(layers[shown], positive[0][shown], color=[c for c, s in zip(colors, shown) if s])
        ax.set_xticks(layers)
        ax.set_xlabel("layer (model.layers index; 0 is next to the input)")
        default_title = "gradient norm per layer"
    else:
        epochs = np.arange(1, n_epochs + 1)
        for layer in range(n_layers):
            ax.plot(epochs, positive[:, layer], color=colors[layer], label=f"layer {layer}",
                    marker="o" if n_epochs < 30 else None, markersize=3)
        ax.set_xlabel("epoch")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="small", ncol=2 if n_layers > 6 else 1, loc="best")
        default_title = "gradient norm per layer over training"
    ax.set_ylabel("‖dW‖ (Frobenius norm)")
    ax.set_title(title if title is not None else default_title)
    ax.grid(True, which="both", alpha=0.3)
    return _finish(figure, path)


def _gradient_norms(source) -> np.ndarray:
    """(n_epochs, n_layers) array of gradient norms from any of plot_gradient_flow's inputs."""
    if hasattr(source, "diagnostics") and isinstance(source.diagnostics, dict):
        if "grad_norm" not in source.diagnostics or not source.diagnostics["grad_norm"]:
            raise ValueError("this History has no diagnostics: train with model.fit(..., diagnostics=True)")
        source = source.diagnostics["grad_norm"]
    elif hasattr(source, "grad_norm"):
        source = source.grad_norm
    elif isinstance(source, dict):
        if "grad_norm" not in source:
            raise ValueError(f"a diagnostics dict needs a 'grad_norm' entry; got keys {sorted(source)}")
        source = source["grad_norm"]
    try:
        norms = np.asarray(source, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError("gradient norms must be numbers: one per layer, or one list per epoch") from error
    if norms.ndim == 1:
        norms = norms.reshape(1, -1)
    if norms.ndim != 2 or norms.size == 0:
        raise ValueError(f"gradient norms must be one value per layer or one list per epoch, got shape {norms.shape}")
    return norms
