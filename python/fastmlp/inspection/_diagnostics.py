"""Gradient flow per layer (norms, saturated and dead units) and the plain-words diagnosis."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .. import _core
from ._common import engine_inputs

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


def _silent_source(model, silent: list, measures: dict):
    """The finding for the first hidden layer that outputs 0 for every sample, or None.

    Such a layer cuts the network in two: every later layer gets only zeros as input, so
    its dW = A[l-1]ᵀ·dZ[l] is 0, and relu'(z) = 0 stops the gradient on its way back.
    """
    source = next((index for index, quiet in enumerate(silent[:-1]) if quiet), None)
    if source is None:
        return None
    layer = model.layers[source]
    dead = measures["dead_fraction"][source]
    why = (f"all {layer.units} of its units are dead (z ≤ 0 for every sample)" if not math.isnan(dead)
           else "its activation is 0 for every sample")
    zero = [i for i, norm in enumerate(measures["grad_norm"]) if norm == 0.0]
    return Finding(
        "no_gradient", "problem", source,
        f"layer {source} ({layer.activation}) outputs 0 for every sample: {why}. Every layer after it receives "
        f"only zeros, so its dW = A[l-1]ᵀ·dZ[l] is 0, and no gradient passes back through it to the layers "
        f"before it; layers with ‖dW‖ = 0: {', '.join(map(str, zero)) or 'none'}. The loss is not flat: the "
        "network is cut at this layer (dead units further on follow from it).",
        "reinitialise the model (a dead layer does not come back by itself), use leaky_relu (negative_slope=0.01), "
        "a smaller learning rate, or small positive initial biases")


def _findings(model, measures: dict, silent: list) -> list:
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
    cut = _silent_source(model, silent, measures)
    if cut is not None:
        findings.append(cut)
    elif last == 0.0:
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
    return findings + _unit_findings(model, measures, cut)


def _unit_findings(model, measures: dict, cut) -> list:
    """Layers with many saturated or dead units (those after a cut excepted: the cut explains them)."""
    activations = [layer.activation for layer in model.layers]
    units = [layer.units for layer in model.layers]
    findings = []
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
        if math.isnan(fraction) or fraction <= NOTE_FRACTION or (cut is not None and index > cut.layer):
            continue              # units after a cut die of their zero input: the cut explains them
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
    X_ready, Y_ready, _ = engine_inputs(model, X, y)
    measures = layer_diagnostics(model, X_ready, Y_ready)
    silent = [bool(np.all(np.asarray(A) == 0)) for _, A in model._compiled_network().forward(X_ready)]
    return Diagnosis(
        activations=[layer.activation for layer in model.layers],
        units=[layer.units for layer in model.layers],
        grad_norm=measures["grad_norm"], saturated_fraction=measures["saturated_fraction"],
        dead_fraction=measures["dead_fraction"], findings=_findings(model, measures, silent),
        n_samples=X_ready.shape[0], dtype=np.dtype(model.dtype).name, loss=model.loss)
