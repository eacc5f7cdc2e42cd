"""The command line's value types and the options every sub-command shares."""
from __future__ import annotations

import argparse
import math
from typing import Any, Callable

# Training works on mini-batches of a few dozen rows, where a second thread costs more in
# synchronisation than it saves (measured: 3x slower on 2 idle cores, far worse on busy ones).
TRAINING_THREADS = 1


def bounded(convert: Callable[[str], Any], accepts: Callable[[Any], bool], expected: str) -> Callable[[str], Any]:
    """An argparse type: `convert` the text, then keep it only if `accepts(value)`."""
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accepts(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


positive_int = bounded(int, lambda value: value >= 1, "a positive integer")
non_negative_int = bounded(int, lambda value: value >= 0, "an integer >= 0")
positive_float = bounded(float, lambda value: math.isfinite(value) and value > 0, "a positive number")
fraction = bounded(float, lambda value: 0.0 <= value < 1.0, "a number in [0, 1)")


def parse_hidden(text: str) -> list:
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer sizes such as 64,32, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def common_options(with_threads: bool = True) -> argparse.ArgumentParser:
    """A parent parser with --quiet, --debug and (unless with_threads is False) --threads."""
    # SUPPRESS keeps the top-level parser's values when an option is not repeated after the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bar")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    if with_threads:
        common.add_argument("--threads", type=positive_int, default=None, metavar="N",
                            help=f"threads for the matrix products (default: {TRAINING_THREADS} for training, "
                                 "whose mini-batches are small; all cores otherwise)")
    return common
