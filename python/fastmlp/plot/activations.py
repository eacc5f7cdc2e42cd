"""Each activation f(z) beside its derivative f'(z), as the engine computes them."""
from __future__ import annotations

import math

import numpy as np

from .. import _core
from ..layers import canonical_activation
from ._common import PALETTE, finish, new_figure, require_matplotlib

DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


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
    require_matplotlib()

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
    figure = new_figure(figsize, dpi)
    axes = figure.subplots(len(names), 2, squeeze=False, sharex=True)
    for row, name in enumerate(names):
        _draw_row(axes[row], name, z[0], negative_slope)
    axes[0][0].set_title("f(z)")
    axes[0][1].set_title("f'(z)")
    axes[-1][0].set_xlabel("z")
    axes[-1][1].set_xlabel("z")
    return finish(figure, path)


def _draw_row(row_axes, name: str, z: np.ndarray, negative_slope: float) -> None:
    """f on the left, f' on the right, both from the engine."""
    left, right = row_axes
    values = _core.activate(name, z.reshape(1, -1), negative_slope)[0]
    left.plot(z, values, color=PALETTE[0], label=name)
    left.set_ylabel(f"leaky_relu (α={negative_slope:g})" if name == "leaky_relu" else name)
    if name == "step":
        derivative = np.zeros_like(values)
        right.text(0.5, 0.6, "0 almost everywhere: no gradient to learn from", transform=right.transAxes,
                   ha="center", fontsize="small")
    else:
        derivative = _core.activation_derivative(name, z.reshape(1, -1), negative_slope)[0]
        peak = float(derivative.max())
        right.axhline(peak, color="0.6", linestyle=":", linewidth=0.8)
        right.annotate(f"max f' = {peak:.3g}", xy=(0.02, 0.85), xycoords="axes fraction", fontsize="small")
    right.plot(z, derivative, color=PALETTE[1], label=f"{name}'")
    for ax in (left, right):
        ax.axhline(0.0, color="0.8", linewidth=0.6, zorder=0)
        ax.axvline(0.0, color="0.8", linewidth=0.6, zorder=0)
        ax.grid(True, alpha=0.3)
