"""The optional "table" entry of a description: how the columns of a CSV file become the model's inputs.

    "table": {"columns": [
        {"name": "age",   "kind": "numeric",     "fill": 37.0, "indicator": true},
        {"name": "color", "kind": "categorical", "fill": "red", "categories": ["blue", "red"]}]}

Numeric columns first, then categorical ones; the encoded inputs are the numeric values, then
one 0/1 column per numeric column with "indicator" (1 where the cell was missing), then one
one-hot column per category, in order: input_dim equals that count. "fill" replaces a missing
cell (the training median; the most frequent category, one of "categories"). Names are distinct
non-empty strings, categories distinct strings, sorted. Added in version 1 of the format: an
older reader passes the field through without applying it (see fastmlp.datasets.schema).
"""
from __future__ import annotations

import math
from typing import Any

from ._schema import check_description as check_fields_and_layers
from ._schema import describe_value, fail, is_real

_NUMERIC_FIELDS = {"name", "kind", "fill", "indicator"}
_CATEGORICAL_FIELDS = {"name", "kind", "fill", "categories"}


def check_description(description: Any, where: str) -> None:
    """The schema's checks of every field, then the "table" entry's."""
    check_fields_and_layers(description, where)
    if "table" in description:
        check_table(description, where)


def check_table(description: dict[str, Any], where: str) -> None:
    table = description["table"]
    if not isinstance(table, dict) or set(table) != {"columns"}:
        fail(where, f"'table' must be a JSON object with the one field 'columns', found {describe_value(table)}")
    columns = table["columns"]
    if not isinstance(columns, list) or not columns:
        fail(where, f"table.columns must be a non-empty list, found {describe_value(columns)}")
    names: set[str] = set()
    width, categorical_seen = 0, False
    for index, column in enumerate(columns):
        where_column = f"table.columns[{index}]"
        if not isinstance(column, dict):
            fail(where, f"{where_column} must be a JSON object, found {describe_value(column)}")
        name = column.get("name")
        if not isinstance(name, str) or not name or name in names:
            fail(where, f"{where_column}.name must be a non-empty column name, distinct from the others, "
                        f"found {describe_value(name)}")
        names.add(name)
        kind = column.get("kind")
        if kind == "numeric":
            if categorical_seen:
                fail(where, f"{where_column} is numeric after a categorical column (numeric columns come first)")
            _check_fields(column, _NUMERIC_FIELDS, where_column, where)
            fill, indicator = column["fill"], column["indicator"]
            if not is_real(fill) or not math.isfinite(fill):
                fail(where, f"{where_column}.fill must be a finite number, found {describe_value(fill)}")
            if not isinstance(indicator, bool):
                fail(where, f"{where_column}.indicator must be true or false, found {describe_value(indicator)}")
            width += 1 + int(indicator)
        elif kind == "categorical":
            categorical_seen = True
            _check_fields(column, _CATEGORICAL_FIELDS, where_column, where)
            categories = column["categories"]
            if (not isinstance(categories, list) or not categories
                    or not all(isinstance(c, str) for c in categories) or categories != sorted(set(categories))):
                fail(where, f"{where_column}.categories must be a non-empty sorted list of distinct strings, "
                            f"found {describe_value(categories)}")
            if column["fill"] not in categories:
                fail(where, f"{where_column}.fill must be one of its categories, found "
                            f"{describe_value(column['fill'])}")
            width += len(categories)
        else:
            fail(where, f"{where_column}.kind must be 'numeric' or 'categorical', found {describe_value(kind)}")
    if width != description["input_dim"]:
        fail(where, f"the table encodes {width} input(s) but input_dim is {description['input_dim']}")


def _check_fields(column: dict[str, Any], expected: set[str], where_column: str, where: str) -> None:
    if set(column) != expected:
        fail(where, f"{where_column} must have exactly the fields {', '.join(sorted(expected))}, found "
                    f"{', '.join(sorted(map(str, column)))}")
