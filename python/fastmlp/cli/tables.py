"""How the command line prints: names and class labels as text, numbers, scores, the confusion table."""
from __future__ import annotations

import math

import numpy as np


def list_names(names, limit: int = 8) -> str:
    names = [str(name) for name in names]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def json_label(value):
    """A class label as a plain JSON value: str, or int when integral, else float."""
    if isinstance(value, (str, np.str_)):
        return str(value)
    value = float(value)
    return int(value) if value.is_integer() else value


def label_text(value) -> str:
    return str(json_label(value))


def list_classes(classes, limit: int = 10) -> str:
    # repr quotes text labels, so "far, left" reads as one class; numbers stay bare.
    return list_names([repr(json_label(c)) for c in classes], limit)


def number_texts(values: np.ndarray) -> list:
    # numpy's shortest round-trip text of the model's dtype: float32 gives "0.1", not 0.10000000149.
    return [str(value) for value in values]



# ----------------------------------------------------------------------------- scores

SCORE_NAMES = {"loss": "loss", "accuracy": "accuracy", "macro_f1": "macro-F1", "mse": "MSE", "rmse": "RMSE",
               "mae": "MAE", "r2": "R2"}


def format_score(key: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4f}" if key in ("accuracy", "macro_f1", "r2") else f"{value:.4g}"


def format_scores(scores: dict) -> str:
    """One line: "loss 0.1  accuracy 0.9500" or "MSE 2.1  RMSE 1.449  MAE 1.2  R2 0.9100"."""
    return "  ".join(f"{SCORE_NAMES.get(key, key)} {format_score(key, value)}" for key, value in scores.items()
                     if value is None or isinstance(value, (int, float)))


def confusion_table(true_index: np.ndarray, predicted_index: np.ndarray, classes) -> str:
    """Counts of (true class, predicted class) as a text table, one row per true class."""
    k = len(classes)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (true_index, predicted_index), 1)
    names = [label_text(c) for c in classes]
    first = max(len("true \\ predicted"), *(len(name) for name in names))
    widths = [max(len(name), len(str(counts[:, j].max()))) for j, name in enumerate(names)]
    lines = ["true \\ predicted".ljust(first) + "  " + "  ".join(n.rjust(w) for n, w in zip(names, widths))]
    for i, name in enumerate(names):
        lines.append(name.ljust(first) + "  " + "  ".join(str(counts[i, j]).rjust(w) for j, w in enumerate(widths)))
    return "\n".join(lines)
