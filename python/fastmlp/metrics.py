"""Metrics that compile(metrics=[...]) logs each epoch, on the training data and the validation set.

A metric is logged under the name it was given ("mae" or "mean_absolute_error"), and as
"val_" + name for the validation set. The training value is measured on the training data
with the weights at the end of the epoch (one extra forward pass per epoch), where Keras
averages it over the epoch's batches as the weights move. "accuracy" (or "acc") is the
engine's own count, logged for every classifier anyway.
"""
from __future__ import annotations

import numpy as np

_CANONICAL = {"accuracy": "accuracy", "acc": "accuracy",
              "mae": "mae", "mean_absolute_error": "mae",
              "mse": "mse", "mean_squared_error": "mse",
              "rmse": "rmse", "root_mean_squared_error": "rmse"}


def check_metrics(metrics, is_classifier: bool) -> list[str]:
    """The extra metric names to compute (accuracy excluded: the engine counts it); refuses
    unknown names and accuracy for a regression loss."""
    if metrics is None:
        return []
    if isinstance(metrics, str):
        metrics = [metrics]
    names: list[str] = []
    for name in metrics:
        if not isinstance(name, str) or name.lower() not in _CANONICAL:
            raise ValueError(f"unknown metric {name!r}; expected one of {', '.join(sorted(_CANONICAL))}")
        if _CANONICAL[name.lower()] == "accuracy":
            if not is_classifier:
                raise ValueError(f"metric {name!r} needs a classification loss")
            continue
        if name not in names:
            names.append(name)
    return names


def metric_value(name: str, P: np.ndarray, Y: np.ndarray) -> float:
    """The metric over all samples and outputs of predictions P and targets Y, both (m, k)."""
    difference = P.astype(np.float64) - Y.astype(np.float64)
    kind = _CANONICAL[name.lower()]
    if kind == "mae":
        return float(np.mean(np.abs(difference)))
    mse = float(np.mean(difference ** 2))
    return mse if kind == "mse" else float(np.sqrt(mse))
