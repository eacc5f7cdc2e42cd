"""Tabular files as columns: a CSV file read through pandas' C parser into named NumPy columns.

A Table holds every column of a file as it is, before anyone decides what is a feature: a
float64 array (NaN where a cell is missing) for a column whose every present cell is a number,
an object array of str (None where missing) for any other. Numbers are what pandas' C parser
reads as numbers: ASCII digits only, so ``1_000``, Arabic-Indic and full-width digits stay text,
as in every CSV reader of the ecosystem (Python's ``float()`` alone would take them).

Missing cells: an empty cell and the markers in MISSING_MARKERS (pandas' defaults and ``?``,
the UCI repository's). The delimiter is found from the first lines unless given. A UTF-8 BOM
and CRLF line ends are read as any reader does. A first line such as ``150,4,setosa,versicolor,
virginica`` (scikit-learn's bundled data sets: counts, then class names) is recognised and read
as columns feature_0 .. and target, with the class names in place of their codes.

pandas is the ``csv`` extra (it was the fastest reader measured, see benchmarks/bench_csv.py); it
is imported here only when a file is read, so ``import fastmlp`` stays light.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

MISSING_MARKERS = ("", "?", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None", "<NA>",
                   "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "1.#IND", "1.#QNAN")
DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 1 << 16
_DIGITS = re.compile(r"[0-9]+")
# What pandas reads as a number (used only to tell a numeric column with a stray cell from text).
NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*\Z", re.ASCII)
INSTALL_HINT = "pip install 'fastmlp[csv]'"


@dataclass
class Table:
    """Named columns of one file; `first_line` is the file line of data row 0 (1-based)."""
    path: str
    names: list
    columns: dict
    n_rows: int
    delimiter: str
    first_line: int = 2
    notes: list = field(default_factory=list)
    origin: np.ndarray | None = None    # the file's data row of each row here (None: the same)
    _lines: dict = field(default_factory=dict)  # shared by the tables taken from this one

    def line(self, row: int) -> int:
        """The file line where data row `row` (0-based) starts: blank lines and quoted line breaks counted."""
        if "lines" not in self._lines:
            self._lines["lines"] = _record_lines(self.path, self.delimiter, self.first_line)
        lines = self._lines["lines"]
        row = int(row if self.origin is None else self.origin[row])
        return int(lines[row]) if row < len(lines) else self.first_line + row

    def where(self, row: int, column: str) -> str:
        return f"{self.path}: line {self.line(row)}, column {column!r}"

    def take(self, rows: np.ndarray) -> Table:
        """The table of the given data rows (their line numbers kept)."""
        rows = np.asarray(rows, dtype=np.intp)
        origin = rows if self.origin is None else self.origin[rows]
        return Table(self.path, list(self.names), {name: values[rows] for name, values in self.columns.items()},
                     len(rows), self.delimiter, self.first_line, list(self.notes), origin, self._lines)

    def is_numeric(self, name: str) -> bool:
        return self.columns[name].dtype.kind == "f"

    def missing(self, name: str) -> np.ndarray:
        values = self.columns[name]
        return np.isnan(values) if values.dtype.kind == "f" else np.array([v is None for v in values], dtype=bool)


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError(f"reading CSV files needs pandas, the csv extra: {INSTALL_HINT}") from None
    return pandas


def _sample(path) -> str:
    with open(path, "rb") as stream:
        head = stream.read(SNIFF_BYTES)
    if b"\x00" in head:
        raise ValueError(f"{path}: not a text file (it holds NUL bytes); expected a CSV file")
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut by the sample's end
            raise ValueError(f"{path}: not a UTF-8 text file (byte {error.start}: {error.reason}); "
                             "expected a CSV file") from None
        return head[:error.start].decode("utf-8-sig")


def _records(text: str, delimiter: str, limit: int = 50) -> list:
    lines = text.splitlines(keepends=True)
    if len(text) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may end inside a line
    try:
        records = [r for r in csv.reader(io.StringIO("".join(lines[:limit * 2])), delimiter=delimiter) if r]
    except csv.Error:
        return []
    return records[:limit]


def sniff_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the same number (> 1) of fields, the most fields
    winning; "," when none does."""
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        counts = {len(record) for record in _records(text, delimiter)}
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = delimiter, fields
    return best


def _sklearn_header(records: list) -> tuple | None:
    """(n_features, class names) when the first line is scikit-learn's data-set header, else None."""
    if len(records) < 2 or len(records[0]) < 2 or not all(_DIGITS.fullmatch(f.strip()) for f in records[0][:2]):
        return None
    n_features = int(records[0][1])
    if len(records[1]) != n_features + 1 or not all(NUMBER.match(f) for f in records[1]):
        return None
    return n_features, [name.strip() for name in records[0][2:]]


def _checked_names(names: list, path) -> list:
    names = [name.strip() for name in names]
    for position, name in enumerate(names):
        if name == "":
            raise ValueError(f"{path}: line 1: column {position + 1} has no name")
    duplicates = list(dict.fromkeys(name for i, name in enumerate(names) if name in names[:i]))
    if duplicates:
        raise ValueError(f"{path}: line 1: duplicate column names: {', '.join(map(repr, duplicates))}")
    return names


@dataclass
class _Layout:
    """What the first lines say: the delimiter, the column names, the lines before the data."""
    delimiter: str
    names: list
    skip: int
    first_line: int
    notes: list
    class_names: list | None = None


