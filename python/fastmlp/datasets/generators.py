"""Seeded toy data: XOR, moons, circles, spirals, blobs and a regression target."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._common import _as_generator, _check_int, _check_real, _split_evenly, _shuffled


def make_xor(n_samples=200, noise=0.1, random_state=None):
    """Four clusters, one per quadrant, labelled by the XOR of the coordinates' signs.

    Each quadrant receives a quarter of the samples (as evenly as possible). A point's
    magnitudes are drawn uniformly from [0.1, 1.0] in each coordinate, signed by its
    quadrant, and then Gaussian noise of standard deviation ``noise`` is added. The label
    is ``(x0 < 0) XOR (x1 < 0)`` of the quadrant the point was drawn in, so with
    ``noise=0`` every quadrant is pure, and no straight line separates the two classes.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64 in {0, 1}
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    noise = _check_real(noise, "noise")
    rng = _as_generator(random_state)

    quadrant_signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)
    quadrant = np.repeat(np.arange(4), _split_evenly(n_samples, 4))
    signs = quadrant_signs[quadrant]
    X = signs * rng.uniform(0.1, 1.0, size=(n_samples, 2))
    y = (signs[:, 0] != signs[:, 1]).astype(np.int64)
    X += noise * rng.standard_normal((n_samples, 2))
    return _shuffled(X, y, rng)


def make_moons(n_samples=200, noise=0.1, random_state=None):
    """Two interleaving half circles.

    Class 0 (``n_samples // 2`` points) lies on the upper unit half circle
    ``(cos t, sin t)``, class 1 (the rest) on the lower half circle
    ``(1 - cos t, 0.5 - sin t)``, ``t`` evenly spaced in [0, pi]; Gaussian noise of
    standard deviation ``noise`` is added to both coordinates. Rows are shuffled.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64 in {0, 1}
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    noise = _check_real(noise, "noise")
    rng = _as_generator(random_state)

    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    X = np.concatenate([
        np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
        np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)]),
    ])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_upper, n_lower])
    X += noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


def make_circles(n_samples=200, noise=0.05, factor=0.5, random_state=None):
    """A small circle inside a large one.

    Class 0 (``n_samples // 2`` points) lies on the unit circle, class 1 (the rest) on
    the circle of radius ``factor``, angles evenly spaced; Gaussian noise of standard
    deviation ``noise`` is added to both coordinates. Rows are shuffled.

    Parameters
    ----------
    factor : float in [0, 1)
        Radius of the inner circle relative to the outer one.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64 in {0, 1}
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    noise = _check_real(noise, "noise")
    factor = _check_real(factor, "factor")
    if factor >= 1.0:
        raise ValueError(f"factor must be in [0, 1) (inner radius / outer radius), got {factor}")
    rng = _as_generator(random_state)

    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0.0, 2.0 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2.0 * np.pi, n_inner, endpoint=False)
    X = np.concatenate([
        np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
        factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)]),
    ])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_outer, n_inner])
    X += noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


def make_spirals(n_samples=300, n_classes=3, noise=0.2, turns=1.0, random_state=None):
    """``n_classes`` interleaved spiral arms, the classic softmax-classification toy set.

    Class ``j`` has ``n_samples // n_classes`` points (the first ``n_samples % n_classes``
    classes one more) at radii ``r`` evenly spaced in (0, 1] and angles
    ``2*pi*(j / n_classes + turns * r) + noise * N(0, 1)``: the noise perturbs the
    angle (radians), so arms blur more at the rim than at the centre. Rows are shuffled.

    Parameters
    ----------
    turns : float >= 0
        How many full turns each arm makes from the centre to radius 1.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64 in 0 .. n_classes-1
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_classes = _check_int(n_classes, "n_classes", 2)
    noise = _check_real(noise, "noise")
    turns = _check_real(turns, "turns")
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples ({n_samples}) must be at least n_classes ({n_classes}) "
            "so that every class has a point"
        )
    rng = _as_generator(random_state)

    sizes = _split_evenly(n_samples, n_classes)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), sizes)
    # rank of each point inside its arm, 1..size, so radii run over (0, 1]
    rank = np.concatenate([np.arange(1, size + 1) for size in sizes])
    radius = rank / sizes[y]
    angle = 2.0 * np.pi * (y / n_classes + turns * radius)
    angle += noise * rng.standard_normal(n_samples)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _shuffled(X, y, rng)


def make_blobs(n_samples=200, n_features=2, centers=3, cluster_std=1.0,
               center_box=(-10.0, 10.0), random_state=None):
    """Isotropic Gaussian clusters.

    Parameters
    ----------
    centers : int or array-like of shape (n_centers, n_features)
        Number of centres, drawn uniformly from ``center_box`` in every coordinate,
        or the centres themselves (then ``n_features`` is taken from their columns).
    cluster_std : float or array-like of shape (n_centers,)
        Standard deviation of each cluster.
    center_box : (float, float)
        Bounds (low, high) for random centres.

    Samples are split among centres as evenly as possible; rows are shuffled.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64: index of the centre of each sample
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    rng = _as_generator(random_state)

    center_coords = _blob_centers(centers, n_features, center_box, rng)
    n_centers, n_features = center_coords.shape
    stds = _cluster_stds(cluster_std, n_centers)
    y = np.repeat(np.arange(n_centers, dtype=np.int64), _split_evenly(n_samples, n_centers))
    X = center_coords[y] + stds[y, None] * rng.standard_normal((n_samples, n_features))
    return _shuffled(X, y, rng)


