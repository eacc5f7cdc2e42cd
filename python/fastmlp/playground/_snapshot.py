"""What the page is sent: the decision boundary on a grid, the data points, one step's matrices."""
from __future__ import annotations

import numpy as np

SHOWN_ROWS = 16         # rows of X, Y, Z, A and dZ sent for a step (all of W, b, dW and db)


def _rounded(array, digits: int = 6) -> list:
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()


def extent(X: np.ndarray) -> list:
    """[x0 low, x0 high, x1 low, x1 high] around the data, with a 10% margin."""
    low, high = X.min(axis=0), X.max(axis=0)
    margin = np.maximum((high - low) * 0.1, 1e-3)
    return [float(low[0] - margin[0]), float(high[0] + margin[0]), float(low[1] - margin[1]),
            float(high[1] + margin[1])]


def boundary(model, X: np.ndarray, size: int) -> dict:
    """Class probabilities on a size × size grid (row 0 at the top, as an image), flat."""
    x0_low, x0_high, x1_low, x1_high = extent(X)
    grid_x, grid_y = np.meshgrid(np.linspace(x0_low, x0_high, size), np.linspace(x1_high, x1_low, size))
    outputs = np.asarray(model.predict(np.column_stack([grid_x.ravel(), grid_y.ravel()])), dtype=np.float64)
    if outputs.shape[1] == 1:                         # one sigmoid: p(class 1)
        outputs = np.column_stack([1.0 - outputs[:, 0], outputs[:, 0]])
    return {"size": size, "classes": outputs.shape[1], "extent": [x0_low, x0_high, x1_low, x1_high],
            "probabilities": _rounded(outputs.reshape(-1), 3)}


def data_points(X: np.ndarray, y: np.ndarray) -> dict:
    return {"x": _rounded(X, 5), "label": np.asarray(y).astype(int).tolist()}


def step_report(model, values, config) -> dict:
    """One step in the notes' numbering (layer l = model.layers[l-1]), as explain_step writes it;
    the engine's numbers unrounded (the page rounds what it shows)."""
    L = len(model.layers)
    layers = []
    for l in range(1, L + 1):
        layer = model.layers[l - 1]
        layers.append({
            "l": l, "activation": layer.activation, "units": layer.units,
            "W": values.W[l].tolist(), "b": values.b[l].tolist(),
            "Z": values.Z[l][:SHOWN_ROWS].tolist(), "A": values.A[l][:SHOWN_ROWS].tolist(),
            "dZ": values.dZ[l][:SHOWN_ROWS].tolist(), "dW": values.dW[l].tolist(), "db": values.db[l].tolist(),
        })
    return {"batch_size": int(values.A[0].shape[0]), "shown_rows": min(SHOWN_ROWS, int(values.A[0].shape[0])),
            "loss": values.loss, "loss_name": model.loss, "optimizer": config.optimizer,
            "learning_rate": config.learning_rate, "X": values.A[0][:SHOWN_ROWS].tolist(),
            "Y": values.Y[:SHOWN_ROWS].tolist(), "layers": layers}
