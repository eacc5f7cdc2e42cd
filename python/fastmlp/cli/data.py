"""What the command line reads: CSV columns, the task and class labels, a loaded model's outputs, scores.

Kept apart from the commands so each file holds one idea; how these read as text is in tables.
"""
from __future__ import annotations

import csv
import math

import numpy as np

from ..datasets import load_csv
from .tables import label_text, list_classes, list_names, number_texts

# Rule for --task auto (numeric targets; text labels always mean classification).
AUTO_MAX_CLASSES = 20


class UsageError(ValueError):
    """A bad command-line value found after parsing (exit status 2, as argparse's own)."""


# ----------------------------------------------------------------------------- CSV input

def csv_header(path) -> list:
    """Column names of a CSV file's header row (ValueError for an empty or unreadable file)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            for record in csv.reader(stream, strict=True):
                if record:
                    return [name.strip() for name in record]
    except csv.Error as error:
        raise ValueError(f"{path}: line 1: malformed CSV ({error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a UTF-8 text file (byte {error.start}: {error.reason}); "
                         "expected a CSV file with a header row") from None
    raise ValueError(f"{path}: empty file (expected a header row)")


def load_csv_file(path, target):
    try:
        return load_csv(path, target=target)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a UTF-8 text file (byte {error.start}: {error.reason}); "
                         "expected a CSV file with a header row") from None


def read_model_inputs(path, model, target_required: bool, target_override=None, args=None):
    """Read the model's inputs (and the target, when present) from a CSV file.

    Returns X of shape (n_samples, n_features) in the model's feature order, y of shape
    (n_samples,) or None, and the id column's name and cells (None, None without one). A model
    from fastmlp train applies its TableSchema; an older one takes numeric feature columns.
    """
    meta = model.metadata
    features = meta.get("features")
    target = target_override or meta.get("target")
    if getattr(model, "table", None) is not None:
        from .tabular import table_inputs

        return table_inputs(path, model, args, target_required, target)
    names = csv_header(path)
    if features is not None:
        missing = [name for name in features if name not in names]
        if missing:
            raise ValueError(f"{path}: missing feature column(s) {list_names(map(repr, missing))}; the model was "
                             f"trained on {list_names(features)}")
        extra = [name for name in names if name not in features and name != target]
        if extra:
            raise ValueError(f"{path}: column(s) {list_names(map(repr, extra))} are not features of the model "
                             f"(it takes {list_names(features)}"
                             + (f", and the target {target!r} is optional" if target else "") + "); remove them")
    present = target is not None and target in names
    if target_required and not present:
        if target is None:
            raise UsageError("the model file does not name its target column; give it with --target COL")
        raise ValueError(f"{path}: no target column {target!r}; evaluate compares predictions with it")
    data = load_csv_file(path, target if present else None)
    X = data.X
    if features is not None:
        X = X[:, [data.feature_names.index(name) for name in features]]
    elif X.shape[1] != model.input_dim:
        raise ValueError(f"{path}: {X.shape[1]} feature column(s) but the model takes {model.input_dim} "
                         "(the model file stores no feature names, so every non-target column is a feature)")
    return X, data.y, None, None


# ----------------------------------------------------------------------------- tasks and labels

def infer_task(y: np.ndarray) -> tuple:
    """Return ("classification" | "regression", reason) for a target column.

    Text labels mean classification; so do numbers that are all integers with at most
    AUTO_MAX_CLASSES distinct values and fewer distinct values than half the rows.
    Anything else is regression.
    """
    if y.dtype.kind in "US":
        return "classification", "the target holds text labels"
    distinct = np.unique(y).size
    integral = bool(np.all(y == np.round(y)))
    if integral and distinct <= AUTO_MAX_CLASSES and 2 * distinct < y.shape[0]:
        return "classification", f"{distinct} distinct integer values in {y.shape[0]} rows"
    kind = "integer" if integral else "real"
    return "regression", f"{distinct} distinct {kind} values in {y.shape[0]} rows"


def encode_classes(y: np.ndarray, classes: list, path) -> np.ndarray:
    """Indices 0..k-1 of y's labels among `classes` (ValueError naming unknown labels)."""
    if all(isinstance(c, str) for c in classes):
        texts = y if y.dtype.kind in "US" else np.array([label_text(v) for v in y])
        lookup = {name: index for index, name in enumerate(classes)}
        keys: list = [str(t) for t in texts]
    else:
        if y.dtype.kind in "US":
            keys = list(y)
        else:
            keys = [float(v) for v in y]
        lookup = {float(c): index for index, c in enumerate(classes) if not isinstance(c, str)}
    unknown = list(dict.fromkeys(key for key in keys if key not in lookup))
    if unknown:
        raise ValueError(f"{path}: label(s) {list_classes(unknown, 5)} are not among the "
                         f"model's classes ({list_classes(classes)})")
    return np.array([lookup[key] for key in keys], dtype=np.int64)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def checked_metadata(model, path) -> dict:
    """The model's metadata, with the entries predict and evaluate rely on checked.

    A model file may come from anywhere: its features must be distinct column names, one
    per input; its classes distinct labels (all text or all numbers), one per output unit
    (two for a single sigmoid unit); its target a column name.
    """
    meta = model.metadata

    def refuse(problem: str):
        raise ValueError(f"{path}: the model's metadata {problem}")

    features = meta.get("features")
    if features is not None:
        if not isinstance(features, list) or not all(isinstance(name, str) for name in features) \
                or len(set(features)) != len(features):
            refuse("has 'features' that are not a list of distinct column names")
        if len(features) != model.input_dim:
            refuse(f"names {len(features)} feature(s) but the model takes {model.input_dim}")
    target = meta.get("target")
    if target is not None and not isinstance(target, str):
        refuse(f"has a 'target' that is not a column name: {target!r}")
    classes = meta.get("classes")
    if classes is not None:
        if not isinstance(classes, list) or not (
                all(isinstance(c, str) for c in classes) or all(_is_number(c) for c in classes)) \
                or len({c if isinstance(c, str) else float(c) for c in classes}) != len(classes):
            refuse("has 'classes' that are not a list of distinct labels, all text or all numbers")
        expected = max(model.output_dim, 2)
        if model.is_classifier and len(classes) != expected:
            refuse(f"names {len(classes)} classes but the model's output layer gives {expected}")
    return meta


