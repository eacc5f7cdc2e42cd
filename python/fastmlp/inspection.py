"""Looking inside a network: finite-difference gradient checks, one training step written
out in the lecture's notation, and diagnostics of gradient flow (vanishing or exploding
gradients, saturated sigmoid/tanh units, dead ReLUs).

Everything here is for learning and debugging; it runs through the same engine as
training (``fastmlp._core``), so what it shows is what the engine computes.

Layer numbering: the lecture numbers layers from 1 and calls the input A[0] = X; the API
numbers ``model.layers`` from 0. Layer l of the notes is ``model.layers[l - 1]``. The
reports of explain_step use the notes' numbering (and say so); gradient_check, the
diagnostics and diagnose use the API's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import _core
from ._validation import check_sample_weight

__all__ = ["GradientCheckResult", "LayerCheck", "gradient_check", "explain_step", "layer_diagnostics",
           "Diagnosis", "Finding", "diagnose"]

# Activations whose derivative goes to 0 for large |z|; their saturation is measured.
SATURATING_ACTIVATIONS = ("sigmoid", "tanh")
# A unit is saturated when f'(z) is below this fraction of f's largest derivative
# (sigmoid: f' < 0.0025, i.e. |z| > 6.0; tanh: f' < 0.01, i.e. |z| > 3.0).
SATURATION_LEVEL = 0.01
# Output activations fused with their loss: dZ[L] = (P − Y)/m does not pass through f'.
FUSED_OUTPUTS = {("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy"), ("step", "perceptron")}

VANISHING_RATIO = 1e-3     # first-layer ‖dW‖ / output-layer ‖dW‖ below this: vanishing gradients
EXPLODING_RATIO = 1e3      # ... above this: exploding gradients
LARGE_GRADIENT_NORM = 1e3  # any ‖dW‖ above this is too large for a stable step at usual learning rates
PROBLEM_FRACTION = 0.5     # more than half a layer saturated or dead is a problem
NOTE_FRACTION = 0.1        # more than a tenth is worth a note

EXPLAIN_MAX_ROWS = 64


def _engine_inputs(model, X, y, sample_weight=None):
    """X, Y (encoded targets) and weights as the engine takes them, checked like fit() does."""
    model._compiled_network()
    X_ready = model._features(X)
    Y_ready = model._targets(y, X_ready.shape[0])
    weights = check_sample_weight(sample_weight, X_ready.shape[0], model.dtype)
    return X_ready, Y_ready, weights


# ============================================================================ gradient check

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
    X_ready, Y_ready, weights = _engine_inputs(model, X, y, sample_weight)
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
            for kind, values, gradient in (("W", original[l][0], analytic[l][0]), ("b", original[l][1], analytic[l][1])):
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


# ============================================================================ explain_step

DERIVATIVE_FORMULAS = {
    "identity": "identity'(z) = 1",
    "sigmoid": "σ'(z) = σ(z)·(1 − σ(z)), at most 0.25",
    "tanh": "tanh'(z) = 1 − tanh²(z), at most 1",
    "relu": "relu'(z) = 1 if z > 0 else 0",
    "leaky_relu": "leaky_relu'(z) = 1 if z > 0 else α",
    "elu": "elu'(z) = 1 if z > 0 else eᶻ",
    "softplus": "softplus'(z) = σ(z)",
    "silu": "silu'(z) = σ(z)·(1 + z·(1 − σ(z)))",
}

LOSS_FORMULAS = {
    "cross_entropy": "L = −(1/m) Σ_i Σ_j Y_ij·log P_ij                  (categorical cross-entropy)",
    "binary_cross_entropy": "L = −(1/m) Σ_i Σ_j [Y_ij·log P_ij + (1 − Y_ij)·log(1 − P_ij)]   (binary cross-entropy)",
    "mse": "L = (1/(m·k)) Σ_i Σ_j (A[L]_ij − Y_ij)²             (mean squared error, no ½)",
    "hinge": "L = (1/m) Σ_i Σ_j max(0, 1 − t_ij·Z[L]_ij),  t = 2Y − 1 ∈ {−1, +1}   (hinge)",
    "perceptron": "L = (1/m) Σ_i Σ_j (step(Z[L]_ij) − Y_ij)·Z[L]_ij      (perceptron criterion)",
}


def _shape(array_or_rows, cols=None) -> str:
    if cols is not None:
        return f"{array_or_rows}×{cols}"
    shape = np.shape(array_or_rows)
    return f"{shape[0]}×{shape[1]}" if len(shape) == 2 else f"1×{shape[0]}"


class _Writer:
    """Collects the report: a formula column, a shape column, and optional value previews."""

    def __init__(self, preview_rows: int):
        self.lines: list[str] = []
        self.preview_rows = preview_rows

    def text(self, line: str = "") -> None:
        self.lines.append(line)

    def step(self, formula: str, shapes: str, note: str = "") -> None:
        line = f"  {formula:<34}{shapes}"
        if note:
            line = f"{line:<74}{note}"
        self.lines.append(line.rstrip())

    def values(self, array: np.ndarray) -> None:
        if self.preview_rows <= 0:
            return
        matrix = np.atleast_2d(np.asarray(array, dtype=np.float64))
        shown = matrix[:self.preview_rows]
        with np.printoptions(precision=4, suppress=True, threshold=48, edgeitems=3, linewidth=96):
            body = np.array2string(shown)
        label = "" if shown.shape[0] == matrix.shape[0] else \
            f"   (first {shown.shape[0]} of {matrix.shape[0]} rows)"
        body_lines = body.splitlines()
        body_lines[-1] += label
        self.lines.extend("      " + line for line in body_lines)

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _output_delta(loss: str, activation: str, slope: float, Z: np.ndarray, A: np.ndarray, Y: np.ndarray):
    """dZ[L] (m × k) for the model's loss, and dA[L] for the one loss that is not fused (mse)."""
    m, k = Z.shape
    if loss in ("cross_entropy", "binary_cross_entropy"):
        return (A - Y) / m, None
    if loss == "hinge":
        t = 2.0 * Y - 1.0
        return np.where(t * Z < 1.0, -t, 0.0) / m, None
    if loss == "perceptron":
        return (A - Y) / m, None
    dA = 2.0 * (A - Y) / (m * k)
    return dA * _core.activation_derivative(activation, Z, slope), dA


