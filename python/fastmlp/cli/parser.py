"""The ``fastmlp`` argument parser: the top-level options and one sub-parser per command module."""
from __future__ import annotations

import argparse

from .. import _core
from . import demo, evaluate, export, info, playground, predict, train

# The sub-commands, in the order `fastmlp --help` lists them. Each module has
# add_parser(subcommands), which adds its sub-parser, and command_<name>(args) -> exit status.
SUBCOMMANDS = (demo, train, predict, evaluate, info, export, playground)

_EXAMPLES = """\
examples:
  fastmlp demo
  fastmlp train iris.csv --target species --hidden 32,16 --epochs 200
  fastmlp predict model.fmlp new.csv --out predictions.csv
  fastmlp evaluate model.fmlp test.csv
  fastmlp info model.fmlp
  fastmlp export model.fmlp model.onnx
  fastmlp playground
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastmlp", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train, apply and inspect dense neural networks on CSV files (with a header row unless "
                    "--no-header; the delimiter is found from the first lines).",
        epilog=_EXAMPLES)
    parser.add_argument("--version", action="version", version=f"fastmlp {_core.__version__}")
    parser.add_argument("--quiet", "-q", action="store_true", default=False, help="no progress bar")
    parser.add_argument("--debug", action="store_true", default=False, help="show the full traceback of an error")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(subcommands)
    return parser