class ModelOutputs:
    """How a loaded model's outputs read: the task, the class names, labels and probabilities."""

    def __init__(self, model, path):
        metadata = checked_metadata(model, path)
        self.model = model
        self.classifier = model.is_classifier
        units = model.output_dim
        activation = model.layers[-1].activation
        if self.classifier and units > 1 and activation != "softmax" and model.loss == "binary_cross_entropy":
            raise ValueError("the model has several independent sigmoid outputs (multi-label); "
                             "the CLI handles single-label classifiers and regressors")
        if not self.classifier and units > 1:
            raise ValueError(f"the model has {units} regression outputs; the CLI handles one target column")
        self.classes = (metadata.get("classes") or list(range(max(units, 2)))) if self.classifier else None
        # Probability columns only where the outputs are probabilities.
        self.has_probabilities = self.classifier and activation in ("softmax", "sigmoid")

    def predict(self, X):
        """Return (class indices (n_samples,) or regression values (n_samples,),
        class probabilities (n_samples, k) or None)."""
        outputs = self.model.predict(X)
        if not self.classifier:
            return outputs[:, 0], None
        if outputs.shape[1] > 1:
            return outputs.argmax(axis=1), (outputs if self.has_probabilities else None)
        threshold = 0.0 if self.model.layers[-1].activation == "identity" else 0.5
        index = (outputs[:, 0] > threshold).astype(np.int64)
        probabilities = np.column_stack([1 - outputs[:, 0], outputs[:, 0]]) if self.has_probabilities else None
        return index, probabilities

    def texts(self, predicted) -> list:
        """The prediction column: class names, or regression values as numbers."""
        if not self.classifier:
            return number_texts(predicted)
        names = [label_text(c) for c in self.classes]
        return [names[i] for i in predicted]


# ----------------------------------------------------------------------------- scores

def classification_scores(true_index: np.ndarray, predicted_index: np.ndarray) -> dict:
    """Accuracy and macro-F1 (over the classes present in either, as scikit-learn's f1_score averages)."""
    labels = np.union1d(true_index, predicted_index)
    f1 = []
    for label in labels:
        predicted, true = predicted_index == label, true_index == label
        tp, fp, fn = (float(np.sum(predicted & true)), float(np.sum(predicted & ~true)),
                      float(np.sum(~predicted & true)))
        f1.append(2 * tp / (2 * tp + fp + fn))  # > 0: the label occurs in one of them
    return {"accuracy": float(np.mean(true_index == predicted_index)), "macro_f1": float(np.mean(f1))}


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    error = y_pred.astype(np.float64) - y_true
    mse = float(np.mean(error ** 2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(error ** 2)) / total if total > 0 else float("nan")
    return {"mse": mse, "rmse": math.sqrt(mse), "mae": float(np.mean(np.abs(error))), "r2": r2}
