"""Standardising features and one-hot encoding labels."""
from __future__ import annotations


import numpy as np


def _check_features(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}; "
            "reshape a single feature with X.reshape(-1, 1)"
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return X


class Standardizer:
    """Scale features to zero mean and unit variance: ``(X - mean_) / scale_``.

    ``scale_`` is the population standard deviation (``ddof=0``, as in scikit-learn's
    StandardScaler); a constant feature gets scale 1 so it maps to 0.

    Attributes (after ``fit``)
    ----------
    mean_ : ndarray of shape (n_features,), float64
    scale_ : ndarray of shape (n_features,), float64
    n_features_in_ : int
    """

    def fit(self, X):
        """Learn ``mean_`` and ``scale_`` from X of shape (n_samples, n_features); return self."""
        X = _check_features(X)
        if X.shape[0] < 1:
            raise ValueError("X has no samples; Standardizer needs at least 1 to fit")
        if X.shape[1] < 1:
            raise ValueError("X has no features; Standardizer needs at least 1 to fit")
        # Each column divided by its largest magnitude first: the sum and the squares of values
        # above ~1e154 would overflow float64, the ratios never do.
        magnitude = np.abs(X).max(axis=0).astype(np.float64)
        magnitude[magnitude == 0] = 1.0
        ratios = X.astype(np.float64) / magnitude
        mean = ratios.mean(axis=0, dtype=np.float64) * magnitude
        std = ratios.std(axis=0, dtype=np.float64) * magnitude
        constant = X.min(axis=0) == X.max(axis=0)
        self.mean_ = mean
        self.scale_ = np.where(constant, 1.0, std)
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted_input(self, X) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise ValueError("this Standardizer is not fitted yet; call fit(X) first")
        X = _check_features(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but this Standardizer was fitted with "
                f"{self.n_features_in_} features"
            )
        return X

    @staticmethod
    def _work_dtype(X):
        return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)

    def transform(self, X):
        """Return ``(X - mean_) / scale_``, shape (n_samples, n_features).

        float32 and float64 input keep their dtype; other numeric input gives float64.
        """
        X = self._check_fitted_input(X)
        dtype = self._work_dtype(X)
        return (X - self.mean_.astype(dtype)) / self.scale_.astype(dtype)

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        """Return ``X * scale_ + mean_``, shape (n_samples, n_features), dtype as in transform."""
        X = self._check_fitted_input(X)
        dtype = self._work_dtype(X)
        return X * self.scale_.astype(dtype) + self.mean_.astype(dtype)

    def to_dict(self) -> dict:
        """The fitted parameters as ``{"mean": [...], "scale": [...]}`` (JSON-able floats)."""
        if not hasattr(self, "mean_"):
            raise ValueError("this Standardizer is not fitted yet; call fit(X) first")
        return {"mean": self.mean_.tolist(), "scale": self.scale_.tolist()}

    @classmethod
    def from_dict(cls, d) -> Standardizer:
        """Rebuild a fitted Standardizer from :meth:`to_dict`'s output."""
        if not isinstance(d, dict) or "mean" not in d or "scale" not in d:
            raise ValueError("Standardizer.from_dict needs a dict with keys 'mean' and 'scale'")
        try:
            mean = np.array(d["mean"], dtype=np.float64)
            scale = np.array(d["scale"], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "Standardizer.from_dict: 'mean' and 'scale' must be lists of numbers"
            ) from None
        if mean.ndim != 1 or mean.size < 1 or mean.shape != scale.shape:
            raise ValueError(
                "Standardizer.from_dict: 'mean' and 'scale' must be non-empty lists of equal "
                f"length, got shapes {mean.shape} and {scale.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("Standardizer.from_dict: values must be finite and every scale > 0")
        standardizer = cls()
        standardizer.mean_ = mean
        standardizer.scale_ = scale
        standardizer.n_features_in_ = mean.size
        return standardizer

    def __repr__(self) -> str:
        if hasattr(self, "mean_"):
            return f"Standardizer(n_features_in_={self.n_features_in_})"
        return "Standardizer()"


# --------------------------------------------------------------------------- encoding

def _format_labels(labels, limit: int = 5) -> str:
    shown = ", ".join(repr(label) for label in labels[:limit])
    if len(labels) > limit:
        shown += f" (and {len(labels) - limit} more)"
    return shown


def _check_labels(labels, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D class labels, got shape {labels.shape}")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(f"{name} contains NaN, which is not a class label")
    if labels.dtype.kind not in "biufUS":
        raise ValueError(f"{name} must hold numbers or strings, got dtype {labels.dtype}")
    return labels


def one_hot(y, classes=None, dtype=np.float32):
    """One-hot encode class labels.

    Parameters
    ----------
    y : array-like of shape (n_samples,) (or (n_samples, 1)): int, float or str labels
    classes : array-like of shape (n_classes,), optional
        Column order; default the sorted unique labels of ``y``.
    dtype : dtype of the result, default float32

    Returns
    -------
    Y : ndarray of shape (n_samples, n_classes); ``Y[i, j] = 1`` where ``y[i] == classes[j]``
    classes : ndarray of shape (n_classes,); ``classes[Y.argmax(axis=1)]`` gives back ``y``
    """
    y = _check_labels(y, "y")
    if classes is None:
        classes = np.unique(y)
    else:
        classes = _check_labels(classes, "classes")
        unique = np.unique(classes)
        if unique.size != classes.size:
            _, counts = np.unique(classes, return_counts=True)
            raise ValueError(
                "classes contains duplicates: " + _format_labels(unique[counts > 1].tolist())
            )

    def kind_group(array):
        return "number" if array.dtype.kind in "biuf" else array.dtype.kind

    if kind_group(y) == kind_group(classes) and classes.size:
        sort_order = np.argsort(classes, kind="stable")
        sorted_classes = classes[sort_order]
        position = np.minimum(np.searchsorted(sorted_classes, y), classes.size - 1)
        known = sorted_classes[position] == y
    else:  # numbers never equal strings, and nothing is in an empty set of classes
        sort_order = position = np.zeros(y.size, dtype=np.intp)
        known = np.zeros(y.size, dtype=bool)
    if not known.all():
        unknown = np.unique(y[~known]).tolist()
        raise ValueError(
            f"y contains labels not in classes: {_format_labels(unknown)}; "
            f"classes are {_format_labels(classes.tolist(), limit=20)}"
        )
    Y = np.zeros((y.size, classes.size), dtype=dtype)
    Y[np.arange(y.size), sort_order[position]] = 1
    return Y, classes
