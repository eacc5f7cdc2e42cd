"""What the inspection tools share: data prepared exactly as fit() prepares it."""
from __future__ import annotations

from .._validation import check_sample_weight


def engine_inputs(model, X, y, sample_weight=None):
    """X, Y (encoded targets) and weights as the engine takes them, checked like fit() does."""
    model._compiled_network()
    X_ready = model._features(X, accept_sparse=False)
    Y_ready = model._targets(y, X_ready.shape[0])
    weights = check_sample_weight(sample_weight, X_ready.shape[0], model.dtype)
    return X_ready, Y_ready, weights