def explain_step(model, X, y, preview_rows: int = 2) -> str:
    """One mini-batch's forward and backward pass, written out in the lecture's notation.

    Shows, layer by layer, Z[l] = A[l-1]·W[l] + b[l] and A[l] = f(Z[l]) with their actual
    shapes, the loss and its value, then backpropagation from dZ[L] down to dW[1] and db[1]
    with the formula that applies to this model's output activation and loss, and the
    first rows of every matrix. Nothing is updated.

    Parameters
    ----------
    model : Sequential, built and compiled
    X : array of shape (m, n_features), m <= 64
        A small batch: the report is meant to be read, e.g. X[:8].
    y : targets for those m rows, as fit() takes them
    preview_rows : int
        Rows of each matrix to print (0 prints shapes only).

    Returns
    -------
    str
        The report. Its loss equals model.evaluate(X, y)["loss"].
    """
    network = model._compiled_network()
    rows = np.shape(X)[0] if np.ndim(X) >= 1 else 0
    if rows > EXPLAIN_MAX_ROWS:
        raise ValueError(f"explain_step writes out every matrix, so it takes a small batch: X has {rows} rows, "
                         f"at most {EXPLAIN_MAX_ROWS} are allowed; pass a few rows, e.g. "
                         "model.explain_step(X[:8], y[:8])")
    if isinstance(preview_rows, bool) or not isinstance(preview_rows, (int, np.integer)) or preview_rows < 0:
        raise ValueError(f"preview_rows must be an integer >= 0, got {preview_rows!r}")
    X_ready, Y_ready, _ = _engine_inputs(model, X, y)
    caches = network.forward(X_ready)
    loss_value, grads = network.gradients(X_ready, Y_ready, None)

    m, d = X_ready.shape
    L = len(model.layers)
    A_prev = [X_ready.astype(np.float64)] + [A.astype(np.float64) for _, A in caches]   # A[0..L]
    Zs = [None] + [Z.astype(np.float64) for Z, _ in caches]                             # Z[1..L]
    Ws = [None] + [network.get_weights(l).astype(np.float64) for l in range(L)]
    bs = [None] + [network.get_bias(l).astype(np.float64) for l in range(L)]
    Y = Y_ready.astype(np.float64)
    output = model.layers[-1]
    loss = model.loss

    out = _Writer(int(preview_rows))
    out.text(f"One training step, written out (Sequential, {np.dtype(model.dtype).name}): "
             f"m = {m} samples, d = {d} features, {L} layer{'s' if L > 1 else ''}, loss {loss}")
    out.text(f"Numbering: as in the notes, layers count from 1 and A[0] = X; "
             f"layer l here is model.layers[l-1] (so W[1] is model.layers[0].W).")
    if model.preprocessing is not None:
        out.text("X below is after the model's preprocessing (standardisation).")
    out.text()
    out.text("Forward propagation")
    out.step("A[0] = X", _shape(X_ready))
    out.values(A_prev[0])
    for l in range(1, L + 1):
        layer = model.layers[l - 1]
        n_in, n_out = Ws[l].shape
        out.step(f"W[{l}]", _shape(n_in, n_out), f"n_in × n_out, model.layers[{l - 1}].W")
        out.values(Ws[l])
        out.step(f"b[{l}]", _shape(1, n_out), f"model.layers[{l - 1}].b")
        out.values(bs[l])
        out.step(f"Z[{l}] = A[{l - 1}]·W[{l}] + b[{l}]",
                 f"({_shape(m, n_in)})·({_shape(n_in, n_out)}) + ({_shape(1, n_out)}) -> {_shape(m, n_out)}",
                 "b is added to every row")
        out.values(Zs[l])
        name = layer.activation
        if name == "leaky_relu":
            name = f"leaky_relu_α={layer.negative_slope:g}"
        meaning = ""
        if l == L:
            meaning = {"softmax": "= P, class probabilities (rows sum to 1)",
                       "sigmoid": "= P, probability of class 1 per output",
                       "step": "= predicted labels 0/1"}.get(layer.activation, "= the model's output")
        out.step(f"A[{l}] = {name}(Z[{l}])", _shape(m, n_out), meaning)
        out.values(A_prev[l])
    out.text()
    out.text("Loss (a mean over the m samples of the batch)")
    out.text(f"  {LOSS_FORMULAS[loss]}")
    out.step("Y (targets, encoded)", _shape(Y))
    out.values(Y)
    out.text(f"  L = {loss_value:.12g}")
    out.text()

    out.text("Backward propagation (no update is made)")
    dZ, dA_out = _output_delta(loss, output.activation, output.negative_slope, Zs[L], A_prev[L], Y)
    k = Zs[L].shape[1]
    if loss in ("cross_entropy", "binary_cross_entropy"):
        pair = "softmax + cross-entropy" if loss == "cross_entropy" else "sigmoid + binary cross-entropy"
        out.step(f"dZ[{L}] = (P − Y)/m", _shape(m, k), f"{pair}, fused: f' is never formed")
    elif loss == "hinge":
        out.step(f"dZ[{L}] = −t/m where t·Z[{L}] < 1, else 0", _shape(m, k), "hinge with identity output")
    elif loss == "perceptron":
        out.step(f"dZ[{L}] = (step(Z[{L}]) − Y)/m", _shape(m, k), "perceptron criterion")
    else:
        out.step(f"dA[{L}] = 2·(A[{L}] − Y)/(m·k)", _shape(m, k), f"mean squared error, k = {k} outputs")
        out.values(dA_out)
        out.step(f"dZ[{L}] = dA[{L}] ⊙ f'(Z[{L}])", f"{_shape(m, k)} ⊙ {_shape(m, k)} -> {_shape(m, k)}",
                 DERIVATIVE_FORMULAS[output.activation])
    out.values(dZ)

    largest_difference = 0.0
    for l in range(L, 0, -1):
        n_in, n_out = Ws[l].shape
        dW_engine, db_engine = (np.asarray(g, dtype=np.float64) for g in grads[l - 1])
        largest_difference = max(largest_difference,
                                 float(np.abs(A_prev[l - 1].T @ dZ - dW_engine).max()),
                                 float(np.abs(dZ.sum(axis=0) - db_engine).max()))
        out.step(f"dW[{l}] = A[{l - 1}]ᵀ·dZ[{l}]",
                 f"({_shape(n_in, m)})·({_shape(m, n_out)}) -> {_shape(n_in, n_out)}", "same shape as W")
        out.values(dW_engine)
        out.step(f"db[{l}] = column sums of dZ[{l}]", f"-> {_shape(1, n_out)}", "same shape as b")
        out.values(db_engine)
        if l == 1:
            break
        dA = dZ @ Ws[l].T
        out.step(f"dA[{l - 1}] = dZ[{l}]·W[{l}]ᵀ",
                 f"({_shape(m, n_out)})·({_shape(n_out, n_in)}) -> {_shape(m, n_in)}")
        out.values(dA)
        below = model.layers[l - 2]
        dZ = dA * _core.activation_derivative(below.activation, Zs[l - 1], below.negative_slope)
        formula = DERIVATIVE_FORMULAS[below.activation]
        if below.activation == "leaky_relu":
            formula += f", α = {below.negative_slope:g}"
        out.step(f"dZ[{l - 1}] = dA[{l - 1}] ⊙ f'(Z[{l - 1}])",
                 f"{_shape(m, n_in)} ⊙ {_shape(m, n_in)} -> {_shape(m, n_in)}", formula)
        out.values(dZ)
    out.text("  (dA[0] is not needed: X is data, not a parameter)")
    out.text()
    scale = max(1.0, max(float(np.abs(np.asarray(g, dtype=np.float64)).max()) for pair in grads for g in pair))
    agreement = "reproduce" if largest_difference <= 1e-4 * scale else "do NOT reproduce"
    out.text(f"These formulas, evaluated in NumPy from the cached Z and A, {agreement} the engine's dW and db "
             f"(largest difference {largest_difference:.1e}).")
    out.text("A training step would now update W[l] ← W[l] − lr·dW[l] and b[l] ← b[l] − lr·db[l] "
             "(plain SGD; see the optimiser for momentum or Adam).")
    return str(out)


