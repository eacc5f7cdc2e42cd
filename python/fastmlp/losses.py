"""Loss objects, as Keras spells them: ``compile(loss=fm.losses.Huber(delta=2.0))``.

Every loss can also be named by its string (``"huber"`` is Huber with δ = 1); an object is
needed only for a parameter. The engine computes the losses (cpp/src/loss.cpp).
"""
from __future__ import annotations

import math


class Huber:
    """Huber's loss, averaged over samples and outputs: for r = prediction − target,
    ½r² where |r| <= delta, else delta·(|r| − ½delta) (quadratic near the target, linear far
    from it, so outliers pull less). Keras's ``keras.losses.Huber(delta=1.0)``."""

    name = "huber"

    def __init__(self, delta: float = 1.0):
        self.delta = check_huber_delta(delta)

    def get_config(self) -> dict:
        return {"name": self.name, "delta": self.delta}

    def __repr__(self) -> str:
        return f"Huber(delta={self.delta!r})"


def check_huber_delta(delta) -> float:
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) and not hasattr(delta, "__float__"):
        raise ValueError(f"Huber's delta must be a positive finite number, got {delta!r}")
    value = float(delta)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"Huber's delta must be a positive finite number, got {delta!r}")
    return value


def resolve(loss) -> tuple:
    """(name, huber_delta) of a loss given as a name or a loss object; the name is not yet checked."""
    if isinstance(loss, Huber):
        return loss.name, loss.delta
    if isinstance(loss, str):
        return loss, 1.0
    raise ValueError(f"loss must be a loss name (such as 'mse' or 'huber') or fm.losses.Huber(delta), got {loss!r}")
