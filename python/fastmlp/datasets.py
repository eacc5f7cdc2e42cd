"""Data for fastmlp: toy generators, CSV files, splitting, scaling, encoding, batching.

Everything here is plain NumPy and follows scikit-learn's argument names, so code
written for ``sklearn.datasets`` / ``sklearn.model_selection`` reads the same.

Generators take ``random_state`` (None, an int seed or a ``np.random.Generator``);
the same seed gives the same arrays. They return ``X`` of shape
``(n_samples, n_features)`` in float64 and ``y`` of shape ``(n_samples,)``:
int64 class labels ``0 .. k-1`` for classification, float64 targets for regression.
"""

from __future__ import annotations

import csv
import math
import mmap
import numbers
from typing import Iterator, NamedTuple, Optional

import numpy as np

__all__ = [
    "make_xor",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_blobs",
    "make_regression",
    "CSVData",
    "load_csv",
    "save_csv",
    "train_test_split",
    "Standardizer",
    "one_hot",
    "iterate_minibatches",
]


# --------------------------------------------------------------------------- checks

def _as_generator(random_state) -> np.random.Generator:
    """Turn None, an int seed or a Generator into a Generator (a Generator is used as is)."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int seed, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise ValueError(
        "random_state must be None, a non-negative int or a numpy.random.Generator, "
        f"got {random_state!r}"
    )


def _check_int(value, name: str, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_real(value, name: str, minimum: float = 0.0) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"{name} must be a real number >= {minimum}, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {value}")
    return value


def _split_evenly(n_samples: int, n_groups: int) -> np.ndarray:
    """Group sizes differing by at most one; the first ``n_samples % n_groups`` get the extra."""
    sizes = np.full(n_groups, n_samples // n_groups, dtype=np.int64)
    sizes[: n_samples % n_groups] += 1
    return sizes


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    order = rng.permutation(X.shape[0])
    return X[order], y[order]


# --------------------------------------------------------------------------- generators

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
        n_centers, n_features = center_coords.shape

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

    y = np.repeat(np.arange(n_centers, dtype=np.int64), _split_evenly(n_samples, n_centers))
    X = center_coords[y] + stds[y, None] * rng.standard_normal((n_samples, n_features))
    return _shuffled(X, y, rng)


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


# --------------------------------------------------------------------------- CSV files

class CSVData(NamedTuple):
    """What :func:`load_csv` returns.

    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) (float64, or str for text labels), or None
    feature_names : list of str, length n_features
    target_name : str, or None when there is no target
    """

    X: np.ndarray
    y: Optional[np.ndarray]
    feature_names: list
    target_name: Optional[str]


def _resolve_target(target, names: list) -> Optional[int]:
    available = ", ".join(repr(name) for name in names)
    if target is None:
        return None
    if isinstance(target, str):
        if target not in names:
            raise ValueError(f"unknown target column {target!r}; available columns: {available}")
        return names.index(target)
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        if not -len(names) <= target < len(names):
            raise ValueError(
                f"target index {target} is out of range for {len(names)} columns; "
                f"available columns: {available}"
            )
        return int(target) % len(names)
    raise ValueError(f"target must be a column name, an integer index or None, got {target!r}")


def _describe_bad_feature(cell: str, line: int, column: str) -> str:
    if cell.strip() == "":
        return f"line {line}, column {column!r}: empty cell (missing value) in a feature column"
    return f"line {line}, column {column!r}: feature value {cell!r} is not a number"


def load_csv(path, target=-1, delimiter=",", dtype=np.float64) -> CSVData:
    """Read a CSV file with a header row into features and an optional target.

    Parameters
    ----------
    path : str or path-like
    target : str, int or None, default -1
        The target column, by name or by (possibly negative) index; None for no target.
    delimiter : str, default ","
    dtype : float dtype, default float64
        dtype of ``X``.

    Feature cells must be finite numbers. The target is returned as float64 when every
    value is a number, otherwise as an array of str (class names); models decide how
    to use it. Blank lines are skipped; fields may be quoted. Errors name the line
    (1-based, the header is line 1) and the column.

    Returns
    -------
    CSVData
        ``X`` of shape (n_samples, n_features), ``y`` of shape (n_samples,) or None,
        ``feature_names`` (list of str) and ``target_name`` (str or None).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating-point type, got {dtype}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be a single character, got {delimiter!r}")

    with open(path, newline="", encoding="utf-8-sig") as stream:
        # strict: an unclosed quote (a truncated file, say) is an error, not a value
        reader = csv.reader(stream, delimiter=delimiter, strict=True)
        records = _read_records(reader, path)
        try:
            header_line, header = next(records)
        except StopIteration:
            raise ValueError(f"{path}: empty file (expected a header row)") from None

        names = [name.strip() for name in header]
        for position, name in enumerate(names):
            if name == "":
                raise ValueError(f"{path}: line {header_line}: column {position + 1} has no name")
        seen = set()
        duplicates = [name for name in names if name in seen or seen.add(name)]
        if duplicates:
            raise ValueError(
                f"{path}: line {header_line}: duplicate column names: "
                + ", ".join(repr(name) for name in dict.fromkeys(duplicates))
            )
        target_index = _resolve_target(target, names)
        feature_indices = [i for i in range(len(names)) if i != target_index]
        if not feature_indices:
            raise ValueError(f"{path}: no feature columns (the only column is the target)")

        rows, targets, lines = [], [], []
        for line, record in records:
            if len(record) != len(names):
                if len(record) < len(names):
                    detail = f"missing column {names[len(record)]!r}"
                else:
                    detail = f"extra field(s) after column {names[-1]!r}"
                raise ValueError(
                    f"{path}: line {line}: {len(record)} fields but the header has "
                    f"{len(names)} ({detail})"
                )
            try:
                values = [float(record[i]) for i in feature_indices]
            except ValueError:
                for i in feature_indices:
                    try:
                        float(record[i])
                    except ValueError:
                        raise ValueError(
                            f"{path}: " + _describe_bad_feature(record[i], line, names[i])
                        ) from None
                raise  # unreachable: one of the cells failed above
            if not all(map(math.isfinite, values)):
                i = next(i for i, v in zip(feature_indices, values) if not math.isfinite(v))
                raise ValueError(
                    f"{path}: line {line}, column {names[i]!r}: "
                    f"non-finite feature value {record[i].strip()!r} (NaN and infinity are refused)"
                )
            if target_index is not None:
                label = record[target_index].strip()
                if label == "":
                    raise ValueError(
                        f"{path}: line {line}, column {names[target_index]!r}: empty target value"
                    )
                targets.append(label)
            rows.append(values)
            lines.append(line)

    if not rows:
        raise ValueError(f"{path}: the file has a header but no data rows")

    with np.errstate(over="ignore"):  # a value too large for dtype is reported just below
        X = np.array(rows, dtype=dtype)
    if not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(
            f"{path}: line {lines[row]}, column {names[feature_indices[col]]!r}: "
            f"value {rows[row][col]!r} does not fit in {dtype}"
        )
    y = None if target_index is None else _target_array(targets, lines, names[target_index], path)
    return CSVData(
        X=X,
        y=y,
        feature_names=[names[i] for i in feature_indices],
        target_name=None if target_index is None else names[target_index],
    )


