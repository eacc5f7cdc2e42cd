"""Exceptions raised by fastmlp."""


class FormatError(ValueError):
    """A model file or model bytes are malformed, unsupported or inconsistent."""


class DivergenceError(FloatingPointError):
    """Training stopped because the loss became NaN or infinite."""
