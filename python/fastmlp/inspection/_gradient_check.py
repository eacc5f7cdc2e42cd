"""Backpropagation against central finite differences, one index of the flat parameter vector at a time."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ._common import engine_inputs

TINY = np.finfo(np.float64).tiny


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
    n_resolvable : int
        Checked derivatives larger than that rounding: only these can show an error.
    detectable_error : float
        The relative error the check can resolve, typically (median over the resolvable
        derivatives); a smaller error would read as 0. nan when nothing was resolvable.
    per_layer_floor : list of LayerCheck
        Per array, the largest relative error that could hide in rounding (an error read
        as 0 is below it); inf when no entry of the array was resolvable.
    warnings : list of str
        What limits this check (gradients too small, float32 too coarse), with advice.
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
    n_resolvable: int = 0
    detectable_error: float = math.nan
    per_layer_floor: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def tolerance(self) -> float:
        """Largest error a correct backpropagation should show in this dtype."""
        return 1e-6 if self.dtype == "float64" else 1e-2

    @property
    def passed(self) -> bool:
        """Below the tolerance, on derivatives the check resolves to better than the tolerance."""
        return (self.max_relative_error < self.tolerance and self.n_resolvable > 0
                and not self.detectable_error > self.tolerance)

    # float() and < / > read the largest relative error: `fm.gradient_check(model, X, y) < 1e-6`.
    def __float__(self) -> float:
        return float(self.max_relative_error)

    def __lt__(self, other):
        return self.max_relative_error < other

    def __gt__(self, other):
        return self.max_relative_error > other

    def __repr__(self) -> str:
        where = f"{self.worst_parameter}[{', '.join(str(i) for i in self.worst_index)}]"
        return (f"GradientCheckResult(max_relative_error={self.max_relative_error:.3g}, worst=layer "
                f"{self.worst_layer} {where}, passed={self.passed}, checked={self.n_checked}/{self.n_parameters}"
                + "".join(f"; warning: {text}" for text in self.warnings) + ")")

    def __str__(self) -> str:
        sampled = "" if self.n_checked == self.n_parameters else " (a sample; raise max_parameters to check more)"
        lines = [f"Gradient check: backpropagation against central differences ({self.dtype}, eps={self.eps:.2g})",
                 f"{self.n_checked:,} of {self.n_parameters:,} parameters checked{sampled}",
                 "",
                 f"{'layer':<7}{'activation':<13}{'max rel. error dW':<20}{'max rel. error db':<20}"]
        floors = self.per_layer_floor or [LayerCheck(0.0, 0.0)] * len(self.per_layer)
        for index, (check, floor) in enumerate(zip(self.per_layer, floors)):
            activation = self.activations[index] if index < len(self.activations) else ""
            lines.append(f"{index:<7}{activation:<13}{_format_error(check.W, floor.W):<20}"
                         f"{_format_error(check.b, floor.b):<20}")
        where = f"{self.worst_parameter}[{', '.join(str(i) for i in self.worst_index)}]"
        lines += ["(\"< x\": no error above the rounding, which could hide a relative error up to x; "
                  "\"too small\": every derivative there is below the rounding)",
                  "",
                  f"largest relative error {self.max_relative_error:.3g} at layer {self.worst_layer}, {where}: "
                  f"backprop {self.worst_analytic:.6g}, finite difference {self.worst_numeric:.6g}",
                  f"largest |backprop − finite difference| {self.max_difference:.2g}; differences below "
                  f"{self.resolution:.2g} are within the rounding of the finite differences and count as 0"]
        lines.append(self._verdict())
        lines += [f"warning: {text}" for text in self.warnings]
        return "\n".join(lines)

    def _verdict(self) -> str:
        if self.n_resolvable == 0:
            return ("verdict: nothing could be checked: every derivative is below the rounding of the finite "
                    "differences.")
        if self.max_relative_error < self.tolerance and self.detectable_error > self.tolerance:
            return (f"verdict: inconclusive: no error above the rounding, but rounding could hide relative errors "
                    f"up to about {self.detectable_error:.1g}, above the tolerance {self.tolerance:g}.")
        if self.passed:
            return (f"verdict: backpropagation agrees with finite differences (below {self.tolerance:g} for "
                    f"{self.dtype}; this check resolves relative errors down to about {self.detectable_error:.1g}).")
        return (f"verdict: the gradients disagree (above {self.tolerance:g} for {self.dtype}). A z right at a ReLU "
                "kink or a hinge margin can cause a single large error; errors in whole arrays point to a wrong "
                "backward pass." + ("" if self.dtype == "float64" else " Check in float64 for a sharper answer."))


def _format_error(value: float, floor: float) -> str:
    if math.isnan(value):
        return "-"
    if value > 0.0:
        return f"{value:.2e}"
    return "too small" if math.isinf(floor) else f"< {floor:.1e}"


class _Segment(NamedTuple):
    """Where one layer's W or b sits in the flat parameter vector [W0 (row-major), b0, W1, b1, ...]."""

    layer: int
    kind: str
    shape: tuple
    start: int
    size: int


