"""One forward and backward pass written out in the lecture's notation (model.explain_step)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _core
from ._common import engine_inputs

EXPLAIN_MAX_ROWS = 64

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
    "mae": "L = (1/(m·k)) Σ_i Σ_j |A[L]_ij − Y_ij|              (mean absolute error)",
    "huber": "L = (1/(m·k)) Σ_i Σ_j h_δ(A[L]_ij − Y_ij),  h_δ(r) = r²/2 if |r| <= δ else δ(|r| − δ/2)   (Huber)",
    "poisson": "L = (1/(m·k)) Σ_i Σ_j (Y_ij·log(Y_ij/μ_ij) − Y_ij + μ_ij), μ = A[L] = e^Z[L]  (half Poisson deviance)",
}

# dA[L] of the regression losses whose delta goes through f' (r = A[L] − Y, divided by m·k).
_REGRESSION_DELTAS = {
    "mse": ("2·(A[L] − Y)/(m·k)", "mean squared error", lambda r, delta: 2.0 * r),
    "mae": ("sign(A[L] − Y)/(m·k)", "mean absolute error, sign(0) = 0", lambda r, delta: np.sign(r)),
    "huber": ("clip(A[L] − Y, −δ, δ)/(m·k)", "Huber", lambda r, delta: np.clip(r, -delta, delta)),
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
        line = f"  {formula:<{max(34, len(formula) + 2)}}{shapes}"
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


def _output_delta(loss: str, activation: str, slope: float, Z: np.ndarray, A: np.ndarray, Y: np.ndarray,
                  delta: float = 1.0):
    """dZ[L] (m × k) for the model's loss, and dA[L] for the losses that are not fused (mse, mae, huber)."""
    m, k = Z.shape
    if loss in ("cross_entropy", "binary_cross_entropy"):
        return (A - Y) / m, None
    if loss == "hinge":
        t = 2.0 * Y - 1.0
        return np.where(t * Z < 1.0, -t, 0.0) / m, None
    if loss == "perceptron":
        return (A - Y) / m, None
    if loss == "poisson":  # fused with the exp output: the log link
        return (A - Y) / (m * k), None
    dA = _REGRESSION_DELTAS[loss][2](A - Y, delta) / (m * k)
    return dA * _core.activation_derivative(activation, Z, slope), dA


class StepValues(NamedTuple):
    """One forward and backward pass in the notes' numbering: index l = 1..L is layer l
    (model.layers[l-1]); index 0 of A is X and entries that do not exist are None.

    W, b, Z, A, dZ, dW, db, dA : lists of float64 arrays, length L + 1
        dW and db are the engine's; dZ and dA are the notes' formulas evaluated in NumPy
        from the engine's cached Z and A (dA[L] only for a loss that is not fused).
    Y : encoded targets; loss : the engine's loss on the batch.
    M : dropout masks of a training pass (None where a layer does not drop, and without training);
    inputs : what each layer reads, inputs[l] = A[l-1], or Ã[l-1] = A[l-1] ⊙ M[l-1]/(1 − p) after dropout.
    """

    W: list
    b: list
    Z: list
    A: list
    dZ: list
    dW: list
    db: list
    dA: list
    Y: np.ndarray
    loss: float
    M: list
    inputs: list


def step_values(model, X_ready: np.ndarray, Y_ready: np.ndarray, training: bool = False) -> StepValues:
    """Forward and backward pass of an engine-ready batch (see engine_inputs); nothing is updated.

    training=True drops units as a training step would; the dropout generator is put back
    afterwards, so the masks shown are those the next training step would draw on this batch."""
    network = model._compiled_network()
    state = network.get_dropout_state()
    try:
        if training:
            caches = network.training_forward(X_ready)
            network.set_dropout_state(state)  # the same draws: the gradients see the masks shown
            loss_value, grads, _ = network.training_gradients(X_ready, Y_ready, None)
        else:
            caches = [(Z, A, None) for Z, A in network.forward(X_ready)]
            loss_value, grads = network.gradients(X_ready, Y_ready, None)
    finally:
        network.set_dropout_state(state)
    L = len(model.layers)
    none = [None]
    W = none + [network.get_weights(l).astype(np.float64) for l in range(L)]
    b = none + [network.get_bias(l).astype(np.float64) for l in range(L)]
    Z = none + [np.asarray(Zl, dtype=np.float64) for Zl, _, _ in caches]
    A = [X_ready.astype(np.float64)] + [np.asarray(Al, dtype=np.float64) for _, Al, _ in caches]
    M = none + [None if Ml is None else np.asarray(Ml, dtype=np.float64) for _, _, Ml in caches]
    keep = [1.0] + [1.0 - layer.dropout for layer in model.layers]
    inputs = [None] + [A[l - 1] if M[l - 1] is None else A[l - 1] * M[l - 1] / keep[l - 1] for l in range(1, L + 1)]
    dW = none + [np.asarray(g[0], dtype=np.float64) for g in grads]
    db = none + [np.asarray(g[1], dtype=np.float64).reshape(-1) for g in grads]
    Y = Y_ready.astype(np.float64)
    output = model.layers[-1]
    dZ, dA = [None] * (L + 1), [None] * (L + 1)
    dZ[L], dA[L] = _output_delta(model.loss, output.activation, output.negative_slope, Z[L], A[L], Y,
                                 model.huber_delta)
    for l in range(L, 1, -1):
        below = model.layers[l - 2]
        dA[l - 1] = dZ[l] @ W[l].T
        if M[l - 1] is not None:  # through Ã = A ⊙ M/(1 − p)
            dA[l - 1] = dA[l - 1] * M[l - 1] / keep[l - 1]
        dZ[l - 1] = dA[l - 1] * _core.activation_derivative(below.activation, Z[l - 1], below.negative_slope)
    return StepValues(W, b, Z, A, dZ, dW, db, dA, Y, float(loss_value), M, inputs)


