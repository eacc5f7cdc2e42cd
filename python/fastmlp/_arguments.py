"""Names of losses, and the small argument checks of Sequential's constructor and fit."""
from __future__ import annotations

import numpy as np

from . import _core

# The engine's name table is the one source of loss names (aliases included).
LOSSES = tuple(_core.loss_names())
LOSS_ALIASES = _core.loss_aliases()
CLASSIFICATION_LOSSES = tuple(_core.classification_loss_names())


def canonical_loss(name) -> str:
    if not isinstance(name, str):
        raise ValueError(f"loss must be a string, got {name!r}")
    name = LOSS_ALIASES.get(name.lower(), name.lower())
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of {', '.join(LOSSES)}")
    return name


def check_seed(seed) -> int:
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed must be an integer in [0, 2**64) or None, got {seed!r}")
    return int(seed)


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
