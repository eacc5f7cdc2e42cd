"""fastmlp playground: a local web page to train a small network on the real engine.

    fastmlp playground            (or: python -m fastmlp.playground)

serves http://127.0.0.1:8765/ (loopback only; --port picks another, 0 a free one). Pick a
data set (a generator, or a CSV with two feature columns and a label), the hidden layers
and their activations, the learning rate, optimiser and batch size; train and watch the
decision boundary, the train and validation loss and every layer's gradient norm; pause
and take one step at a time to see its Z, A, dZ, dW and db in the lecture's notation;
presets show XOR, the vanishing gradient, dead ReLUs and overfitting; the model downloads
as a .fmlp file that fm.load reads. The page and its script ship inside the package and
need no internet.
"""
from __future__ import annotations

import argparse
import webbrowser

from ._server import Playground

__all__ = ["Playground", "serve", "main"]


def serve(port: int = 8765, open_browser: bool = False, announce=print) -> None:
    """Serve the playground until Ctrl-C, then stop training and close the port."""
    playground = Playground(port)
    announce(f"fastmlp playground on {playground.url}  (Ctrl-C stops it)")
    if open_browser:
        webbrowser.open(playground.url)
    try:
        playground.serve_forever()
    except KeyboardInterrupt:
        announce("stopped")
    finally:
        playground.session.close()
        playground.server.server_close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port; default 8765)")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fastmlp.playground", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    serve(args.port, args.open)
