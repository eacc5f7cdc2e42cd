"""fastmlp demo: three interleaved spirals, a linear model against an MLP, the MLP saved (and plotted)."""
from __future__ import annotations

import argparse
import os
import time

from ..callbacks import EarlyStopping, History
from ..datasets import Standardizer, make_spirals, train_test_split
from ..layers import Dense
from ..model import Sequential
from ..optimizers import Adam
from .common import architecture, check_writable_target, progress, say, set_threads
from .options import TRAINING_THREADS, common_options, non_negative_int

DEMO_OUT = "fastmlp-demo.fmlp"


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "demo", parents=[common_options()], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="train an MLP on spirals, print train/test accuracy, save it",
        description="Train a small MLP on three interleaved spirals (a data set no straight line separates), "
                    "print its train and test accuracy next to a linear model's, and save it.",
        epilog="examples:\n  fastmlp demo\n  fastmlp demo --plot plots --out spirals.fmlp\n")
    parser.add_argument("--out", default=DEMO_OUT, metavar="MODEL.fmlp", help=f"model file (default: {DEMO_OUT})")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S",
                        help="seed of the data and the weights (default 0)")
    parser.add_argument("--plot", metavar="DIR", default=None,
                        help="write decision_boundary.png and loss_curves.png into DIR (needs matplotlib)")


def command_demo(args: argparse.Namespace) -> int:
    if args.plot is not None:
        _check_matplotlib()
        os.makedirs(args.plot, exist_ok=True)
    set_threads(args, default=TRAINING_THREADS)
    check_writable_target(args.out, "the model file")

    X, y = make_spirals(n_samples=1500, n_classes=3, noise=0.2, random_state=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=args.seed, stratify=y)
    say(f"fastmlp demo: 3 interleaved spirals, {X.shape[0]} points in the plane "
        f"(fastmlp.datasets.make_spirals, seed {args.seed})")
    say(f"training on {X_train.shape[0]} points, testing on the other {X_test.shape[0]}")
    _show_linear_model(args.seed, X_train, y_train, X_test, y_test)

    model = Sequential([Dense(64, activation="relu"), Dense(64, activation="relu"), Dense(3, activation="softmax")],
                       seed=args.seed, name="spirals")
    model.compile(loss="cross_entropy", optimizer=Adam(lr=0.01))
    model.preprocessing = Standardizer().fit(X_train)
    model.build(X.shape[1])
    say(f"MLP {architecture(model)}, {model.count_params():,} parameters, Adam lr=0.01, "
        "early stopping on a 20% validation split")
    stopper = EarlyStopping(monitor="val_loss", patience=20, restore_best_weights=True)
    started = time.perf_counter()
    history = model.fit(X_train, y_train, epochs=200, batch_size=32, validation_split=0.2, callbacks=[stopper],
                        verbose=progress(args))
    seconds = time.perf_counter() - started
    train_accuracy = model.evaluate(X_train, y_train)["accuracy"]
    test_accuracy = model.evaluate(X_test, y_test)["accuracy"]
    best_epoch = stopper.best_epoch if stopper.best_epoch is not None else len(history.epoch) - 1
    say(f"trained {len(history.epoch)} epochs in {seconds:.1f} s (kept epoch {best_epoch + 1}, "
        "the lowest validation loss)")
    say(f"train accuracy: {train_accuracy:.4f}")
    say(f"test accuracy:  {test_accuracy:.4f}")

    model.metadata = _demo_metadata(args.seed, history, X_train.shape[0], X_test.shape[0],
                                    train_accuracy, test_accuracy)
    model.save(args.out)
    say(f"saved the model to {os.path.abspath(args.out)}")
    if args.plot is not None:
        _plot(args.plot, model, X, y, history, test_accuracy)
    _suggest_next(args)
    return 0


def _check_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401  (the `plot` extra: imported only when --plot asks for it)
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install 'fastmlp[plot]'") from None


def _show_linear_model(seed: int, X_train, y_train, X_test, y_test) -> None:
    # A straight line cannot separate spirals: a network without hidden layers shows it.
    linear = Sequential([Dense(3, activation="softmax")], seed=seed)
    linear.compile(loss="cross_entropy", optimizer=Adam(lr=0.05))
    linear.preprocessing = Standardizer().fit(X_train)
    linear.fit(X_train, y_train, epochs=30, batch_size=64, verbose=0)
    accuracy = linear.evaluate(X_test, y_test)["accuracy"]
    say(f"linear model (softmax regression, no hidden layer): test accuracy {accuracy:.4f} (chance: 0.33)")


def _demo_metadata(seed: int, history: History, n_train: int, n_test: int,
                   train_accuracy: float, test_accuracy: float) -> dict:
    return {"created_by": "fastmlp demo", "task": "classification", "target": "y",
            "features": ["x0", "x1"], "classes": [0, 1, 2],
            "training": {"data": f"make_spirals(n_samples=1500, n_classes=3, noise=0.2, random_state={seed})",
                         "train_rows": int(history.params["samples"]),
                         "validation_rows": int(n_train - history.params["samples"]),
                         "test_rows": int(n_test), "epochs": len(history.epoch),
                         "results": {"train": {"accuracy": float(train_accuracy)},
                                     "test": {"accuracy": float(test_accuracy)}}}}


def _plot(folder: str, model: Sequential, X, y, history: History, test_accuracy: float) -> None:
    from .. import plot  # needs matplotlib (the `plot` extra), so only imported for --plot

    boundary = os.path.join(folder, "decision_boundary.png")
    curves = os.path.join(folder, "loss_curves.png")
    plot.plot_decision_boundary(model, X, y, path=boundary,
                                title=f"fastmlp demo: spirals, test accuracy {test_accuracy:.3f}")
    plot.plot_history(history, path=curves)
    say(f"wrote {boundary} and {curves}")


def _suggest_next(args: argparse.Namespace) -> None:
    suggestions = [(f"fastmlp info {args.out}", "architecture, parameters, metadata")]
    if args.plot is None:
        suggestions.append(("fastmlp demo --plot plots", "decision boundary and loss curves as PNG"))
    suggestions.append(("fastmlp train DATA.csv --target COLUMN", "the same on your own CSV file"))
    width = max(len(command) for command, _ in suggestions)
    say("next:")
    for command, what in suggestions:
        say(f"  {command.ljust(width)}   {what}")