def _read_records(reader, path):
    """Yield ``(first line number, fields)`` for every non-blank CSV record."""
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValueError(f"{path}: line {line}: malformed CSV ({error})") from None
        if record:
            yield line, record


def _target_array(labels: list, lines: list, name: str, path) -> np.ndarray:
    try:
        values = np.array([float(label) for label in labels], dtype=np.float64)
    except ValueError:
        return np.array(labels, dtype=str)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = bad[0]
        raise ValueError(
            f"{path}: line {lines[row]}, column {name!r}: non-finite target value {labels[row]!r}"
        )
    return values


def save_csv(path, X, y=None, feature_names=None, target_name="target", delimiter=","):
    """Write ``X`` (and ``y``) as a CSV file with a header row that :func:`load_csv` reads back.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), numeric and finite
    y : array-like of shape (n_samples,) or (n_samples, 1), optional
        Written as the last column (numbers or text labels).
    feature_names : list of str of length n_features, default ``x0, x1, ...``
    target_name : str, default "target"

    Floats are written with ``repr`` so that they read back bit for bit.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity, which load_csv would refuse")
    n_samples, n_features = X.shape
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(n_features)]
    feature_names = [str(name) for name in feature_names]
    if len(feature_names) != n_features:
        raise ValueError(
            f"feature_names has {len(feature_names)} names but X has {n_features} features"
        )
    header = list(feature_names)
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != n_samples:
            raise ValueError(
                f"y must have shape ({n_samples},) to match X, got shape {y.shape}"
            )
        header.append(str(target_name))
    if len(set(header)) != len(header):
        raise ValueError(f"column names must be unique, got {header}")

    x_rows = X.astype(np.float64).tolist() if X.dtype.kind == "f" else X.tolist()
    y_values = None if y is None else y.tolist()
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, delimiter=delimiter)
        writer.writerow(header)
        for i, row in enumerate(x_rows):
            fields = [repr(v) if isinstance(v, float) else str(v) for v in row]
            if y_values is not None:
                value = y_values[i]
                fields.append(repr(value) if isinstance(value, float) else str(value))
            writer.writerow(fields)


# --------------------------------------------------------------------------- splitting

def _as_indexable(array, name: str):
    """Arrays (including memmaps) pass unchanged; other sequences become arrays."""
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array of samples, got a scalar")
    return array


def _size_to_count(size, name: str, n_samples: int, round_up: bool) -> int:
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        if not 1 <= size < n_samples:
            raise ValueError(
                f"{name}={size} must be in [1, {n_samples - 1}] as a count "
                f"(there are {n_samples} samples), or a float in (0, 1)"
            )
        return int(size)
    if isinstance(size, numbers.Real) and not isinstance(size, bool):
        if not 0.0 < size < 1.0:
            raise ValueError(f"{name}={size} must be a float in (0, 1) or an int count")
        exact = size * n_samples
        return math.ceil(exact) if round_up else math.floor(exact)
    raise ValueError(f"{name} must be a float in (0, 1), an int count or None, got {size!r}")


def _allocate(counts, total, lower, upper, rng):
    """Integer parts of ``total`` per class, proportional to ``counts``, within bounds.

    Starts from the floor of each class's exact share ``counts * total / sum(counts)``
    and hands out (or takes back) single units by largest (smallest) remainder, ties
    broken at random, so every class gets the floor or the ceiling of its share
    whenever the bounds allow it.
    """
    n = counts.sum()
    share_num = counts * total  # exact share is share_num / n
    alloc = np.clip(share_num // n, lower, upper)
    tie_rank = rng.permutation(counts.size)
    while True:
        missing = total - alloc.sum()
        if missing == 0:
            return alloc
        # remainder of the exact share over the allocation, scaled by n (integer)
        remainder = share_num - alloc * n
        if missing > 0:
            candidates = np.flatnonzero(alloc < upper)
            order = np.lexsort((tie_rank[candidates], -remainder[candidates]))
            alloc[candidates[order[0]]] += 1
        else:
            candidates = np.flatnonzero(alloc > lower)
            order = np.lexsort((tie_rank[candidates], remainder[candidates]))
            alloc[candidates[order[0]]] -= 1


def _stratified_indices(stratify, n_train, n_test, rng):
    if stratify.ndim == 1:
        _, labels = np.unique(stratify, return_inverse=True)
    else:
        _, labels = np.unique(stratify.reshape(stratify.shape[0], -1), axis=0, return_inverse=True)
    labels = labels.ravel()
    counts = np.bincount(labels).astype(np.int64)
    n_splittable = int((counts >= 2).sum())
    if n_test < n_splittable or n_train < n_splittable:
        raise ValueError(
            f"stratified split of {n_train} train and {n_test} test samples cannot hold each "
            f"of the {n_splittable} classes with at least 2 members in both parts; "
            "use a larger test_size/train_size"
        )
    splittable = counts >= 2
    max_test = int(counts[splittable].sum()) - n_splittable
    if n_test > max_test:
        raise ValueError(
            f"stratified split cannot put {n_test} samples in the test part: keeping one "
            f"member of every class in the train part leaves at most {max_test}; "
            "use a smaller test_size"
        )
    test_counts = _allocate(counts, n_test, splittable.astype(np.int64),
                            np.where(splittable, counts - 1, 0), rng)
    train_counts = _allocate(counts, n_train, splittable.astype(np.int64),
                             counts - test_counts, rng)

    train_parts, test_parts = [], []
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    for c in range(counts.size):
        members = rng.permutation(order[starts[c]:starts[c + 1]])
        test_parts.append(members[: test_counts[c]])
        train_parts.append(members[test_counts[c]: test_counts[c] + train_counts[c]])
    return (rng.permutation(np.concatenate(train_parts)),
            rng.permutation(np.concatenate(test_parts)))


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True,
                     stratify=None):
    """Split arrays into random train and test subsets (scikit-learn's semantics).

    Parameters
    ----------
    *arrays : sequence of arrays with the same first dimension n_samples
    test_size : float in (0, 1), int, or None
        Fraction (rounded up) or number of test samples. None means the complement of
        ``train_size``, or 0.25 when ``train_size`` is None too.
    train_size : float in (0, 1), int, or None
        Fraction (rounded down) or number of train samples; None means the complement.
    random_state : None, int or np.random.Generator
    shuffle : bool
        False takes the first samples for training and the next for testing.
    stratify : array-like of shape (n_samples,), optional
        Class labels; each part then keeps the class proportions (every class gets the
        floor or ceiling of its exact share) and every class with at least 2 members
        appears in both parts. A class with a single member goes to the train part.

    Returns
    -------
    list of length 2 * len(arrays)
        ``[a_train, a_test, b_train, b_test, ...]``; lists are returned as arrays.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrays = [_as_indexable(a, f"array {i}") for i, a in enumerate(arrays)]
    lengths = [a.shape[0] for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"arrays have inconsistent numbers of samples: {lengths}")
    n_samples = lengths[0]
    if n_samples < 2:
        raise ValueError(f"need at least 2 samples to split, got {n_samples}")

    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = None if test_size is None else _size_to_count(test_size, "test_size", n_samples, True)
    n_train = (None if train_size is None
               else _size_to_count(train_size, "train_size", n_samples, False))
    if n_test is None:
        n_test = n_samples - n_train
    if n_train is None:
        n_train = n_samples - n_test
    if n_train + n_test > n_samples:
        raise ValueError(
            f"train_size + test_size = {n_train} + {n_test} samples exceeds the "
            f"{n_samples} samples available"
        )
    if n_train == 0:
        raise ValueError(
            f"the train set would be empty with test_size={test_size!r}, "
            f"train_size={train_size!r} and {n_samples} samples"
        )
    if n_test == 0:
        raise ValueError(
            f"the test set would be empty with test_size={test_size!r}, "
            f"train_size={train_size!r} and {n_samples} samples"
        )

    if not shuffle:
        if stratify is not None:
            raise ValueError("stratify requires shuffle=True (a stratified split is random)")
        train_idx = np.arange(n_train)
        test_idx = np.arange(n_train, n_train + n_test)
    else:
        rng = _as_generator(random_state)
        if stratify is not None:
            stratify = _as_indexable(stratify, "stratify")
            if stratify.shape[0] != n_samples:
                raise ValueError(
                    f"stratify has {stratify.shape[0]} labels but the arrays have "
                    f"{n_samples} samples"
                )
            train_idx, test_idx = _stratified_indices(stratify, n_train, n_test, rng)
        else:
            permutation = rng.permutation(n_samples)
            test_idx = permutation[:n_test]
            train_idx = permutation[n_test:n_test + n_train]

    result = []
    for array in arrays:
        result.extend([array[train_idx], array[test_idx]])
    return result


# --------------------------------------------------------------------------- scaling

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
        mean = X.mean(axis=0, dtype=np.float64)
        std = X.std(axis=0, dtype=np.float64)
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
    def from_dict(cls, d) -> "Standardizer":
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


# --------------------------------------------------------------------------- batching

# A shuffled pass over a memory-mapped array keeps about this many bytes of rows per
# block, and never more than _MAX_BLOCK_ROWS rows (its index permutation is 8 bytes a row).
_BLOCK_BYTES = 64 * 2**20
_MAX_BLOCK_ROWS = 2**21


def _is_memory_mapped(array: np.ndarray) -> bool:
    base = array
    while base is not None:
        if isinstance(base, (np.memmap, mmap.mmap)):
            return True
        base = getattr(base, "base", None)
    return False


def _row_bytes(array: np.ndarray) -> int:
    return array.itemsize * int(np.prod(array.shape[1:], dtype=np.int64))


def iterate_minibatches(X, y=None, batch_size=32, shuffle=False, random_state=None,
                        drop_last=False, block_size=None):
    """Iterate over mini-batches of rows of ``X`` (and ``y``), one pass.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...), may be an ``np.memmap``
    y : array-like of shape (n_samples, ...), optional
    batch_size : int >= 1
    shuffle : bool
        False yields consecutive slices, which are views (nothing is copied).
        True yields every row once in a random order, as follows: the rows are cut into
        contiguous blocks of ``block_size`` rows, the blocks are visited in a random
        order, and the rows inside each block are shuffled (a batch may straddle two
        consecutive blocks). Each batch is gathered by fancy indexing, with the row
        indices sorted inside the batch so reads from a file go forwards.
        Memory stays O(block_size) indices plus one batch, so this works on memory-mapped
        files larger than RAM; an exactly uniform shuffle of such a file would need random
        reads all over it. When the whole array is one block the shuffle is exactly
        uniform.
    random_state : None, int or np.random.Generator
        Used only when shuffling; a seed gives the same batches every time.
    drop_last : bool
        Skip the last batch when it has fewer than ``batch_size`` rows.
    block_size : int, optional
        Rows per shuffle block. Default: the whole array when neither X nor y is
        memory-mapped; for memory-mapped data, as many rows as fit in 64 MiB
        (at most 2**21 rows, at least ``batch_size``).

    Yields
    ------
    X_batch : ndarray of shape (batch, ...) when y is None, else
    (X_batch, y_batch) : ndarrays of shapes (batch, ...) and (batch, ...)
    """
    X = _as_indexable(X, "X")
    if y is not None:
        y = _as_indexable(y, "y")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    batch_size = _check_int(batch_size, "batch_size", 1)
    n_samples = X.shape[0]
    rng = None
    if shuffle:
        rng = _as_generator(random_state)
        if block_size is None:
            if _is_memory_mapped(X) or (y is not None and _is_memory_mapped(y)):
                row_bytes = _row_bytes(X) + (0 if y is None else _row_bytes(y))
                block_size = min(_BLOCK_BYTES // max(row_bytes, 1), _MAX_BLOCK_ROWS)
                block_size = max(block_size, batch_size)
            else:
                block_size = max(n_samples, 1)
        block_size = _check_int(block_size, "block_size", 1)
        return _shuffled_batches(X, y, batch_size, drop_last, block_size, rng)
    if block_size is not None:
        _check_int(block_size, "block_size", 1)
    return _sequential_batches(X, y, batch_size, drop_last)


def _sequential_batches(X, y, batch_size, drop_last) -> Iterator:
    n_samples = X.shape[0]
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        if drop_last and stop - start < batch_size:
            return
        yield X[start:stop] if y is None else (X[start:stop], y[start:stop])


def _shuffled_batches(X, y, batch_size, drop_last, block_size, rng) -> Iterator:
    def gather(indices):
        indices = np.sort(indices)
        return X[indices] if y is None else (X[indices], y[indices])

    n_samples = X.shape[0]
    n_blocks = -(-n_samples // block_size)
    pending = np.empty(0, dtype=np.intp)
    for block in rng.permutation(n_blocks):
        start = block * block_size
        stop = min(start + block_size, n_samples)
        block_rows = start + rng.permutation(stop - start)
        pending = np.concatenate([pending, block_rows]) if pending.size else block_rows
        while pending.size >= batch_size:
            yield gather(pending[:batch_size])
            pending = pending[batch_size:]
    if pending.size and not drop_last:
        yield gather(pending)