def _segments(network) -> list:
    segments, start = [], 0
    for l in range(network.num_layers):
        for kind, shape in (("W", network.get_weights(l).shape), ("b", network.get_bias(l).shape)):
            size = int(np.prod(shape))
            segments.append(_Segment(l, kind, tuple(shape), start, size))
            start += size
    return segments


def _checked_indices(segments, quota, rng) -> list:
    """Flat indices to check, per segment: all of them, or `quota` drawn at random (sorted)."""
    chosen = []
    for segment in segments:
        positions = np.arange(segment.size)
        if quota is not None and segment.size > quota:
            positions = np.sort(rng.choice(segment.size, size=quota, replace=False))
        chosen.append(segment.start + positions)
    return chosen


def _analytic_flat(model, X, y, sample_weight, segments) -> np.ndarray:
    """Backpropagation's gradients laid out as the flat parameter vector."""
    gradient_args = {} if sample_weight is None else {"sample_weight": sample_weight}
    grads = model.gradients(X, y, **gradient_args)
    n_layers = len(segments) // 2
    if len(grads) != n_layers:
        raise ValueError(f"model.gradients returned {len(grads)} layers, the network has {n_layers}")
    parts = []
    for l, (dW, db) in enumerate(grads):
        dW, db = np.asarray(dW, dtype=np.float64), np.asarray(db, dtype=np.float64).reshape(-1)
        W_shape, b_shape = segments[2 * l].shape, segments[2 * l + 1].shape
        if dW.shape != W_shape or db.shape != b_shape:
            raise ValueError(f"model.gradients gave layer {l} dW {dW.shape} and db {db.shape}; "
                             f"expected {W_shape} and {b_shape}")
        parts += [dW.reshape(-1), db]
    return np.concatenate(parts)


class _Tally:
    """Errors of the checked derivatives, kept per segment and overall."""

    def __init__(self, rounding: float):
        self.rounding = rounding
        self.worst = (-1.0, 0, 0.0, 0.0)           # error, flat index, analytic, numeric
        self.max_difference = 0.0
        self.floors: list = []                     # detectable error of each resolvable derivative

    def add(self, index: int, analytic: float, numeric: float, width: float):
        """The relative error of one derivative, and the largest error that rounding could hide there."""
        difference = abs(analytic - numeric)
        self.max_difference = max(self.max_difference, difference)
        noise = self.rounding / width
        scale = max(abs(analytic), abs(numeric), TINY)
        error = max(difference - noise, 0.0) / scale
        floor = noise / scale if scale > 2.0 * noise else math.inf
        if math.isfinite(floor):
            self.floors.append(floor)
        if error > self.worst[0]:
            self.worst = (error, index, analytic, numeric)
        return error, floor


def _check_arguments(eps, max_parameters, dtype) -> float:
    if eps is None:
        eps = float(np.finfo(dtype).eps) ** (1.0 / 3.0)
    eps = float(eps)
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    if max_parameters is not None and (isinstance(max_parameters, bool) or not isinstance(
            max_parameters, (int, np.integer)) or max_parameters < 1):
        raise ValueError(f"max_parameters must be a positive integer or None, got {max_parameters!r}")
    return eps


def _central_difference(network, loss_at, theta, index, eps, dtype):
    """(L(θ+h) − L(θ−h)) / 2h for one flat index, and the step width after rounding to dtype."""
    original = theta[index]
    step = eps * max(1.0, abs(float(original)))
    plus, minus = dtype.type(float(original) + step), dtype.type(float(original) - step)
    theta[index] = plus
    loss_plus = loss_at(theta)
    theta[index] = minus
    loss_minus = loss_at(theta)
    theta[index] = original
    width = float(plus) - float(minus)
    return (loss_plus - loss_minus) / width, width