# ============================================================================ diagnostics

def _peak_derivative(activation: str, slope: float) -> float:
    # sigmoid and tanh have their largest slope at z = 0
    return float(_core.activation_derivative(activation, np.zeros((1, 1)), slope)[0, 0])


def layer_diagnostics(model, X, Y) -> dict:
    """Per-layer measures of gradient flow on a batch, for History and diagnose.

    Parameters
    ----------
    model : Sequential, built and compiled
    X : array of shape (m, n_features)
        Already engine-ready: the model's dtype, C-contiguous, preprocessed.
    Y : array of shape (m, n_outputs)
        Encoded targets (as fit() passes them to the engine).

    Returns
    -------
    dict with three lists, one float per layer (index = model.layers index):

    - "grad_norm": Frobenius norm ‖dW‖ of the layer's weight gradient on this batch.
    - "saturated_fraction": for sigmoid and tanh layers, the fraction of (sample, unit)
      pairs where f'(z) < 1% of f's largest derivative (sigmoid: |z| > 6.0, A < 0.0025 or
      A > 0.9975; tanh: |z| > 3.0, |A| > 0.995), i.e. the share of units, averaged over the
      samples, that pass back almost no gradient. nan for other activations and for a
      sigmoid output fused with binary cross-entropy (its delta P − Y does not pass
      through f').
    - "dead_fraction": for relu layers, the fraction of units whose z ≤ 0 (output 0) for
      every sample of the batch: they get no gradient at all. nan for other activations
      (leaky_relu keeps the slope α, so its units never die).

    nan rather than 0 marks "does not apply": 0% would claim a measurement was made.
    """
    network = model._compiled_network()
    caches = network.forward(X)
    _, grads = network.gradients(X, Y, None)
    grad_norm, saturated, dead = [], [], []
    last = len(model.layers) - 1
    for index, (layer, (Z, _), (dW, _)) in enumerate(zip(model.layers, caches, grads)):
        grad_norm.append(float(np.linalg.norm(np.asarray(dW, dtype=np.float64))))
        activation = layer.activation
        fused = index == last and (activation, model.loss) in FUSED_OUTPUTS
        if activation in SATURATING_ACTIVATIONS and not fused:
            derivative = _core.activation_derivative(activation, np.asarray(Z, dtype=np.float64),
                                                     layer.negative_slope)
            limit = SATURATION_LEVEL * _peak_derivative(activation, layer.negative_slope)
            saturated.append(float(np.mean(derivative < limit)))
        else:
            saturated.append(math.nan)
        if activation == "relu":
            dead.append(float(np.mean(np.all(Z <= 0, axis=0))))
        else:
            dead.append(math.nan)
    return {"grad_norm": grad_norm, "saturated_fraction": saturated, "dead_fraction": dead}


