"""The text table of Sequential.summary(): layer, shapes in the notation, activation, parameters."""
from __future__ import annotations

import numpy as np


def summary_table(model) -> str:
    """The architecture of `model` (a fm.Sequential, built or not) as a text table."""
    rows = [("layer", "W shape", "b shape", "output", "activation", "params")]
    total = 0
    n_in = model.input_dim
    for index, layer in enumerate(model.layers):
        params = None if n_in is None else (n_in + 1) * layer.units
        total += params or 0
        rows.append((f"{index} Dense", f"({n_in if n_in is not None else '?'}, {layer.units})",
                     f"({layer.units},)", f"(m, {layer.units})", layer.activation,
                     "?" if params is None else f"{params:,}"))
        n_in = layer.units
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    line = "-" * (sum(widths) + 2 * (len(widths) - 1))
    text = [f"Sequential{f' {model.name!r}' if model.name else ''} ({np.dtype(model.dtype).name}, "
            f"input_dim={model.input_dim if model.input_dim is not None else 'not built'})", line]
    for i, row in enumerate(rows):
        text.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if i == 0:
            text.append(line)
    text.append(line)
    text.append(f"total parameters: {total:,}" if model.built else "total parameters: unknown until built")
    if model.loss:
        text.append(f"loss: {model.loss}; optimizer: {model.optimizer!r}")
    return "\n".join(text)
