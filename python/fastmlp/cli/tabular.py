"""CSV files as tables for the commands: the reading options, the target column, the columns' roles,
a table model's inputs (its stored TableSchema applied) and the ids carried into predictions."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from ..datasets.schema import describe_unknown, mostly_numbers, numeric_cells
from ..datasets.tables import Table, read_header, read_table
from .tables import list_names

DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def warn(message: str) -> None:
    print(f"fastmlp: warning: {message}", file=sys.stderr, flush=True)


def delimiter_type(text: str) -> str:
    value = DELIMITER_NAMES.get(text.lower(), text)
    if len(value) != 1:
        raise argparse.ArgumentTypeError(f"expected one character (or tab, comma, semicolon, pipe), got {text!r}")
    return value


def add_reading_options(parser: argparse.ArgumentParser, roles: bool = False) -> None:
    add = parser.add_argument
    add("--delimiter", type=delimiter_type, default=None, metavar="C",
        help="field separator: one character, or tab (default: found from the first lines among , ; tab |)")
    add("--no-header", dest="header", action="store_false", default=True,
        help="the file has no header row: columns are named column_1, column_2, ...")
    if roles:
        add("--categorical", type=_names, default=[], metavar="COLS",
            help="comma-separated columns to one-hot encode even though they hold numbers")
        add("--ignore", type=_names, default=[], metavar="COLS", help="comma-separated columns to leave out")


def _names(text: str) -> list:
    return [name.strip() for name in text.split(",") if name.strip()]


def read_csv(path, args: argparse.Namespace, required: tuple = ()) -> Table:
    """The table of a CSV file, once its header shows the `required` (column, option) pairs."""
    if required:
        names = read_header(path, delimiter=args.delimiter, header=args.header)
        for name, option in required:
            require_column((path, names), name, option)
    table = read_table(path, delimiter=args.delimiter, header=args.header)
    for note in table.notes:
        warn(f"{path}: {note}")
    return table


def require_column(table: Table | tuple, name: str, option: str) -> None:
    """ValueError unless the table (or (path, column names)) has the column, with a hint at the delimiter."""
    path, names = (table.path, table.names) if isinstance(table, Table) else table
    if name in names:
        return
    hint = ""
    if len(names) == 1:
        found = [c for c in (";", "\t", "|", ",") if c in names[0]]
        hint = (f"; the header reads as one column: is the delimiter {found[0]!r}? give --delimiter"
                if found else "; the header reads as one column")
    raise ValueError(f"{path}: no column {name!r} for {option}; the columns are {list_names(names, 20)}{hint}")


def target_cells(table: Table, target: str, purpose: str) -> tuple:
    """(the table without the rows whose target is missing, the target: float64 or text), warning of a drop."""
    missing = table.missing(target)
    if missing.all():
        raise ValueError(f"{table.path}: every cell of the target {target!r} is missing")
    if missing.any():
        lines = [table.line(int(row)) for row in np.flatnonzero(missing)[:5]]
        more = "" if missing.sum() <= 5 else ", ..."
        warn(f"{table.path}: {int(missing.sum())} row(s) with a missing target {target!r} (line(s) "
             f"{', '.join(map(str, lines))}{more}) left out of {purpose}")
        table = table.take(np.flatnonzero(~missing))
    values = table.columns[target]
    if values.dtype.kind != "f":
        if mostly_numbers(values):
            numeric_cells(table, target)  # raises, naming the cell that is not a number
        values = values.astype(str)
    return table, values


def report_roles(roles: dict) -> list:
    """The lines that say which columns were taken as what."""
    lines = []
    for role, title in (("numeric", "numeric"), ("categorical", "categorical"), ("id", "id"),
                        ("ignored", "ignored")):
        names = [f"{name}" + (f" ({reason})" if role in ("id", "ignored") else "")
                 for name, (kind, reason) in roles.items() if kind == role]
        if names:
            lines.append(f"  {title} ({len(names)}): {list_names(names, 12)}")
    return lines


def encoded_inputs(schema, table: Table) -> np.ndarray:
    """The table encoded by a model's TableSchema (unknown categories reported once)."""
    encoded, unknown = schema.encode(table)
    if unknown:
        warn(f"{table.path}: categories the model did not see in training, encoded as all zeros (as "
             f"scikit-learn's handle_unknown='ignore'): {describe_unknown(unknown)}")
    return encoded


def ids_of(table: Table, model, requested: str | None) -> tuple:
    """(the id column's name, its cells as text) to copy into predictions, or (None, None)."""
    name = requested or model.metadata.get("id")
    if name is None or (requested is None and name not in table.names):
        return None, None
    require_column(table, name, "--id")
    values = table.columns[name]
    if values.dtype.kind == "f":
        from ..datasets.schema import text_cells
        values = text_cells(table, name)
    return name, ["" if value is None else str(value) for value in values]


def table_inputs(path, model, args: argparse.Namespace, target_required: bool, target: str | None) -> tuple:
    """(X encoded by the model's TableSchema, the target cells or None, the id column's name and cells)."""
    table = read_csv(path, args)
    y = None
    if target_required:
        if target is None:
            raise ValueError(f"{path}: the model file does not name its target column; give it with --target COL")
        require_column(table, target, "the target (evaluate compares predictions with it)")
        table, y = target_cells(table, target, "the scores")
    X = encoded_inputs(model.table, table)
    return (X, y, *ids_of(table, model, getattr(args, "id", None)))
