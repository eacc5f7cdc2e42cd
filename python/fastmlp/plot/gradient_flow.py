"""Per-layer gradient norms on a log scale, dead layers included: the picture of gradient flow."""
from __future__ import annotations

import numpy as np

from ._common import finish, legend_outside, new_figure, require_matplotlib, sequential_colors

DEAD_MARK = 0.5     # a layer with more than half its relu units dead is marked dead in the picture


def plot_gradient_flow(history_or_diagnostics, X=None, y=None, path=None, figsize=(7.5, 4.0), dpi: int = 100,
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

    A norm of exactly 0 cannot sit on a log axis: it is drawn as a cross on a line marked
    "‖dW‖ = 0" below the smallest norm. Layers that are mostly dead relu units (when the
    source records dead fractions) are labelled "dead". A plain list of norms that are all
    0 or nan is refused: it carries nothing to tell the layers apart.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_matplotlib()
    norms, dead = _flow_data(_source(history_or_diagnostics, X, y))
    positive = np.where(norms > 0, norms, np.nan)
    if not np.any(np.isfinite(positive)) and dead is None:
        raise ValueError("every gradient norm is 0 or nan: there is nothing to draw on a log scale; for a network "
                         "whose units died, pass the model with data, plot_gradient_flow(model, X, y), or its "
                         "Diagnosis, which say which layers are dead")
    floor = _zero_level(positive)
    figure = new_figure(figsize, dpi)
    ax = figure.subplots()
    ax.set_yscale("log")
    colors = sequential_colors(norms.shape[1])
    dead_layers = [] if dead is None else [i for i, f in enumerate(dead[-1]) if f > DEAD_MARK]
    if norms.shape[0] == 1:
        _draw_bars(ax, norms[0], positive[0], floor, colors, dead_layers)
        default_title = "gradient norm per layer"
    else:
        _draw_lines(ax, norms, positive, floor, colors, dead_layers)
        default_title = "gradient norm per layer over training"
    if np.any(norms == 0):
        ax.axhline(floor, color="0.5", linestyle="--", linewidth=0.8, label="‖dW‖ = 0 (drawn on this line)")
    if not np.any(np.isfinite(positive)):      # nothing but zeros: the only meaningful tick is 0
        ax.set_ylim(floor / 10.0, floor * 10.0)
        ax.set_yticks([floor], ["0"])
        ax.minorticks_off()
    ax.set_ylabel("‖dW‖ (Frobenius norm)")
    ax.set_title(title if title is not None else default_title)
    ax.grid(True, which="both", alpha=0.3)
    legend_outside(ax, ncol=2 if norms.shape[1] > 12 else 1)
    return finish(figure, path)


def _source(source, X, y):
    from ..model import Sequential

    if isinstance(source, Sequential):
        if X is None or y is None:
            raise ValueError("plotting a model's gradient flow needs data: plot_gradient_flow(model, X, y)")
        from ..inspection import diagnose

        return diagnose(source, X, y)
    if X is not None or y is not None:
        raise ValueError("X and y are only used with a model (plot_gradient_flow(model, X, y)); "
                         "to save the figure, pass path=...")
    return source


def _zero_level(positive: np.ndarray) -> float:
    """Where zeros are drawn: a decade below the smallest norm (1e-12 when none is positive)."""
    finite = positive[np.isfinite(positive)]
    return float(finite.min()) / 10.0 if finite.size else 1e-12


def _layer_label(layer: int, dead_layers: list) -> str:
    return f"layer {layer} (dead)" if layer in dead_layers else f"layer {layer}"


def _draw_bars(ax, norms, positive, floor, colors, dead_layers) -> None:
    layers = np.arange(norms.size)
    shown = np.isfinite(positive)
    ax.bar(layers[shown], positive[shown], color=[c for c, s in zip(colors, shown) if s])
    zero = norms == 0
    if zero.any():
        ax.plot(layers[zero], np.full(int(zero.sum()), floor), "x", color="k", markersize=9, mew=2,
                linestyle="none")
    for number, layer in enumerate(dead_layers):
        ax.axvspan(layer - 0.45, layer + 0.45, color="#D55E00", alpha=0.18, linewidth=0,
                   label="dead layer: its relu units output 0 for every sample" if number == 0 else None)
    ax.set_xticks(layers)
    ax.set_xlabel("layer (model.layers index; 0 is next to the input)")


def _draw_lines(ax, norms, positive, floor, colors, dead_layers) -> None:
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, norms.shape[0] + 1)
    marker = "o" if norms.shape[0] < 30 else None
    for layer in range(norms.shape[1]):
        ax.plot(epochs, positive[:, layer], color=colors[layer], label=_layer_label(layer, dead_layers),
                marker=marker, markersize=3, linestyle=":" if layer in dead_layers else "-")
        zero = norms[:, layer] == 0
        if zero.any():
            ax.plot(epochs[zero], np.full(int(zero.sum()), floor), "x", color=colors[layer], markersize=6,
                    linestyle="none")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _flow_data(source):
    """(norms, dead): (n_epochs, n_layers) arrays; dead is None when the source has no dead fractions."""
    dead = None
    if hasattr(source, "diagnostics") and isinstance(source.diagnostics, dict):
        if "grad_norm" not in source.diagnostics or not source.diagnostics["grad_norm"]:
            raise ValueError("this History has no diagnostics: train with model.fit(..., diagnostics=True)")
        source = source.diagnostics
    if hasattr(source, "grad_norm"):
        dead, source = getattr(source, "dead_fraction", None), source.grad_norm
    elif isinstance(source, dict):
        if "grad_norm" not in source:
            raise ValueError(f"a diagnostics dict needs a 'grad_norm' entry; got keys {sorted(source)}")
        dead, source = source.get("dead_fraction"), source["grad_norm"]
    norms = _as_matrix(source)
    if dead is not None:
        dead = np.nan_to_num(_as_matrix(dead), nan=0.0)
        dead = dead if dead.shape == norms.shape and np.any(dead > DEAD_MARK) else None
    return norms, dead


def _as_matrix(values) -> np.ndarray:
    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError("gradient norms must be numbers: one per layer, or one list per epoch") from error
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.size == 0:
        raise ValueError(f"gradient norms must be one value per layer or one list per epoch, got shape {matrix.shape}")
    return matrix
