"""CSV files with a header row: loading with errors that name the line and column, and saving."""
from __future__ import annotations

import csv
import math
import numbers
from typing import NamedTuple

import numpy as np

from .tables import NUMBER

_NON_FINITE = ("nan", "inf", "infinity")


class CSVData(NamedTuple):
    """What :func:`load_csv` returns.

    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) (float64, or str for text labels), or None
    feature_names : list of str, length n_features
    target_name : str, or None when there is no target
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list
    target_name: str | None


def _resolve_target(target, names: list) -> int | None:
    available = ", ".join(repr(name) for name in names)
    if target is None:
        return None
    if isinstance(target, str):
        if target not in names:
            raise ValueError(f"unknown target column {target!r}; available columns: {available}")
        return names.index(target)
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        if not -len(names) <= int(target) < len(names):
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
        names = _column_names(header, header_line, path)
        target_index = _resolve_target(target, names)
        feature_indices = [i for i in range(len(names)) if i != target_index]
        if not feature_indices:
            raise ValueError(f"{path}: no feature columns (the only column is the target)")
        rows, targets, lines = _read_rows(records, names, feature_indices, target_index, path)

    if not rows:
        raise ValueError(f"{path}: the file has a header but no data rows")
    X = _feature_array(rows, lines, [names[i] for i in feature_indices], dtype, path)
    y = None if target_index is None else _target_array(targets, lines, names[target_index], path)
    return CSVData(
        X=X,
        y=y,
        feature_names=[names[i] for i in feature_indices],
        target_name=None if target_index is None else names[target_index],
    )


def _column_names(header: list, header_line: int, path) -> list:
    """The header's column names, stripped; every one present and distinct."""
    names = [name.strip() for name in header]
    for position, name in enumerate(names):
        if name == "":
            raise ValueError(f"{path}: line {header_line}: column {position + 1} has no name")
    seen: set[str] = set()
    duplicates = []
    for name in names:
        if name in seen:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise ValueError(
            f"{path}: line {header_line}: duplicate column names: "
            + ", ".join(repr(name) for name in dict.fromkeys(duplicates))
        )
    return names


def _read_rows(records, names: list, feature_indices: list, target_index: int | None, path) -> tuple:
    """(feature rows as lists of float, target labels as text, line numbers) of the data records."""
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
        rows.append(_feature_values(record, line, names, feature_indices, path))
        if target_index is not None:
            label = record[target_index].strip()
            if label == "":
                raise ValueError(
                    f"{path}: line {line}, column {names[target_index]!r}: empty target value"
                )
            targets.append(label)
        lines.append(line)
    return rows, targets, lines


def _number(cell: str) -> float:
    """float(cell) for an ASCII number only: float() alone takes 1_000 and non-ASCII digits, which no CSV reader
    reads as numbers."""
    if not NUMBER.match(cell) and cell.strip().lower().lstrip("+-") not in _NON_FINITE:
        raise ValueError(f"not a number: {cell!r}")
    return float(cell)  # NaN and infinity are refused by the callers, with their own message


def _feature_values(record: list, line: int, names: list, feature_indices: list, path) -> list:
    try:
        values = [_number(record[i]) for i in feature_indices]
    except ValueError:
        for i in feature_indices:
            try:
                _number(record[i])
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
    return values


def _feature_array(rows: list, lines: list, feature_names: list, dtype: np.dtype, path) -> np.ndarray:
    with np.errstate(over="ignore"):  # a value too large for dtype is reported just below
        X = np.array(rows, dtype=dtype)
    if not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(
            f"{path}: line {lines[row]}, column {feature_names[col]!r}: "
            f"value {rows[row][col]!r} does not fit in {dtype}"
        )
    return X


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
        values = np.array([_number(label) for label in labels], dtype=np.float64)
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