class Finding(NamedTuple):
    """One thing diagnose noticed: kind is "vanishing", "exploding", "non_finite", "saturated",
    "dead" or "no_gradient"; severity "problem" or "note"; layer is None for the whole model."""

    kind: str
    severity: str
    layer: int | None
    message: str
    remedy: str


@dataclass
class Diagnosis:
    """What diagnose measured and found; str() gives the report in plain words.

    Attributes
    ----------
    activations : list of str, one per layer
    units : list of int, one per layer
    grad_norm, saturated_fraction, dead_fraction : list of float, one per layer
        As layer_diagnostics defines them (nan where a measure does not apply).
    findings : list of Finding
    n_samples : int
    """

    activations: list
    units: list
    grad_norm: list
    saturated_fraction: list
    dead_fraction: list
    findings: list
    n_samples: int
    dtype: str = "float32"
    loss: str = ""

    @property
    def ok(self) -> bool:
        """True when no finding is a problem (notes allowed)."""
        return not any(f.severity == "problem" for f in self.findings)

    @property
    def kinds(self) -> set:
        return {f.kind for f in self.findings}

    def __str__(self) -> str:
        lines = [f"Diagnosis on {self.n_samples} samples ({self.dtype}, loss {self.loss}); layers as model.layers[i]",
                 f"{'layer':<7}{'activation':<13}{'units':>6}  {'‖dW‖':<11}{'saturated':>10}{'dead':>8}"]
        for i, activation in enumerate(self.activations):
            lines.append(f"{i:<7}{activation:<13}{self.units[i]:>6}  {self.grad_norm[i]:<11.3e}"
                         f"{_percent(self.saturated_fraction[i]):>10}{_percent(self.dead_fraction[i]):>8}")
        lines.append("(saturated: sigmoid/tanh units with f'(z) below 1% of its peak; dead: relu units that "
                     "output 0 for every sample; '-' where it does not apply)")
        lines.append("")
        problems = [f for f in self.findings if f.severity == "problem"]
        notes = [f for f in self.findings if f.severity == "note"]
        if not problems:
            lines.append("Nothing looks wrong: the gradient reaches every layer at a usable scale and no layer "
                         "is mostly saturated or dead.")
        advised = set()
        for finding in problems + notes:
            lines.append(f"- {finding.severity}: {finding.message}")
            if finding.remedy and finding.remedy not in advised:   # one piece of advice is enough
                lines.append(f"  what to try: {finding.remedy}")
                advised.add(finding.remedy)
        return "\n".join(lines)

    # In a notebook or at the prompt, model.diagnose(X, y) shows the report itself.
    __repr__ = __str__


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100.0 * value:.0f}%"


