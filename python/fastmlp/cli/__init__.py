"""The ``fastmlp`` command: train, apply and inspect networks on CSV files.

    fastmlp demo                                   spirals: train, print accuracy, save
    fastmlp train DATA.csv --target COL            classification or regression from a CSV
    fastmlp predict MODEL.fmlp DATA.csv [--out P]  predictions (and class probabilities) as CSV
    fastmlp evaluate MODEL.fmlp DATA.csv           loss and accuracy, or MSE and R2
    fastmlp info MODEL.fmlp                        architecture, parameters, metadata (also of an .onnx file)
    fastmlp export MODEL.fmlp OUT.onnx             the model as ONNX, for onnxruntime (the onnx extra)
    fastmlp playground                             a live training page on 127.0.0.1

CSV files are read by pandas' C parser (the csv extra); the delimiter is found from the first
lines. A model written by ``fastmlp train`` keeps its table schema (column roles, fill values,
categories, scaling) and, in its ``metadata``, the task, the target column, the encoded
feature names, the id column and the class names, so predict and evaluate find their columns
by name, in any order.

An error prints one line, ``fastmlp: error: <message>``, on stderr and exits with
status 1 (2 for a wrong command line, as argparse does); ``--debug`` adds the
traceback. Ctrl-C exits with status 130.

Layout: parser (the parser, built from the command modules listed in parser.SUBCOMMANDS),
options (value types, shared options), common (what every command does alike), data (tasks,
labels, model outputs, scores; the numeric-only input of models without a table schema),
tabular (CSV tables: reading options, the target, column roles, a table model's inputs and
ids), tables (text output), and one module per command.
A new command NAME is a module cli/NAME.py with add_parser(subcommands) and
command_NAME(args) -> int, listed in parser.SUBCOMMANDS and imported below.
"""
from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from .data import UsageError, infer_task
from .demo import command_demo
from .evaluate import command_evaluate
from .export import command_export
from .info import command_info
from .parser import SUBCOMMANDS, build_parser
from .playground import command_playground
from .predict import command_predict
from .train import command_train

__all__ = ["SUBCOMMANDS", "build_parser", "command_demo", "command_evaluate", "command_export", "command_info",
           "command_playground", "command_predict", "command_train", "infer_task", "main"]


def _error_message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        message = f"{error.filename}: {error.strerror}"
    elif isinstance(error, (OSError, ValueError, FloatingPointError, ImportError)):
        message = str(error) or type(error).__name__
    else:
        message = f"internal error ({type(error).__name__}: {error}); rerun with --debug and report it"
    return " ".join(message.split())  # one line, whatever the exception held


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 success, 1 error, 2 usage, 130 Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # Looked up in this package when it runs, so the command_<name> seen here is the one that runs.
    run = globals()[f"command_{args.command}"]
    try:
        return int(run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`fastmlp predict ... | head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as error:  # noqa: BLE001 - the one place that turns errors into a message
        if args.debug:
            traceback.print_exc()
        print(f"fastmlp: error: {_error_message(error)}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1
