"""Class regions of a 2-feature classifier: the regions, a probability, or an SVM's margin."""
from __future__ import annotations

import numpy as np

from ._common import PALETTE, finish, legend_outside, new_figure, require_matplotlib

SHOWS = ("classes", "probability", "margin")


def plot_decision_boundary(model, X, y, resolution: int = 200, path=None, figsize=(6.5, 4.5), dpi: int = 100,
                           title: str | None = None, show: str = "classes"):
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
    show : "classes", "probability" or "margin"
        "classes" shades each predicted class. "probability" (two classes) shades
        p(class 1) from 0 to 1 with a colour bar and draws the p = 0.5 contour: the
        logistic unit's picture. "margin" (one identity output trained on hinge, or an
        estimator's decision_function) draws z = 0 and the margins z = ±1 and rings the
        support vectors, the samples with t·z ≤ 1 that shape the line: the SVM's picture.

    Returns
    -------
    matplotlib.figure.Figure
    """
    matplotlib = require_matplotlib()
    X, labels = _checked_data(X, y, resolution, show)
    low, high, grid_x, grid_y, grid = _grid(X, resolution)
    predicted = _predict_labels(model, grid)
    classes = getattr(model, "classes_", None)
    if classes is None:
        classes = np.unique(np.concatenate([np.unique(labels), np.unique(predicted)]))
    classes = np.asarray(classes)
    data_index = _class_index(labels, classes, "y")
    grid_index = _class_index(predicted, classes, "the model's predictions").reshape(grid_x.shape)

    from matplotlib.colors import BoundaryNorm, ListedColormap

    colors = [PALETTE[i % len(PALETTE)] for i in range(len(classes))]
    figure = new_figure(figsize, dpi)
    ax = figure.subplots()
    if show == "probability":
        _shade_probability(figure, ax, model, grid, grid_x, grid_y, matplotlib)
    else:
        norm = BoundaryNorm(np.arange(len(classes) + 1) - 0.5, len(classes))
        ax.pcolormesh(grid_x, grid_y, grid_index, cmap=ListedColormap(colors), norm=norm, alpha=0.3,
                      shading="auto")
        if len(classes) > 1 and show == "classes":
            ax.contour(grid_x, grid_y, grid_index, levels=np.arange(len(classes) - 1) + 0.5, colors="k",
                       linewidths=0.8)
    if show == "margin":
        _draw_margin(ax, model, X, data_index, grid, grid_x, grid_y)
    for index, label in enumerate(classes):
        chosen = data_index == index
        if chosen.any():
            ax.scatter(X[chosen, 0], X[chosen, 1], s=14, color=colors[index], edgecolors="k", linewidths=0.4,
                       label=str(label), zorder=3)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("feature 0")
    ax.set_ylabel("feature 1")
    ax.set_title(title if title is not None else f"decision boundary of {type(model).__name__}")
    legend_outside(ax, title="class")
    return finish(figure, path)


def _checked_data(X, y, resolution, show):
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
    if show not in SHOWS:
        raise ValueError(f"show must be one of {', '.join(SHOWS)}, got {show!r}")
    return X, labels


def _grid(X, resolution):
    low, high = X.min(axis=0), X.max(axis=0)
    margin = np.maximum((high - low) * 0.08, 1e-3)
    low, high = low - margin, high + margin
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    return low, high, grid_x, grid_y, np.column_stack([grid_x.ravel(), grid_y.ravel()])


def _shade_probability(figure, ax, model, grid, grid_x, grid_y, matplotlib):
    probability = class_one_probability(model, grid).reshape(grid_x.shape)
    mesh = ax.pcolormesh(grid_x, grid_y, probability, cmap=matplotlib.colormaps["PuOr_r"], vmin=0.0, vmax=1.0,
                         alpha=0.55, shading="auto")
    ax.contour(grid_x, grid_y, probability, levels=[0.1, 0.9], colors="0.2", linewidths=0.9, linestyles=":")
    ax.contour(grid_x, grid_y, probability, levels=[0.5], colors="k", linewidths=1.4)
    bar = figure.colorbar(mesh, ax=ax, location="bottom", shrink=0.8, pad=0.02)
    bar.set_label("p(class 1); solid: p = 0.5, dotted: 0.1 and 0.9")


def class_one_probability(model, grid: np.ndarray) -> np.ndarray:
    """p(class 1) of a two-class model on the rows of grid."""
    from ..model import Sequential

    if isinstance(model, Sequential):
        outputs = np.asarray(model.predict(grid), dtype=np.float64)
        if outputs.shape[1] == 1 and model.layers[-1].activation == "sigmoid":
            return outputs[:, 0]
        if outputs.shape[1] == 2 and model.layers[-1].activation == "softmax":
            return outputs[:, 1]
    elif hasattr(model, "predict_proba"):
        probabilities = np.asarray(model.predict_proba(grid), dtype=np.float64)
        if probabilities.ndim == 2 and probabilities.shape[1] == 2:
            return probabilities[:, 1]
    raise ValueError("show='probability' needs a two-class model with probabilities: one sigmoid output, two "
                     "softmax outputs, or an estimator whose predict_proba has two columns")


def decision_values(model, X: np.ndarray) -> np.ndarray:
    """z of a single-output linear-margin model (identity output, or decision_function)."""
    from ..model import Sequential

    if isinstance(model, Sequential):
        if model.layers[-1].units == 1 and model.layers[-1].activation == "identity":
            return np.asarray(model.predict(X), dtype=np.float64)[:, 0]
    elif hasattr(model, "decision_function"):
        values = np.asarray(model.decision_function(X), dtype=np.float64)
        if values.ndim == 1:
            return values
    raise ValueError("show='margin' needs a model with one raw output z: a Sequential whose single output is "
                     "identity (hinge loss), or an estimator whose decision_function gives one value per sample")


def _draw_margin(ax, model, X, data_index, grid, grid_x, grid_y):
    z_grid = decision_values(model, grid).reshape(grid_x.shape)
    ax.contour(grid_x, grid_y, z_grid, levels=[-1.0, 0.0, 1.0], colors="k", linewidths=[0.9, 1.6, 0.9],
               linestyles=["--", "-", "--"])
    t = np.where(data_index == data_index.max(), 1.0, -1.0)
    support = t * decision_values(model, X) <= 1.0
    ax.scatter(X[support, 0], X[support, 1], s=70, facecolors="none", edgecolors="k", linewidths=1.0, zorder=4,
               label=f"support vectors (t·z ≤ 1): {int(support.sum())}")
    ax.plot([], [], "k-", label="z = 0")
    ax.plot([], [], "k--", label="margins z = ±1")


def _predict_labels(model, grid: np.ndarray) -> np.ndarray:
    from ..model import Sequential

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