def gradient_check(model, X, y, eps: float | None = None, sample_weight=None, max_parameters: int | None = 2000,
                   seed: int = 0) -> GradientCheckResult:
    """Compare backpropagation's gradients with central finite differences.

    For each checked parameter θ (an index of the flat parameter vector) the loss is
    evaluated by the engine at θ ± h, with h = eps·max(1, |θ|), and
    (L(θ+h) − L(θ−h)) / 2h is compared with model.gradients. The relative error of one
    derivative, with a its backprop value and n its finite difference, is

        max(|a − n| − δ, 0) / max(|a|, |n|, tiny)

    where δ = 16·ε_machine·max(|L|, 1) / 2h is what rounding of the loss alone can put into
    a finite difference: a difference the finite difference cannot resolve counts as zero,
    so that derivatives that are (almost) zero do not produce meaningless large ratios.
    A derivative no larger than 2δ cannot be checked at all; when none can (a trained
    model whose gradients are all tiny, say) the result says so in ``warnings`` and does
    not pass. When float32's rounding hides relative errors above the tolerance for a
    typical derivative, the check is inconclusive, does not pass, and its warnings
    suggest float64.

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
        ``float(result)`` and ``result < 1e-6`` read that number.

    Notes
    -----
    The check runs in the model's dtype. Kinks (ReLU at z = 0, hinge at t·z = 1) spoil a
    finite difference when some z lies within h of them. The model's parameters are
    restored afterwards, exactly.
    """
    network = model._compiled_network()
    X_ready, Y_ready, weights = engine_inputs(model, X, y, sample_weight)
    dtype = np.dtype(model.dtype)
    eps = _check_arguments(eps, max_parameters, dtype)
    segments = _segments(network)
    analytic = _analytic_flat(model, X, y, sample_weight, segments)
    base_loss = network.evaluate(X_ready, Y_ready, weights).loss
    tally = _Tally(16.0 * float(np.finfo(dtype).eps) * max(abs(base_loss), 1.0))
    n_parameters = network.num_parameters
    quota = None
    if max_parameters is not None and n_parameters > max_parameters:
        quota = max(1, int(max_parameters) // len(segments))
    chosen = _checked_indices(segments, quota, np.random.default_rng(seed))

    def loss_at(values):
        network.set_parameters(values)
        return network.evaluate(X_ready, Y_ready, weights).loss

    original = network.get_parameters()
    theta = original.copy()
    per_segment = []
    try:
        for indices in chosen:
            largest, floor = math.nan, -math.inf
            for index in indices:
                numeric, width = _central_difference(network, loss_at, theta, int(index), eps, dtype)
                error, hidden = tally.add(int(index), float(analytic[index]), numeric, width)
                largest = error if math.isnan(largest) else max(largest, error)
                if error == 0.0 and math.isfinite(hidden):
                    floor = max(floor, hidden)
            per_segment.append((largest, math.inf if floor < 0 else floor))
    finally:
        network.set_parameters(original)
    return _result(model, segments, per_segment, tally, sum(len(i) for i in chosen), n_parameters, eps, dtype)


def _result(model, segments, per_segment, tally, n_checked, n_parameters, eps, dtype) -> GradientCheckResult:
    error, index, a, numeric = tally.worst
    segment = next(s for s in reversed(segments) if s.start <= index)
    position = tuple(int(i) for i in np.unravel_index(index - segment.start, segment.shape))
    detectable = float(np.median(tally.floors)) if tally.floors else math.nan
    result = GradientCheckResult(
        max_relative_error=max(error, 0.0), worst_layer=segment.layer, worst_parameter=segment.kind,
        worst_index=position, worst_analytic=a, worst_numeric=numeric,
        per_layer=[LayerCheck(per_segment[i][0], per_segment[i + 1][0]) for i in range(0, len(segments), 2)],
        n_checked=n_checked, n_parameters=n_parameters, eps=eps, dtype=dtype.name,
        max_difference=tally.max_difference, resolution=tally.rounding / (2.0 * eps),
        activations=[layer.activation for layer in model.layers], n_resolvable=len(tally.floors),
        detectable_error=detectable,
        per_layer_floor=[LayerCheck(per_segment[i][1], per_segment[i + 1][1]) for i in range(0, len(segments), 2)])
    # In the report rather than through the warnings module: the result is what the user
    # reads, and a check inside a test suite that errors on warnings should not fail for it.
    result.warnings.extend(_limitations(result))
    return result


def _limitations(result: GradientCheckResult) -> list:
    if result.n_resolvable == 0:
        return [f"the gradients are too small to check: every checked derivative is below the rounding of the "
                f"finite differences ({result.resolution:.1g}), so any error would read as 0. Check at "
                "initialisation or on data where the loss is not near its minimum"
                + ("" if result.dtype == "float64" else ", and in float64") + "."]
    if result.detectable_error > result.tolerance and result.dtype == "float64":
        return [f"the gradients are small here: for a typical derivative, a relative error up to "
                f"{result.detectable_error:.1g} hides in rounding (tolerance {result.tolerance:g}). Check at "
                "initialisation or on data where the loss is not near its minimum."]
    if result.detectable_error > result.tolerance:
        return [f"{result.dtype} cannot resolve this check: for a typical derivative, a relative error up to "
                f"{result.detectable_error:.1g} hides in rounding (tolerance {result.tolerance:g}). Build the model "
                "with dtype='float64' (fm.Sequential(..., dtype='float64')) and check again."]
    return []
