"""The shape check that dense (_validation) and sparse (_sparse) feature matrices share."""
from __future__ import annotations


def check_feature_shape(shape: tuple, name: str, n_features: int | None) -> None:
    """Rows and columns of a 2-D X (dense or sparse): some samples, some features, the model's count."""
    if shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples")
    if shape[1] == 0:
        raise ValueError(f"{name} has 0 features")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(f"{name} has {shape[1]} features, but the model expects {n_features}")