def _blob_centers(centers, n_features, center_box, rng: np.random.Generator) -> np.ndarray:
    """The centres of make_blobs, shape (n_centers, n_features): drawn in center_box, or as given."""
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        n_centers = _check_int(centers, "centers", 1)
        n_features = _check_int(n_features, "n_features", 1)
        try:
            low, high = (float(v) for v in center_box)
        except (TypeError, ValueError):
            raise ValueError(f"center_box must be a pair (low, high), got {center_box!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"center_box must be finite with low < high, got {center_box!r}")
        center_coords = rng.uniform(low, high, size=(n_centers, n_features))
    else:
        try:
            center_coords = np.asarray(centers, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"centers must be an int or a 2-D array of centre coordinates, got {centers!r}"
            ) from None
        if center_coords.ndim != 2 or center_coords.shape[0] < 1 or center_coords.shape[1] < 1:
            raise ValueError(
                "centers must be an int or an array of shape (n_centers, n_features), "
                f"got shape {center_coords.shape}"
            )
        if not np.isfinite(center_coords).all():
            raise ValueError("centers contains NaN or infinity")
    return center_coords


def _cluster_stds(cluster_std, n_centers: int) -> np.ndarray:
    """One standard deviation per centre, shape (n_centers,)."""
    stds = np.asarray(cluster_std, dtype=np.float64)
    if stds.ndim == 0:
        stds = np.full(n_centers, float(stds))
    if stds.shape != (n_centers,):
        raise ValueError(
            f"cluster_std must be a number or have one value per centre ({n_centers}), "
            f"got shape {stds.shape}"
        )
    if not (np.isfinite(stds).all() and (stds >= 0).all()):
        raise ValueError(f"cluster_std must be finite and >= 0, got {cluster_std!r}")
    return stds


def make_regression(n_samples=200, n_features=4, n_targets=1, noise=0.1, nonlinear=True,
                    random_state=None):
    """Regression targets from standard-normal features.

    With random directions ``w_t``, ``u_t``, ``v_t`` (``u_t`` and ``v_t`` of unit
    length, ``w_t`` with variance ``1/n_features`` per entry), target ``t`` is::

        nonlinear=True:   y_t = X.w_t + sin(2 X.u_t) + (X.v_t)**2 - 1 + noise * eps
        nonlinear=False:  y_t = X.w_t + noise * eps,     eps ~ N(0, 1)

    The non-linear part is mostly invisible to a linear model (a square of a Gaussian
    has no linear trend), so a multi-layer network clearly beats linear regression.
    ``X``, the directions and ``eps`` are drawn in the same order whatever ``noise``
    and ``nonlinear`` are, so one seed gives the same ``X`` for every setting.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,) if n_targets == 1, else (n_samples, n_targets), float64
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 1)
    n_targets = _check_int(n_targets, "n_targets", 1)
    noise = _check_real(noise, "noise")
    rng = _as_generator(random_state)

    X = rng.standard_normal((n_samples, n_features))
    linear_weights = rng.standard_normal((n_features, n_targets)) / math.sqrt(n_features)
    sine_dirs = rng.standard_normal((n_features, n_targets))
    square_dirs = rng.standard_normal((n_features, n_targets))
    sine_dirs /= np.linalg.norm(sine_dirs, axis=0)
    square_dirs /= np.linalg.norm(square_dirs, axis=0)
    eps = rng.standard_normal((n_samples, n_targets))

    y = X @ linear_weights
    if nonlinear:
        y += np.sin(2.0 * (X @ sine_dirs)) + (X @ square_dirs) ** 2 - 1.0
    y += noise * eps
    return X, (y[:, 0] if n_targets == 1 else y)