def _layout(path: str, delimiter: str | None, header: bool) -> _Layout:
    text = _sample(path)
    if not text.strip():
        raise ValueError(f"{path}: empty file (expected a header row)")
    if delimiter is None:
        delimiter = sniff_delimiter(text)
    elif len(delimiter) != 1:
        raise ValueError(f"the delimiter must be one character, got {delimiter!r}")
    records = _records(text, delimiter)
    if not records:
        raise ValueError(f"{path}: line 1: malformed CSV (an unclosed quote?)")
    sklearn = _sklearn_header(records) if header else None
    if sklearn is not None:
        n_features, class_names = sklearn
        note = (f"the first line ({','.join(records[0])}) is scikit-learn's data-set header (counts and class "
                f"names), not column names: columns read as feature_0..feature_{n_features - 1} and target"
                + (", with the class names for the target's codes" if class_names else ""))
        return _Layout(delimiter, [f"feature_{j}" for j in range(n_features)] + ["target"], 1, 2, [note],
                       class_names or None)
    if not header:
        return _Layout(delimiter, [f"column_{j + 1}" for j in range(len(records[0]))], 0, 1, [])
    names = _checked_names(records[0], path)
    notes = ["every column name is a number: if the file has no header row, use --no-header"] \
        if all(NUMBER.match(name) for name in names) else []
    return _Layout(delimiter, names, 1, 2, notes)


def read_header(path, delimiter: str | None = None, header: bool = True) -> list:
    """The column names read_table would give, from the first lines only."""
    return _layout(str(path), delimiter, header).names


def read_table(path, delimiter: str | None = None, header: bool = True) -> Table:
    """Read a CSV file into a Table (ValueError naming the file, and the line where there is one)."""
    path = str(path)
    layout = _layout(path, delimiter, header)
    frame = _parse(path, layout.delimiter, layout.names, layout.skip)
    if len(frame) == 0:
        raise ValueError(f"{path}: the file has a header but no data rows")
    columns = {name: _column(frame[name].to_numpy()) for name in layout.names}
    table = Table(path, layout.names, columns, len(frame), layout.delimiter, layout.first_line, layout.notes)
    if layout.class_names:
        table.columns["target"] = _class_names(table, layout.class_names)
    _check_short_rows(table)
    _check_finite(table)
    return table


def _parse(path: str, delimiter: str, names: list, skip: int):
    pandas = _pandas()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a short row is found below with its line
            return pandas.read_csv(path, sep=delimiter, header=None, names=names, skiprows=skip, index_col=False,
                                   engine="c", encoding="utf-8-sig", keep_default_na=False,
                                   na_values=list(MISSING_MARKERS), skip_blank_lines=True)
    except pandas.errors.EmptyDataError:
        raise ValueError(f"{path}: empty file (expected a header row)") from None
    except pandas.errors.ParserError as error:
        message = str(error).split("C error: ")[-1]
        raise ValueError(f"{path}: malformed CSV ({message}; the header has {len(names)} columns, "
                         f"delimiter {delimiter!r}: give --delimiter if it is another)") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a UTF-8 text file ({error.reason}); expected a CSV file") from None


def number_label(value: float) -> str:
    """A number as text: "3" for 3.0, "0.5" for 0.5 (the same whether it was read as a number or as text)."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 2 ** 53 else repr(float(value))


def _column(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "iuf":
        return values.astype(np.float64, copy=False)
    text = np.empty(values.shape[0], dtype=object)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and value != value):
            text[i] = None
        elif isinstance(value, str):
            text[i] = value.strip()
        else:  # pandas parses in blocks: a mixed column holds the numbers of its all-number blocks
            text[i] = number_label(float(value)) if isinstance(value, (int, float, np.number)) else str(value)
    return text


def _class_names(table: Table, class_names: list) -> np.ndarray:
    codes = table.columns["target"]
    named = np.empty(codes.shape[0], dtype=object)
    for i, code in enumerate(codes):
        if isinstance(code, float) and code == code and code.is_integer() and 0 <= code < len(class_names):
            named[i] = class_names[int(code)]
        else:
            raise ValueError(f"{table.where(i, 'target')}: class code {code!r} is not one of the "
                             f"{len(class_names)} classes the first line names")
    return named


def _check_short_rows(table: Table) -> None:
    """pandas fills a row with too few fields with missing values; a missing last cell is checked here."""
    last = table.names[-1]
    if not table.missing(last).any():
        return
    with open(table.path, newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream, delimiter=table.delimiter)
        for _ in range(table.first_line - 1):
            next(reader, None)
        while True:
            line = reader.line_num + 1
            try:
                record = next(reader)
            except (StopIteration, csv.Error):
                return
            if record and len(record) < len(table.names):
                raise ValueError(f"{table.path}: line {line}: {len(record)} fields but the header has "
                                 f"{len(table.names)} (missing column {table.names[len(record)]!r})")


def _check_finite(table: Table) -> None:
    for name in table.names:
        values = table.columns[name]
        if values.dtype.kind == "f" and np.isinf(values).any():
            row = int(np.flatnonzero(np.isinf(values))[0])
            raise ValueError(f"{table.where(row, name)}: infinite value (or one too large for float64); "
                             "fastmlp refuses infinity")


def _record_lines(path: str, delimiter: str, first_line: int) -> np.ndarray:
    """The line where each non-blank record starts, from first_line on."""
    lines = []
    with open(path, newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        while True:
            line = reader.line_num + 1
            try:
                record = next(reader)
            except (StopIteration, csv.Error):
                break
            if record and line >= first_line:
                lines.append(line)
    return np.array(lines, dtype=np.int64)