def _findings(model, measures: dict) -> list:
    norms = measures["grad_norm"]
    activations = [layer.activation for layer in model.layers]
    findings = []
    if not all(math.isfinite(v) for v in norms):
        findings.append(Finding(
            "non_finite", "problem", None,
            "some gradients are NaN or infinite: the forward pass or the loss overflowed.",
            "standardise the inputs, use a smaller learning rate, and check the data for extreme values"))
        return findings
    first, last = norms[0], norms[-1]
    if last == 0.0:
        findings.append(Finding(
            "no_gradient", "note", None,
            "the output layer's gradient is exactly zero on these data: the loss is flat here "
            "(every sample already beyond the margin, or every output unit inactive).",
            ""))
    elif len(norms) > 1:
        ratio = first / last
        hidden = sorted({a for a in activations[:-1] if a in SATURATING_ACTIVATIONS})
        if ratio < VANISHING_RATIO:
            cause = (f" Each {'/'.join(hidden)} layer multiplies the gradient by f'(z) (at most 0.25 for sigmoid), "
                     "so it shrinks layer after layer." if hidden else "")
            findings.append(Finding(
                "vanishing", "problem", 0,
                f"vanishing gradients: the first layer's gradient (‖dW‖ = {first:.2e}) is {ratio:.1e} times the "
                f"output layer's ({last:.2e}), so the early layers barely learn.{cause}",
                "use relu or leaky_relu in the hidden layers with He initialisation (initializer='auto' does this), "
                "fewer layers, or standardised inputs"))
        elif ratio > EXPLODING_RATIO:
            findings.append(Finding(
                "exploding", "problem", 0,
                f"exploding gradients: the first layer's gradient (‖dW‖ = {first:.2e}) is {ratio:.1e} times the "
                f"output layer's ({last:.2e}); the early layers will take huge steps.",
                "use a smaller learning rate, standardise the inputs, keep initializer='auto' (Glorot/He), "
                "or add weight_decay"))
    largest = max(norms)
    if largest > LARGE_GRADIENT_NORM and not any(f.kind == "exploding" for f in findings):
        layer = norms.index(largest)
        findings.append(Finding(
            "exploding", "problem", layer,
            f"very large gradients: layer {layer} has ‖dW‖ = {largest:.2e}; a usual learning rate would make "
            "training diverge.",
            "standardise the inputs (and the targets of a regression), or use a much smaller learning rate"))

    units = [layer.units for layer in model.layers]
    for index, fraction in enumerate(measures["saturated_fraction"]):
        if math.isnan(fraction) or fraction <= NOTE_FRACTION:
            continue
        severity = "problem" if fraction > PROBLEM_FRACTION else "note"
        findings.append(Finding(
            "saturated", severity, index,
            f"layer {index} ({activations[index]}): {100 * fraction:.0f}% of its units' activations are saturated "
            "(flat part of the curve, f'(z) below 1% of its peak), so little gradient passes back through them.",
            "standardise the inputs (fm.datasets has a Standardizer), use smaller initial weights "
            "(initializer='auto'), or switch the hidden layers to relu"))
    for index, fraction in enumerate(measures["dead_fraction"]):
        if math.isnan(fraction) or fraction <= NOTE_FRACTION:
            continue
        severity = "problem" if fraction > PROBLEM_FRACTION else "note"
        count = int(round(fraction * units[index]))
        findings.append(Finding(
            "dead", severity, index,
            f"layer {index} (relu): {count} of {units[index]} units ({100 * fraction:.0f}%) are dead: z ≤ 0 for "
            "every sample here, so they output 0 and get no gradient; a dead unit does not come back by itself.",
            "use leaky_relu (negative_slope=0.01), a smaller learning rate, He initialisation "
            "(initializer='auto'), or small positive initial biases"))
    return findings