def explain_step(model, X, y, preview_rows: int = 2, training: bool = False) -> str:
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
    training : bool
        Drop units as a training step would and show each dropout mask M[l] and what the next
        layer reads, A[l] ⊙ M[l]/(1 − p) (the masks the next training step would draw).

    Returns
    -------
    str
        The report. Without training, its loss equals model.evaluate(X, y)["loss"].
    """
    model._compiled_network()
    rows = np.shape(X)[0] if np.ndim(X) >= 1 else 0
    if rows > EXPLAIN_MAX_ROWS:
        raise ValueError(f"explain_step writes out every matrix, so it takes a small batch: X has {rows} rows, "
                         f"at most {EXPLAIN_MAX_ROWS} are allowed; pass a few rows, e.g. "
                         "model.explain_step(X[:8], y[:8])")
    if isinstance(preview_rows, bool) or not isinstance(preview_rows, (int, np.integer)) or preview_rows < 0:
        raise ValueError(f"preview_rows must be an integer >= 0, got {preview_rows!r}")
    X_ready, Y_ready, _ = engine_inputs(model, X, y)
    values = step_values(model, X_ready, Y_ready, bool(training))
    out = _Writer(int(preview_rows))
    _write_forward(out, model, values)
    _write_loss(out, model.loss, values)
    _write_output_delta(out, model, values)
    _write_backward(out, model, values)
    return str(out)


def _write_forward(out, model, v: StepValues) -> None:
    (m, d), L = v.A[0].shape, len(model.layers)
    out.text(f"One training step, written out (Sequential, {np.dtype(model.dtype).name}): "
             f"m = {m} samples, d = {d} features, {L} layer{'s' if L > 1 else ''}, loss {model.loss}")
    out.text("Numbering: as in the notes, layers count from 1 and A[0] = X; "
             "layer l here is model.layers[l-1] (so W[1] is model.layers[0].W).")
    if model.preprocessing is not None:
        out.text("X below is after the model's preprocessing (standardisation).")
    out.text()
    out.text("Forward propagation")
    out.step("A[0] = X", _shape(v.A[0]))
    out.values(v.A[0])
    for l in range(1, L + 1):
        layer = model.layers[l - 1]
        n_in, n_out = v.W[l].shape
        out.step(f"W[{l}]", _shape(n_in, n_out), f"n_in × n_out, model.layers[{l - 1}].W")
        out.values(v.W[l])
        out.step(f"b[{l}]", _shape(1, n_out), f"model.layers[{l - 1}].b")
        out.values(v.b[l])
        out.step(f"Z[{l}] = A[{l - 1}]·W[{l}] + b[{l}]",
                 f"({_shape(m, n_in)})·({_shape(n_in, n_out)}) + ({_shape(1, n_out)}) -> {_shape(m, n_out)}",
                 "b is added to every row")
        out.values(v.Z[l])
        meaning = f"α = {layer.negative_slope:g}" if layer.activation == "leaky_relu" else ""
        if l == L:
            meaning = {"softmax": "= P, class probabilities (rows sum to 1)",
                       "sigmoid": "= P, probability of class 1 per output",
                       "step": "= predicted labels 0/1"}.get(layer.activation, "= the model's output")
        out.step(f"A[{l}] = {layer.activation}(Z[{l}])", _shape(m, n_out), meaning)
        out.values(v.A[l])
        if v.M[l] is not None:
            out.step(f"M[{l}] (dropout mask)", _shape(m, n_out),
                     f"1 kept, 0 dropped; {int(v.M[l].sum())} of {v.M[l].size} kept, p = {layer.dropout:g}")
            out.values(v.M[l])
            out.step(f"Ã[{l}] = A[{l}] ⊙ M[{l}]/(1 − p)", _shape(m, n_out),
                     f"what layer {l + 1} reads instead of A[{l}]")
            out.values(v.inputs[l + 1])
    out.text()


def _write_loss(out, loss: str, v: StepValues) -> None:
    out.text("Loss (a mean over the m samples of the batch)")
    out.text(f"  {LOSS_FORMULAS[loss]}")
    out.step("Y (targets, encoded)", _shape(v.Y))
    out.values(v.Y)
    out.text(f"  L = {v.loss:.12g}")
    out.text()


def _write_output_delta(out, model, v: StepValues) -> None:
    L, loss = len(model.layers), model.loss
    m, k = v.Z[L].shape
    out.text("Backward propagation (no update is made)")
    if loss in ("cross_entropy", "binary_cross_entropy"):
        pair = "softmax + cross-entropy" if loss == "cross_entropy" else "sigmoid + binary cross-entropy"
        out.step(f"dZ[{L}] = (P − Y)/m", _shape(m, k), f"{pair}, fused: f' is never formed")
    elif loss == "hinge":
        out.step(f"dZ[{L}] = −t/m where t·Z[{L}] < 1, else 0", _shape(m, k), "hinge with identity output")
    elif loss == "perceptron":
        out.step(f"dZ[{L}] = (step(Z[{L}]) − Y)/m", _shape(m, k), "perceptron criterion")
    elif loss == "poisson":
        out.step(f"dZ[{L}] = (A[{L}] − Y)/(m·k)", _shape(m, k), "exp output + half Poisson deviance, fused")
    else:
        formula, name, _ = _REGRESSION_DELTAS[loss]
        if loss == "huber":
            name += f", δ = {model.huber_delta:g}"
        out.step(f"dA[{L}] = {formula.replace('[L]', f'[{L}]')}", _shape(m, k), f"{name}, k = {k} outputs")
        out.values(v.dA[L])
        out.step(f"dZ[{L}] = dA[{L}] ⊙ f'(Z[{L}])", f"{_shape(m, k)} ⊙ {_shape(m, k)} -> {_shape(m, k)}",
                 DERIVATIVE_FORMULAS[model.layers[-1].activation])
    out.values(v.dZ[L])


def _write_backward(out, model, v: StepValues) -> None:
    L, m = len(model.layers), v.A[0].shape[0]
    largest_difference = 0.0
    for l in range(L, 0, -1):
        n_in, n_out = v.W[l].shape
        largest_difference = max(largest_difference, float(np.abs(v.inputs[l].T @ v.dZ[l] - v.dW[l]).max()),
                                 float(np.abs(v.dZ[l].sum(axis=0) - v.db[l]).max()))
        read = "Ã" if v.M[l - 1] is not None else "A"
        out.step(f"dW[{l}] = {read}[{l - 1}]ᵀ·dZ[{l}]",
                 f"({_shape(n_in, m)})·({_shape(m, n_out)}) -> {_shape(n_in, n_out)}", "same shape as W")
        out.values(v.dW[l])
        out.step(f"db[{l}] = column sums of dZ[{l}]", f"-> {_shape(1, n_out)}", "same shape as b")
        out.values(v.db[l])
        if l == 1:
            break
        if v.M[l - 1] is not None:
            out.step(f"dA[{l - 1}] = (dZ[{l}]·W[{l}]ᵀ) ⊙ M[{l - 1}]/(1 − p)",
                     f"({_shape(m, n_out)})·({_shape(n_out, n_in)}) -> {_shape(m, n_in)}",
                     "dropped units pass no gradient")
        else:
            out.step(f"dA[{l - 1}] = dZ[{l}]·W[{l}]ᵀ",
                     f"({_shape(m, n_out)})·({_shape(n_out, n_in)}) -> {_shape(m, n_in)}")
        out.values(v.dA[l - 1])
        below = model.layers[l - 2]
        formula = DERIVATIVE_FORMULAS[below.activation]
        if below.activation == "leaky_relu":
            formula += f", α = {below.negative_slope:g}"
        out.step(f"dZ[{l - 1}] = dA[{l - 1}] ⊙ f'(Z[{l - 1}])",
                 f"{_shape(m, n_in)} ⊙ {_shape(m, n_in)} -> {_shape(m, n_in)}", formula)
        out.values(v.dZ[l - 1])
    out.text("  (dA[0] is not needed: X is data, not a parameter)")
    out.text()
    scale = max(1.0, max(float(np.abs(g).max()) for g in v.dW[1:] + v.db[1:]))
    agreement = "reproduce" if largest_difference <= 1e-4 * scale else "do NOT reproduce"
    out.text(f"These formulas, evaluated in NumPy from the cached Z and A, {agreement} the engine's dW and db "
             f"(largest difference {largest_difference:.1e}).")
    out.text("A training step would now update W[l] ← W[l] − lr·dW[l] and b[l] ← b[l] − lr·db[l] "
             "(plain SGD; see the optimiser for momentum or Adam).")
