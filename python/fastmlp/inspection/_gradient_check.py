"""Backpropagation against central finite differences, parameter by parameter, through the engine."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ._common import engine_inputs


class LayerCheck(NamedTuple):
    """Largest relative error of one layer's dW and db against finite differences
    (nan when none of that array's entries was checked)."""

    W: float
    b: float


@dataclass
class GradientCheckResult:
    """What gradient_check found.

    Attributes
    ----------
    max_relative_error : float
        Largest relative error over every checked parameter (see gradient_check).
    worst_layer : int
        0-based index of the layer holding that parameter.
    worst_parameter : "W" or "b"
    worst_index : tuple
        (row, column) into W, or (j,) into b.
    worst_analytic, worst_numeric : float
        Backpropagation's and the finite difference's value of that derivative.
    per_layer : list of LayerCheck
        Largest relative error of dW and db of every layer.
    n_checked, n_parameters : int
        Parameters checked (all of them, or a sample when the model is large) and in all.
    eps : float
        Relative step of the central differences.
    dtype : str
    max_difference : float
        Largest |backprop − finite difference| over the checked parameters.
    resolution : float
        What rounding of the loss alone can put into a finite difference (at h = eps);
        differences below it are not counted as errors.
    """

    max_relative_error: float
    worst_layer: int
    worst_parameter: str
    worst_index: tuple
    worst_analytic: float
    worst_numeric: float
    per_layer: list
    n_checked: int
    n_parameters: int
    eps: float
    dtype: str
    max_difference: float = 0.0
    resolution: float = 0.0
    activations: list = field(default_factory=list)

    @property
    def tolerance(self) -> float:
        """Largest error a correct backpropagation should show in this dtype."""
        return 1e-6 if self.dtype == "float64" else 1e-2

    @property
    def passed(self) -> bool:
        return self.max_relative_error < self.tolerance

    # Comparisons and float() read the largest relative error, so that
    # `fm.gradient_check(model, X, y) < 1e-6` says what it means.
    def __float__(self) -> float:
        return float(self.max_relative_error)

    def __lt__(self, other):
        return self.max_relative_error < other

    def __le__(self, other):
        return self.max_relative_error <= other

    def __gt__(self, other):
        return self.max_relative_error > other

    def __ge__(self, other):
        return self.max_relative_error >= other

    def __repr__(self) -> str:
        where = f"{self.worst_parameter}[{', '.join(str(i) for i in self.worst_index)}]"
        return (f"GradientCheckResult(max_relative_error={self.max_relative_error:.3g}, worst=layer "
                f"{self.worst_layer} {where}, passed={self.passed}, checked={self.n_checked}/{self.n_parameters})")

    def __str__(self) -> str:
        sampled = "" if self.n_checked == self.n_parameters else " (a sample; raise max_parameters to check more)"
        lines = [f"Gradient check: backpropagation against central differences ({self.dtype}, eps={self.eps:.2g})",
                 f"{self.n_checked:,} of {self.n_parameters:,} parameters checked{sampled}",
                 "",
                 f"{'layer':<7}{'activation':<13}{'max rel. error dW':<20}{'max rel. error db':<20}"]
        for index, check in enumerate(self.per_layer):
            activation = self.activations[index] if index < len(self.activations) else ""
            lines.append(f"{index:<7}{activation:<13}{_format_error(check.W):<20}{_format_error(check.b):<20}")
        where = f"{self.worst_parameter}[{', '.join(str(i) for i in self.worst_index)}]"
        lines += ["",
                  f"largest relative error {self.max_relative_error:.3g} at layer {self.worst_layer}, {where}: "
                  f"backprop {self.worst_analytic:.6g}, finite difference {self.worst_numeric:.6g}",
                  f"largest |backprop − finite difference| {self.max_difference:.2g}; differences below "
                  f"{self.resolution:.2g} are within the rounding of the finite differences and count as 0"]
        if self.passed:
            lines.append(f"verdict: backpropagation agrees with finite differences (below {self.tolerance:g} "
                         f"for {self.dtype}).")
        else:
            lines.append(f"verdict: the gradients disagree (above {self.tolerance:g} for {self.dtype}). A z right at "
                         "a ReLU kink or a hinge margin can cause a single large error; errors in whole arrays "
                         "point to a wrong backward pass." +
                         ("" if self.dtype == "float64" else " Check in float64 for a sharper answer."))
        return "\n".join(lines)


def _format_error(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2e}"


def _checked_positions(size: int, quota: int | None, rng: np.random.Generator) -> np.ndarray:
    if quota is None or size <= quota:
        return np.arange(size)
    return np.sort(rng.choice(size, size=quota, replace=False))


def gradient_check(model, X, y, eps: float | None = None, sample_weight=None, max_parameters: int | None = 2000,
                   seed: int = 0) -> GradientCheckResult:
    """Compare backpropagation's gradients with central finite differences.

    For each checked parameter θ the loss is evaluated by the engine at θ ± h, with
    h = eps·max(1, |θ|), and (L(θ+h) − L(θ−h)) / 2h is compared with model.gradients.
    The relative error of one derivative, with a its backprop value and n its finite
    difference, is

        max(|a − n| − δ, 0) / max(|a|, |n|, tiny)

    where δ = 16·ε_machine·max(|L|, 1) / 2h is what rounding of the loss alone can put into
    a finite difference: a difference the finite difference cannot resolve counts as zero,
    so that derivatives that are (almost) zero do not produce meaningless large ratios.

    Parameters
    ----------
    model : Sequential, built and compiled
    X : array of shape (n_samples, n_features)
        A small batch is enough (and faster): every checked parameter costs two passes over X.
    y : targets as fit() takes them
    eps : float or None
        Relative step; by default ε_machine^(1/3) of the model's dtype (6e-6 for float64,
        5e-3 for float32), which balances truncation and rounding error.
    sample_weight : array of shape (n_samples,) or None
    max_parameters : int or None
        Check at most about this many parameters: a model with more has a random sample
        of each layer's W and b checked (at least one entry of each). None checks all.
    seed : int
        Seeds that sample.

    Returns
    -------
    GradientCheckResult
        Its ``max_relative_error`` is below 1e-6 for a correct backpropagation in float64;
        ``float(result)`` and comparisons (``result < 1e-6``) read that number.

    Notes
    -----
    The check runs in the model's dtype. Use a float64 model for a sharp answer: float32
    finite differences are only good to about 1e-3. Kinks (ReLU at z = 0, hinge at t·z = 1)
    spoil a finite difference when some z lies within h of them.
    The model's parameters are restored afterwards, exactly.
    """
    network = model._compiled_network()
    X_ready, Y_ready, weights = engine_inputs(model, X, y, sample_weight)
    dtype = np.dtype(model.dtype)
    machine_eps = float(np.finfo(dtype).eps)
    if eps is None:
        eps = machine_eps ** (1.0 / 3.0)
    eps = float(eps)
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    if max_parameters is not None:
        if isinstance(max_parameters, bool) or not isinstance(max_parameters, (int, np.integer)) \
                or max_parameters < 1:
            raise ValueError(f"max_parameters must be a positive integer or None, got {max_parameters!r}")

    gradient_args = {} if sample_weight is None else {"sample_weight": sample_weight}
    analytic = [(np.asarray(dW, dtype=np.float64), np.asarray(db, dtype=np.float64).reshape(-1))
                for dW, db in model.gradients(X, y, **gradient_args)]
    n_layers = network.num_layers
    if len(analytic) != n_layers:
        raise ValueError(f"model.gradients returned {len(analytic)} layers, the network has {n_layers}")

    base_loss = network.evaluate(X_ready, Y_ready, weights).loss
    rounding = 16.0 * machine_eps * max(abs(base_loss), 1.0)
    original = [(network.get_weights(l), network.get_bias(l)) for l in range(n_layers)]
    for l, ((W, b), (dW, db)) in enumerate(zip(original, analytic)):
        if dW.shape != W.shape or db.shape != b.shape:
            raise ValueError(f"model.gradients gave layer {l} dW {dW.shape} and db {db.shape}; "
                             f"expected {W.shape} and {b.shape}")

    n_parameters = network.num_parameters
    quota = None
    if max_parameters is not None and n_parameters > max_parameters:
        quota = max(1, int(max_parameters) // (2 * n_layers))
    rng = np.random.default_rng(seed)

    def loss_at(layer, kind, values):
        if kind == "W":
            network.set_weights(layer, values)
        else:
            network.set_bias(layer, values)
        return network.evaluate(X_ready, Y_ready, weights).loss

    per_layer = []
    worst = (-1.0, 0, "W", (0,), 0.0, 0.0)
    n_checked = 0
    max_difference = 0.0
    try:
        for l in range(n_layers):
            layer_errors = {}
            pairs = (("W", original[l][0], analytic[l][0]), ("b", original[l][1], analytic[l][1]))
            for kind, values, gradient in pairs:
                probe = values.copy()
                flat_probe = probe.reshape(-1)      # a view: writing it changes probe
                flat_gradient = gradient.reshape(-1)
                positions = _checked_positions(flat_probe.size, quota, rng)
                largest = math.nan
                for position in positions:
                    theta = flat_probe[position]
                    step = eps * max(1.0, abs(float(theta)))
                    plus = dtype.type(float(theta) + step)
                    minus = dtype.type(float(theta) - step)
                    flat_probe[position] = plus
                    loss_plus = loss_at(l, kind, probe)
                    flat_probe[position] = minus
                    loss_minus = loss_at(l, kind, probe)
                    flat_probe[position] = theta
                    width = float(plus) - float(minus)   # the step actually taken after rounding to dtype
                    numeric = (loss_plus - loss_minus) / width
                    a = float(flat_gradient[position])
                    difference = abs(a - numeric)
                    max_difference = max(max_difference, difference)
                    error = max(difference - rounding / width, 0.0) / max(abs(a), abs(numeric),
                                                                          np.finfo(np.float64).tiny)
                    if math.isnan(largest) or error > largest:
                        largest = error
                    if error > worst[0]:
                        index = np.unravel_index(position, values.shape)
                        worst = (error, l, kind, tuple(int(i) for i in index), a, numeric)
                n_checked += len(positions)
                loss_at(l, kind, values)          # put the layer back before the next array
                layer_errors[kind] = largest
            per_layer.append(LayerCheck(layer_errors["W"], layer_errors["b"]))
    finally:
        for l, (W, b) in enumerate(original):
            network.set_weights(l, W)
            network.set_bias(l, b)

    error, layer, kind, index, a, numeric = worst
    return GradientCheckResult(
        max_relative_error=max(error, 0.0), worst_layer=layer, worst_parameter=kind, worst_index=index,
        worst_analytic=a, worst_numeric=numeric, per_layer=per_layer, n_checked=n_checked,
        n_parameters=n_parameters, eps=eps, dtype=dtype.name, max_difference=max_difference,
        resolution=rounding / (2.0 * eps),
        activations=[layer.activation for layer in model.layers])