def diagnose(model, X, y) -> Diagnosis:
    """Gradient flow of a model on data, and what looks wrong with it, in plain words.

    Measures, on (X, y) and without changing the model, each layer's gradient norm ‖dW‖,
    the fraction of saturated sigmoid/tanh units and of dead relu units (see
    layer_diagnostics), then names problems: vanishing gradients (first layer's ‖dW‖ below
    1e-3 of the output layer's), exploding gradients (above 1e3 times, or any ‖dW‖ over
    1e3), layers more than half saturated or dead (more than 10% gives a note), each with
    what to try.

    Parameters
    ----------
    model : Sequential, built and compiled
    X : array of shape (n_samples, n_features)
    y : targets as fit() takes them

    Returns
    -------
    Diagnosis
        str(result) is the report; .findings, .grad_norm, ... hold the numbers.
    """
    X_ready, Y_ready, _ = _engine_inputs(model, X, y)
    measures = layer_diagnostics(model, X_ready, Y_ready)
    return Diagnosis(
        activations=[layer.activation for layer in model.layers],
        units=[layer.units for layer in model.layers],
        grad_norm=measures["grad_norm"], saturated_fraction=measures["saturated_fraction"],
        dead_fraction=measures["dead_fraction"], findings=_findings(model, measures),
        n_samples=X_ready.shape[0], dtype=np.dtype(model.dtype).name, loss=model.loss)
