"""fastmlp playground: the training playground in a browser, served on 127.0.0.1."""
from __future__ import annotations

import argparse

from ..playground import serve
from .common import say
from .options import common_options


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "playground", parents=[common_options(with_threads=False)],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="train a network in a local web page, live",
        description="Serve the playground on http://127.0.0.1:PORT/ (loopback only): choose a data set (or a CSV "
                    "with two features and a label), layers, activations, learning rate, optimiser and batch "
                    "size; watch the decision boundary, the losses and each layer's gradient norm; step once "
                    "to see Z, A, dZ, dW and db; save the model as .fmlp. Ctrl-C stops it.",
        epilog="example:\n  fastmlp playground --open\n")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port; default 8765)")
    parser.add_argument("--open", action="store_true", help="also open the page in the default browser")


def command_playground(args: argparse.Namespace) -> int:
    serve(args.port, open_browser=args.open, announce=say)
    return 0
