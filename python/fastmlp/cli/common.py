"""What every command does the same way: print, apply --threads, check an output folder, load a model."""
from __future__ import annotations

import argparse
import os

from .. import load, set_num_threads
from ..model import Sequential


def say(*parts: object) -> None:
    print(*parts, flush=True)


def check_writable_target(path: str, what: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {what} {path!r}: the folder {directory!r} does not exist")


def set_threads(args: argparse.Namespace, default: int | None = None) -> None:
    """Apply --threads, or `default` when it was not given (None keeps the engine's default)."""
    threads = getattr(args, "threads", None)
    threads = default if threads is None else threads
    if threads is not None:
        set_num_threads(threads)


def progress(args: argparse.Namespace) -> int:
    """The verbose level of fit: a progress bar unless --quiet."""
    return 0 if args.quiet else 1


def load_sequential(path: str) -> Sequential:
    model = load(path)
    if not isinstance(model, Sequential):
        raise ValueError(f"{path} holds a fastmlp.{type(model).__name__}; fastmlp predict and evaluate read "
                         "Sequential models (from fastmlp train, fastmlp demo or Sequential.save): use this one "
                         "from Python")
    return model


def architecture(model: Sequential) -> str:
    """"2 -> 64 relu -> 3 softmax": the input width, then each layer's units and activation."""
    parts = [str(model.input_dim)] + [f"{layer.units} {layer.activation}" for layer in model.layers]
    return " -> ".join(parts)
