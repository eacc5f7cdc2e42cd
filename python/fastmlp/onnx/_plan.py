"""What a fastmlp model computes at prediction time, read from its public attributes.

An ExportPlan is independent of ONNX: the layers (W, b, activation, slope), the dtype they
run in, the standardiser in front, and the head that turns the last activations into the
outputs users get from predict / predict_proba:

    head "output"      Sequential               output = A[L] (and label, when its metadata names classes)
    head "regression"  MLPRegressor             variable = A[L], (n, n_outputs)
    head "activations" MLPClassifier            label, probabilities from A[L] (sigmoid / softmax)
    head "scores"      linear classifiers       label, probabilities from z = X·W + b in float64,
                                                as their decision_function computes it
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ESTIMATOR_KINDS = ("Perceptron", "LogisticRegression", "LinearSVM", "MLPClassifier", "MLPRegressor")


@dataclass
class ExportPlan:
    kind: str
    n_features: int
    input_dtype: np.dtype       # the model's dtype: what predict converts X to first
    compute_dtype: np.dtype     # what the layers run in
    layers: list                # (W, b, activation, negative_slope) per layer
    head: str
    standardizer: tuple | None = None   # (mean, scale), float64, applied in float64
    classes: np.ndarray | None = None
    multilabel: bool = False
    probabilities: str = ""     # scores head: "logistic" (sigmoid / softmax) or "scores" (decision function)
    table: list | None = None   # a Sequential's TableSchema encodings: one graph input per column
    metadata: dict = field(default_factory=dict)

    @property
    def is_classifier(self) -> bool:
        return self.head in ("activations", "scores")

    @property
    def n_outputs(self) -> int:
        return int(np.shape(self.layers[-1][1])[0])

    @property
    def n_probability_columns(self) -> int:
        """Columns of `probabilities`: one per class (per label), one for a two-class score."""
        if self.head == "scores" and self.probabilities == "scores":
            return self.n_outputs
        return self.n_outputs if (self.multilabel or self.n_outputs > 1) else 2


def _layers_of(model) -> list:
    return [(layer.W, layer.b, layer.activation, layer.negative_slope) for layer in model.layers]


def _describe(model) -> str:
    parts = [str(model.input_dim)] + [f"{layer.units} {layer.activation}" for layer in model.layers]
    return " -> ".join(parts)


def plan_sequential(model) -> ExportPlan:
    if not model.built:
        raise ValueError("the model is not built yet: give Sequential an input_dim, or call fit() or build() "
                         "before exporting it")
    dtype = np.dtype(model.dtype)
    standardizer = None
    if model.preprocessing is not None:
        standardizer = (np.asarray(model.preprocessing.mean_, np.float64),
                        np.asarray(model.preprocessing.scale_, np.float64))
    table = None if getattr(model, "table", None) is None else list(model.table.encodings)
    return ExportPlan("Sequential", int(model.input_dim), dtype, dtype, _layers_of(model), "output",
                      standardizer=standardizer, classes=_named_classes(model), metadata={"layers": _describe(model)},
                      table=table)


def _named_classes(model):
    """The class names of a single-label classifier that lists them in its metadata (as the CLI's
    models do), one per output unit (two for one unit); None for any other model."""
    classes = model.metadata.get("classes")
    last = model.layers[-1]
    if not model.is_classifier or not isinstance(classes, list) or len(classes) != max(last.units, 2):
        return None
    if last.units > 1 and last.activation != "softmax" and model.loss == "binary_cross_entropy":
        return None  # independent sigmoid units: several labels per row, not one class
    if not (all(isinstance(c, str) for c in classes) or
            all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes)):
        return None
    return np.asarray(classes)


def plan_estimator(estimator) -> ExportPlan:
    from sklearn.utils.validation import check_is_fitted

    kind = type(estimator).__name__
    check_is_fitted(estimator)
    model = estimator.model_
    dtype = np.dtype(model.dtype)
    layers = _layers_of(model)
    metadata = {"layers": _describe(model)}
    if kind == "MLPRegressor":
        return ExportPlan(kind, int(model.input_dim), dtype, dtype, layers, "regression", metadata=metadata)
    classes = np.asarray(estimator.classes_)
    if classes.dtype.kind == "f" and not np.all(np.isfinite(classes)):
        raise ValueError("class labels must be finite to be exported")
    if kind == "MLPClassifier":
        last = model.layers[-1]
        multilabel = last.activation == "sigmoid" and last.units > 1
        return ExportPlan(kind, int(model.input_dim), dtype, dtype, layers, "activations", classes=classes,
                          multilabel=multilabel, metadata=metadata)
    # Linear models decide on z = X·W + b computed in float64 from the model's own weights.
    W, b, _, slope = layers[0]
    decision = [(np.asarray(W, np.float64), np.asarray(b, np.float64), "identity", slope)]
    probabilities = "logistic" if kind == "LogisticRegression" else "scores"
    return ExportPlan(kind, int(model.input_dim), dtype, np.dtype(np.float64), decision, "scores",
                      classes=classes, probabilities=probabilities, metadata=metadata)


def plan(model) -> ExportPlan:
    """The ExportPlan of a Sequential or of a fitted fastmlp estimator; ValueError otherwise."""
    from ..model import Sequential

    if isinstance(model, Sequential):
        return plan_sequential(model)
    if type(model).__name__ in ESTIMATOR_KINDS and type(model).__module__.startswith("fastmlp."):
        return plan_estimator(model)
    raise ValueError(f"fastmlp.onnx.export takes a fm.Sequential or a fastmlp estimator "
                     f"({', '.join(ESTIMATOR_KINDS)}), got {type(model).__name__}")
