"""Exceptions raised by fastmlp."""
from __future__ import annotations


class FormatError(ValueError):
    """A model file or model bytes are malformed, unsupported or inconsistent."""


class DivergenceError(FloatingPointError, ValueError):
    """Training stopped because the loss became NaN or infinite.

    Also a ValueError, as scikit-learn reports non-finite weights ("Solver produced non-finite
    parameter weights"), so code catching either keeps working.

    ``epoch`` is the 1-based epoch in which it happened (None when unknown).
    """

    def __init__(self, message: str, epoch: int | None = None):
        super().__init__(message)
        self.epoch = epoch
