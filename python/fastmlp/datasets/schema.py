"""A table's preprocessing as one fitted object: column roles, imputation, one-hot encoding, scaling.

TableSchema.fit(table, ...) decides each column's role (numeric, categorical, id, ignored), learns
the fill values (numeric: the median, with a 0/1 "missing" indicator column for a column that had
missing cells; categorical: the most frequent value), the categories (sorted) and a Standardizer
of the encoded matrix. The encoded columns are, in this order: the numeric values, their
indicators, then one block of one-hot columns per categorical column; that is scikit-learn's

    Pipeline([ColumnTransformer([("numeric", SimpleImputer(strategy="median", add_indicator=True), numeric),
                                 ("categorical", Pipeline([SimpleImputer(strategy="most_frequent"),
                                                           OneHotEncoder(handle_unknown="ignore")]), categorical)]),
              StandardScaler()])

on the same cells (tests/python/test_table_schema.py checks it). A category not seen in training
encodes as all zeros, as handle_unknown="ignore" does; encode() counts them for a report.

The encoding is stored in a model file's description as "table" (see fileformat/_table.py) and the
scaling as the model's preprocessing tensors, so `model.preprocessing` is this schema's standardizer.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .preprocessing import Standardizer
from .tables import NUMBER, Table, number_label

ROLES = ("numeric", "categorical", "id", "ignored")
_ID_NAMES = ("id", "index", "row", "rowid", "row_id", "key", "uuid")
MIN_ROWS_FOR_IDENTIFIER = 20  # fewer rows than this may be all distinct by chance


def looks_like_id(name: str) -> bool:
    lowered = name.strip().lower()
    return lowered in _ID_NAMES or lowered.endswith(("_id", " id", "-id")) or lowered.startswith("id_")


@dataclass
class Encoding:
    """How one input column becomes columns of the encoded matrix."""
    name: str
    kind: str                 # "numeric" or "categorical"
    fill: float | str         # the median, or the most frequent category
    indicator: bool = False   # numeric: an extra 0/1 column, 1 where the cell was missing
    categories: list = field(default_factory=list)  # categorical, sorted

    def to_description(self) -> dict:
        if self.kind == "numeric":
            return {"name": self.name, "kind": "numeric", "fill": float(self.fill), "indicator": self.indicator}
        return {"name": self.name, "kind": "categorical", "fill": self.fill, "categories": list(self.categories)}


def text_cells(table: Table, name: str) -> np.ndarray:
    """A column as category text (None where missing), whether the reader found numbers or text in it."""
    values = table.columns[name]
    if values.dtype.kind != "f":
        return values
    text = np.empty(values.shape[0], dtype=object)
    for i, value in enumerate(values):
        text[i] = None if value != value else number_label(value)
    return text


def numeric_cells(table: Table, name: str) -> np.ndarray:
    """A column as float64 with NaN where missing; ValueError naming the line of a cell that is not a number."""
    values = table.columns[name]
    if values.dtype.kind == "f":
        return values
    for row, cell in enumerate(values):
        if cell is not None and not NUMBER.match(cell):
            present = sum(1 for c in values if c is not None)
            numbers = sum(1 for c in values if c is not None and NUMBER.match(c))
            raise ValueError(f"{table.where(row, name)}: {cell!r} is not a number ({numbers} of the column's "
                             f"{present} present cells are); correct it, leave it empty (or NA, ?) for a missing "
                             f"value, or give --categorical {name}")
    return np.array([np.nan if c is None else float(c) for c in values], dtype=np.float64)


def mostly_numbers(values: np.ndarray) -> bool:
    present = [c for c in values if c is not None]
    return bool(present) and 2 * sum(1 for c in present if NUMBER.match(c)) >= len(present)


def _every_row_distinct(present: np.ndarray, n_rows: int) -> bool:
    """A value in every row and no value twice (only asked where a rule needs it: it costs a sort)."""
    if n_rows < MIN_ROWS_FOR_IDENTIFIER or present.size != n_rows:
        return False
    return (np.unique(present).size if present.dtype.kind == "f" else len(set(present.tolist()))) == n_rows


def infer_roles(table: Table, exclude=(), categorical=(), ignore=(), id_column=None) -> dict:
    """name -> (role, reason) for every column not in `exclude` (the target)."""
    for option, names in (("--categorical", categorical), ("--ignore", ignore),
                          ("--id", [] if id_column is None else [id_column])):
        unknown = [name for name in names if name not in table.names]
        if unknown:
            raise ValueError(f"{table.path}: no column(s) {', '.join(map(repr, unknown))} for {option}; the columns "
                             f"are {', '.join(table.names[:20])}")
    roles = {}
    for name in table.names:
        if name in exclude:
            continue
        values = table.columns[name]
        present = values[~table.missing(name)]
        if name == id_column:
            roles[name] = ("id", "--id")
        elif name in ignore:
            roles[name] = ("ignored", "--ignore")
        elif present.size == 0:
            roles[name] = ("ignored", "every cell is missing")
        elif name in categorical:
            roles[name] = ("categorical", "--categorical")
        elif looks_like_id(name) and _every_row_distinct(present, table.n_rows):
            roles[name] = ("id", "its name and a distinct value in every row")
        elif values.dtype.kind == "f":
            roles[name] = ("numeric", "numbers")
        elif mostly_numbers(values):
            numeric_cells(table, name)  # raises, naming the first cell that is not a number
            roles[name] = ("numeric", "numbers")
        elif _every_row_distinct(present, table.n_rows):
            roles[name] = ("ignored", "text with a distinct value in every row: an identifier, not a category")
        else:
            roles[name] = ("categorical", "text")
    return roles


class TableSchema:
    """The fitted preprocessing of a table: see the module docstring."""

    def __init__(self, encodings: list, standardizer: Standardizer | None = None):
        self.encodings = list(encodings)
        self.standardizer = standardizer

    # ---------------------------------------------------------------- layout
    @property
    def input_columns(self) -> list:
        return [encoding.name for encoding in self.encodings]

    @property
    def feature_names(self) -> list:
        """The encoded columns' names: "age", "age (missing)", "color=red"."""
        numeric = [e for e in self.encodings if e.kind == "numeric"]
        names = [e.name for e in numeric] + [f"{e.name} (missing)" for e in numeric if e.indicator]
        return names + [f"{e.name}={c}" for e in self.encodings if e.kind == "categorical" for c in e.categories]

    @property
    def width(self) -> int:
        return len(self.feature_names)

    # ---------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, table: Table, roles: dict) -> TableSchema:
        """Fill values, categories and the scaling, learnt from `table`'s rows (the training rows)."""
        return cls.fit_encode(table, roles)[0]

    @classmethod
    def fit_encode(cls, table: Table, roles: dict) -> tuple:
        """(the schema fitted on `table`, `table` encoded by it), encoding once."""
        encodings = []
        for name in table.names:
            role = roles.get(name, ("",))[0]
            if role == "numeric":
                values = numeric_cells(table, name)
                missing = np.isnan(values)
                if missing.all():
                    raise ValueError(f"{table.path}: column {name!r} has no value in the training rows")
                encodings.append(Encoding(name, "numeric", float(np.median(values[~missing])), bool(missing.any())))
            elif role == "categorical":
                counts = Counter(c for c in text_cells(table, name) if c is not None)
                if not counts:
                    raise ValueError(f"{table.path}: column {name!r} has no value in the training rows")
                categories = sorted(counts)
                # scikit-learn's most_frequent: the smallest of the values that tie for the largest count
                top = max(counts.values())
                fill = min(c for c in categories if counts[c] == top)
                encodings.append(Encoding(name, "categorical", fill, categories=categories))
        order = [e for e in encodings if e.kind == "numeric"] + [e for e in encodings if e.kind == "categorical"]
        if not order:
            raise ValueError(f"{table.path}: no feature columns left (every column is the target, an id or ignored)")
        schema = cls(order)
        encoded, _ = schema.encode(table)
        schema.standardizer = Standardizer().fit(encoded)
        return schema, encoded

    # ---------------------------------------------------------------- applying
    def encode(self, table: Table) -> tuple:
        """(the encoded float64 matrix (n, width), unknown categories {column: Counter}); the scaling is
        applied by the model (its preprocessing is self.standardizer)."""
        missing_columns = [name for name in self.input_columns if name not in table.columns]
        if missing_columns:
            raise ValueError(f"{table.path}: missing feature column(s) {', '.join(map(repr, missing_columns))}; "
                             f"the model takes {', '.join(self.input_columns)}")
        numeric = [e for e in self.encodings if e.kind == "numeric"]
        encoded = np.zeros((table.n_rows, self.width))  # filled in place: one matrix, no stacking
        indicator = len(numeric)
        for column, encoding in enumerate(numeric):
            values = numeric_cells(table, encoding.name)
            missing = np.isnan(values)
            encoded[:, column] = values
            if missing.any():
                encoded[missing, column] = encoding.fill
            if encoding.indicator:
                encoded[:, indicator] = missing
                indicator += 1
        start, unknown = indicator, {}
        for encoding in self.encodings:
            if encoding.kind != "categorical":
                continue
            lookup = {category: index for index, category in enumerate(encoding.categories)}
            cells = text_cells(table, encoding.name)
            positions = np.fromiter((lookup.get(encoding.fill if c is None else c, -1) for c in cells),
                                    dtype=np.intp, count=cells.shape[0])
            known = positions >= 0
            encoded[np.flatnonzero(known), start + positions[known]] = 1.0
            if not known.all():
                unknown[encoding.name] = Counter(cells[~known].tolist())
            start += len(encoding.categories)
        return encoded, unknown

    def transform(self, table: Table) -> np.ndarray:
        """The encoded matrix, scaled: what the network's first layer sees."""
        encoded, _ = self.encode(table)
        return encoded if self.standardizer is None else self.standardizer.transform(encoded)

    # ---------------------------------------------------------------- the model file
    def to_description(self) -> dict:
        return {"columns": [encoding.to_description() for encoding in self.encodings]}

    @classmethod
    def from_description(cls, description: dict, standardizer: Standardizer | None) -> TableSchema:
        """Rebuild from a model file's "table" entry (already checked by fileformat)."""
        encodings = [Encoding(c["name"], c["kind"], c["fill"], bool(c.get("indicator", False)),
                              list(c.get("categories", []))) for c in description["columns"]]
        return cls(encodings, standardizer)

    def __repr__(self) -> str:
        kinds = Counter(e.kind for e in self.encodings)
        return f"TableSchema({kinds['numeric']} numeric, {kinds['categorical']} categorical -> {self.width} features)"


def describe_unknown(unknown: dict, limit: int = 5) -> str:
    """"color: 'green' (3 rows), 'pink' (1 row); city: ..." for a one-line report."""
    parts = []
    for name, counts in unknown.items():
        shown = ", ".join(f"{value!r} ({n} row{'s' if n > 1 else ''})" for value, n in counts.most_common(limit))
        more = f" and {len(counts) - limit} more" if len(counts) > limit else ""
        parts.append(f"{name}: {shown}{more}")
    return "; ".join(parts)
