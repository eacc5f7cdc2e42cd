"""A model's TableSchema as ONNX nodes: one graph input per CSV column, the encoded matrix from them.

Numeric column  c (N, 1) double:  Where(IsNaN(c), fill, c), and Cast(IsNaN(c)) as its indicator.
Categorical     c (N, 1) string:  ai.onnx.ml LabelEncoder to the category's position (the missing
                markers, "" among them, to the fill's; anything else to -1), then Equal against
                0..k-1: one-hot, all zero for a category not seen in training (handle_unknown="ignore").
The pieces are concatenated in the schema's order (numeric values, indicators, one-hot blocks),
and the model's standardiser and layers follow as for a numeric X. A table of numeric columns
only keeps the one input X (n, n_columns) of the model's dtype, NaN where a cell is missing.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ..datasets.tables import MISSING_MARKERS
from . import _graph

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 2  # LabelEncoder with keys_strings / values_int64s


def uses_ml_domain(encodings: list) -> bool:
    return any(encoding.kind == "categorical" for encoding in encodings)


def input_infos(encodings: list, batch: str) -> list:
    return [helper.make_tensor_value_info(e.name, TensorProto.DOUBLE if e.kind == "numeric" else TensorProto.STRING,
                                          [batch, 1]) for e in encodings]


def write_numeric_table(writer: _graph.NodeWriter, encodings: list, x: str, x_dtype) -> str:
    """The encoded matrix from one numeric input X: NaN cells filled, then the indicator columns."""
    x = writer.cast(x, x_dtype, np.float64)
    missing = writer.node("IsNaN", [x], "missing")
    fills = writer.constant("fill", np.array([[e.fill for e in encodings]], dtype=np.float64))
    filled = writer.node("Where", [missing, fills, x], "filled")
    flagged = [index for index, e in enumerate(encodings) if e.indicator]
    if not flagged:
        return filled
    columns = writer.constant("indicator_columns", np.array(flagged, dtype=np.int64))
    indicators = writer.cast(writer.node("Gather", [missing, columns], "indicator", axis=1), bool, np.float64)
    return writer.node("Concat", [filled, indicators], "encoded", axis=1)


def write_table(writer: _graph.NodeWriter, encodings: list) -> str:
    """The encoded (N, width) float64 matrix from the graph inputs named after the columns."""
    values, indicators, one_hots = [], [], []
    for encoding in encodings:
        if encoding.kind == "numeric":
            missing = writer.node("IsNaN", [encoding.name], "missing")
            fill = writer.constant("fill", np.array([[encoding.fill]], dtype=np.float64))
            values.append(writer.node("Where", [missing, fill, encoding.name], "filled"))
            if encoding.indicator:
                indicators.append(writer.cast(missing, bool, np.float64))
            continue
        categories = list(encoding.categories)
        fill_position = categories.index(encoding.fill)
        markers = [marker for marker in MISSING_MARKERS if marker not in categories]
        positions = writer.node("LabelEncoder", [encoding.name], "position", domain=ML_DOMAIN,
                                keys_strings=categories + markers,
                                values_int64s=list(range(len(categories))) + [fill_position] * len(markers),
                                default_int64=-1)
        every = writer.constant("categories", np.arange(len(categories), dtype=np.int64)[None, :])
        one_hots.append(writer.cast(writer.node("Equal", [positions, every], "is_category"), bool, np.float64))
    pieces = values + indicators + one_hots
    return pieces[0] if len(pieces) == 1 else writer.node("Concat", pieces, "encoded", axis=1)
