"""The ``fastmlp`` command: train, apply and inspect networks on CSV files.

    fastmlp demo                                   spirals: train, print accuracy, save
    fastmlp train DATA.csv --target COL            classification or regression from a CSV
    fastmlp predict MODEL.fmlp DATA.csv [--out P]  predictions (and class probabilities) as CSV
    fastmlp evaluate MODEL.fmlp DATA.csv           loss and accuracy, or MSE and R2
    fastmlp info MODEL.fmlp                        architecture, parameters, metadata

CSV files have a header row. A model written by ``fastmlp train`` keeps, in its
``metadata``, the task, the target column, the feature names and the class names, so
predict and evaluate find their columns by name, in any order.

An error prints one line, ``fastmlp: error: <message>``, on stderr and exits with
status 1 (2 for a wrong command line, as argparse does); ``--debug`` adds the
traceback. Ctrl-C exits with status 130.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
import traceback

import numpy as np

from . import _core
from ._cli_data import (AUTO_MAX_CLASSES, SCORE_NAMES, ModelOutputs, UsageError, csv_header, encode_classes,
                        format_score, format_scores, infer_task, json_label, label_text, list_classes, list_names,
                        load_csv_file, number_texts, read_model_inputs, regression_scores)

DEMO_OUT = "fastmlp-demo.fmlp"
HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "elu", "softplus", "silu", "identity")
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.01}


# ----------------------------------------------------------------------------- small helpers

def _say(*parts) -> None:
    print(*parts, flush=True)


def _check_writable_target(path: str, what: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {what} {path!r}: the folder {directory!r} does not exist")


def _set_threads(args, default=None) -> None:
    """Apply --threads, or `default` when it was not given (None keeps the engine's default)."""
    threads = getattr(args, "threads", None)
    threads = default if threads is None else threads
    if threads is not None:
        from . import set_num_threads
        set_num_threads(threads)


# Training works on mini-batches of a few dozen rows, where a second thread costs more in
# synchronisation than it saves (measured: 3x slower on 2 idle cores, far worse on busy ones).
TRAINING_THREADS = 1


def _progress(args) -> int:
    return 0 if args.quiet else 1


def _load_model(path):
    from .model import Sequential
    from . import load
    model = load(path)
    if not isinstance(model, Sequential):
        raise ValueError(f"{path} holds a fastmlp.{type(model).__name__}; fastmlp predict and evaluate read "
                         "Sequential models (from fastmlp train, fastmlp demo or Sequential.save): use this one "
                         "from Python")
    return model


# ----------------------------------------------------------------------------- train

def _parse_hidden(text: str) -> list:
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer sizes such as 64,32, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _bounded(convert, accepts, expected: str):
    """An argparse type: `convert` the text, then keep it only if `accepts(value)`."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accepts(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


_positive_int = _bounded(int, lambda value: value >= 1, "a positive integer")
_non_negative_int = _bounded(int, lambda value: value >= 0, "an integer >= 0")
_positive_float = _bounded(float, lambda value: math.isfinite(value) and value > 0, "a positive number")
_fraction = _bounded(float, lambda value: 0.0 <= value < 1.0, "a number in [0, 1)")


def _optimizer(args):
    from .optimizers import SGD, Adam
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    if args.optimizer == "adam":
        return Adam(lr=lr)
    return SGD(lr=lr, momentum=args.momentum)


def _architecture(model) -> str:
    parts = [str(model.input_dim)] + [f"{layer.units} {layer.activation}" for layer in model.layers]
    return " -> ".join(parts)


def command_train(args) -> int:
    from .callbacks import EarlyStopping
    from .datasets import Standardizer, train_test_split
    from .layers import Dense
    from .model import Sequential

    _set_threads(args, default=TRAINING_THREADS)
    _check_writable_target(args.out, "the model file")
    columns = csv_header(args.data)
    if args.target not in columns:
        raise ValueError(f"{args.data}: no column {args.target!r} for --target; the columns are "
                         f"{list_names(columns, 20)}")
    data = load_csv_file(args.data, args.target)
    X, y = data.X, data.y
    n_rows = X.shape[0]
    _say(f"data: {args.data}, {n_rows} rows, {X.shape[1]} feature(s) ({list_names(data.feature_names)}), "
         f"target {data.target_name!r}")

    if args.task == "auto":
        task, reason = infer_task(y)
    else:
        task, reason = args.task, "--task"
    if task == "classification":
        classes_found, y_encoded = np.unique(y, return_inverse=True)
        classes = [json_label(c) for c in classes_found]
        if len(classes) < 2:
            raise ValueError(f"{args.data}: the target {data.target_name!r} has a single class "
                             f"({list_classes(classes)}); classification needs at least 2")
        y_encoded = y_encoded.reshape(-1)
        _say(f"task: classification ({reason}), {len(classes)} classes: {list_classes(classes)}")
    else:
        if y.dtype.kind in "US":
            raise ValueError(f"{args.data}: the target {data.target_name!r} holds text (such as {str(y[0])!r}); "
                             "regression needs numbers: use --task classification or another column")
        classes = None
        y_encoded = y
        _say(f"task: regression ({reason})")

    if args.validation_split > 0:
        stratify = y_encoded if task == "classification" else None
        try:
            X_train, X_val, y_train, y_val = train_test_split(X, y_encoded, test_size=args.validation_split,
                                                              random_state=args.seed, stratify=stratify)
        except ValueError as error:
            raise ValueError(f"cannot hold out --validation-split {args.validation_split:g} of {n_rows} rows "
                             f"({error}); use more rows or --validation-split 0") from None
    else:
        X_train, y_train, X_val, y_val = X, y_encoded, None, None

    n_outputs = len(classes) if task == "classification" else 1
    layers = [Dense(units, activation=args.activation) for units in args.hidden]
    layers.append(Dense(n_outputs, activation="softmax" if task == "classification" else "identity"))
    model = Sequential(layers, input_dim=X.shape[1], dtype=args.dtype, seed=args.seed)
    model.compile(loss="cross_entropy" if task == "classification" else "mse", optimizer=_optimizer(args))
    model.preprocessing = Standardizer().fit(X_train)

    # Regression trains on standardised targets (a well-scaled loss for any units), then folds
    # the scaling into the output layer, so the saved model predicts in the target's units.
    target_scaling = None
    fit_train, fit_val = y_train, y_val
    if task == "regression":
        mean, scale = float(y_train.mean()), float(y_train.std())
        scale = scale if scale > 0 else 1.0
        target_scaling = {"mean": mean, "scale": scale}
        fit_train = (y_train - mean) / scale
        fit_val = None if y_val is None else (y_val - mean) / scale

    _say(f"model: {_architecture(model)}, {model.count_params():,} parameters; {args.optimizer} "
         f"lr={model.optimizer.lr:g}, batch size {args.batch_size}, at most {args.epochs} epochs")
    _say(f"training on {X_train.shape[0]} rows"
         + (f", validating on {X_val.shape[0]}" + (" (stratified)" if task == "classification" else "")
            if X_val is not None else " (no validation set)"))
    callbacks = []
    stopper = None
    if X_val is not None and args.patience > 0:
        stopper = EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True)
        callbacks.append(stopper)
    history = model.fit(X_train, fit_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_data=None if X_val is None else (X_val, fit_val),
                        callbacks=callbacks, verbose=_progress(args))
    epochs_run = len(history.epoch)
    if target_scaling is not None:
        output = model.layers[-1]
        output.W = output.W * target_scaling["scale"]
        output.b = output.b * target_scaling["scale"] + target_scaling["mean"]

    if stopper is not None and stopper.best_epoch is not None:
        stopped = "stopped early" if stopper.stopped_epoch is not None else "ran all epochs"
        _say(f"{epochs_run} epoch(s), {stopped}; kept the weights of epoch {stopper.best_epoch + 1} "
             "(lowest validation loss)")
    else:
        _say(f"{epochs_run} epoch(s)")

    def scores(X_part, y_part):
        if task == "classification":
            return model.evaluate(X_part, y_part)
        return regression_scores(y_part, model.predict(X_part)[:, 0])

    results = {"train": scores(X_train, y_train)}
    _say(f"train:      {format_scores(results['train'])}")
    if X_val is not None:
        results["validation"] = scores(X_val, y_val)
        _say(f"validation: {format_scores(results['validation'])}")

    metadata = {"created_by": "fastmlp train", "task": task, "target": data.target_name,
                "features": list(data.feature_names)}
    if classes is not None:
        metadata["classes"] = classes
    metadata["training"] = {
        "data": os.path.basename(args.data), "rows": n_rows, "train_rows": int(X_train.shape[0]),
        "validation_rows": 0 if X_val is None else int(X_val.shape[0]), "epochs": epochs_run,
        "best_epoch": None if stopper is None or stopper.best_epoch is None else stopper.best_epoch + 1,
        "batch_size": args.batch_size, "seed": args.seed, "target_scaling": target_scaling,
        "results": {part: {key: (None if math.isnan(v) else float(v)) for key, v in values.items()}
                    for part, values in results.items()},
    }
    model.metadata = metadata
    model.save(args.out)
    _say(f"saved the model to {args.out}")
    _say("next:")
    _say(f"  fastmlp info {args.out}")
    _say(f"  fastmlp evaluate {args.out} TEST.csv")
    _say(f"  fastmlp predict {args.out} NEW.csv --out predictions.csv")
    return 0


# ----------------------------------------------------------------------------- predict, evaluate, info

def command_predict(args) -> int:
    _set_threads(args)
    model = _load_model(args.model)
    outputs = ModelOutputs(model, args.model)
    if args.out is not None:
        _check_writable_target(args.out, "the predictions")
    X, _ = read_model_inputs(args.data, model, target_required=False, target_override=args.target)
    predicted, probabilities = outputs.predict(X)
    labels = outputs.texts(predicted)
    header = ["prediction"]
    if probabilities is not None:
        header += [f"p_{label_text(c)}" for c in outputs.classes]
        probability_texts = [number_texts(column) for column in probabilities.T]
    rows = ([label, *(column[i] for column in probability_texts)] for i, label in enumerate(labels)) \
        if probabilities is not None else ([label] for label in labels)
    if args.out is None:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        sys.stdout.flush()
    else:
        with open(args.out, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        if not args.quiet:
            _say(f"wrote {len(labels)} prediction(s) to {args.out}")
    return 0


def _confusion_table(true_index, predicted_index, classes) -> str:
    k = len(classes)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (true_index, predicted_index), 1)
    names = [label_text(c) for c in classes]
    first = max(len("true \\ predicted"), *(len(name) for name in names))
    widths = [max(len(name), len(str(counts[:, j].max()))) for j, name in enumerate(names)]
    lines = ["true \\ predicted".ljust(first) + "  " + "  ".join(n.rjust(w) for n, w in zip(names, widths))]
    for i, name in enumerate(names):
        lines.append(name.ljust(first) + "  " + "  ".join(str(counts[i, j]).rjust(w) for j, w in enumerate(widths)))
    return "\n".join(lines)


def command_evaluate(args) -> int:
    _set_threads(args)
    model = _load_model(args.model)
    outputs = ModelOutputs(model, args.model)
    X, y = read_model_inputs(args.data, model, target_required=True, target_override=args.target)
    target = args.target or model.metadata.get("target")
    _say(f"{args.data}: {X.shape[0]} rows, target {target!r}")
    if outputs.classifier:
        true_index = encode_classes(y, outputs.classes, args.data)
        scores = model.evaluate(X, true_index)
        predicted_index, _ = outputs.predict(X)
        correct = int(np.sum(predicted_index == true_index))
        _say(f"loss ({model.loss}): {scores['loss']:.6g}")
        _say(f"accuracy: {correct / len(true_index):.4f} ({correct} of {len(true_index)})")
        if len(outputs.classes) <= 12:
            _say(_confusion_table(true_index, predicted_index, outputs.classes))
    else:
        if y.dtype.kind in "US":
            raise ValueError(f"{args.data}: the target {target!r} holds text, but the model is a regressor")
        scores = regression_scores(y, model.predict(X)[:, 0])
        for key, value in scores.items():
            _say(f"{SCORE_NAMES[key] + ':':6s}{format_score(key, value)}")
    return 0


def command_info(args) -> int:
    from . import fileformat
    from .model import Sequential
    from . import load

    description, _ = fileformat.load(args.model)
    model = load(args.model)
    size = os.path.getsize(args.model)
    _say(f"{args.model}: {size:,} bytes, fastmlp model file format {description['format_version']}, "
         f"written by fastmlp {description['library_version']} (this is fastmlp {_core.__version__})")
    _say(f"kind: {description['kind']}")
    if not isinstance(model, Sequential):
        _say(repr(model))
        network = getattr(model, "model_", None)  # the network inside an estimator
        if isinstance(network, Sequential):
            _say(network.summary())
        if getattr(model, "classes_", None) is not None:
            _say(f"classes ({len(model.classes_)}): {list_classes(model.classes_, 20)}")
        return 0
    _say(model.summary())
    _say(f"parameters: {model.count_params():,}  dtype: {np.dtype(model.dtype).name}  loss: {model.loss}")
    if model.preprocessing is not None:
        _say(f"preprocessing: standardises the {model.input_dim} input feature(s) (stored mean and scale)")
    meta = model.metadata
    if not meta:
        _say("metadata: none")
        return 0
    if "task" in meta:
        _say(f"task: {meta['task']}" + (f", target {meta['target']!r}" if meta.get("target") else ""))
    if meta.get("classes") is not None:
        _say(f"classes ({len(meta['classes'])}): {list_classes(meta['classes'], 20)}")
    if meta.get("features") is not None:
        _say(f"features ({len(meta['features'])}): {list_names(meta['features'], 20)}")
    training = meta.get("training")
    if isinstance(training, dict):
        _say(f"trained on {training.get('data')}: {training.get('train_rows')} rows for training, "
             f"{training.get('validation_rows')} for validation, {training.get('epochs')} epoch(s)")
        for part, values in (training.get("results") or {}).items():
            if isinstance(values, dict):
                _say(f"  {part}: {format_scores(values)}")
    other = {key: value for key, value in meta.items()
             if key not in ("task", "target", "classes", "features", "training")}
    for key, value in other.items():
        _say(f"{key}: {value}")
    return 0


# ----------------------------------------------------------------------------- demo

def command_demo(args) -> int:
    from .callbacks import EarlyStopping
    from .datasets import Standardizer, make_spirals, train_test_split
    from .layers import Dense
    from .model import Sequential
    from .optimizers import Adam

    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ImportError("--plot needs matplotlib: pip install 'fastmlp[plot]'") from None
        os.makedirs(args.plot, exist_ok=True)
    _set_threads(args, default=TRAINING_THREADS)
    _check_writable_target(args.out, "the model file")

    X, y = make_spirals(n_samples=1500, n_classes=3, noise=0.2, random_state=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=args.seed, stratify=y)
    _say(f"fastmlp demo: 3 interleaved spirals, {X.shape[0]} points in the plane "
         f"(fastmlp.datasets.make_spirals, seed {args.seed})")
    _say(f"training on {X_train.shape[0]} points, testing on the other {X_test.shape[0]}")

    # A straight line cannot separate spirals: a network without hidden layers shows it.
    linear = Sequential([Dense(3, activation="softmax")], seed=args.seed)
    linear.compile(loss="cross_entropy", optimizer=Adam(lr=0.05))
    linear.preprocessing = Standardizer().fit(X_train)
    linear.fit(X_train, y_train, epochs=30, batch_size=64, verbose=0)
    linear_accuracy = linear.evaluate(X_test, y_test)["accuracy"]
    _say(f"linear model (softmax regression, no hidden layer): test accuracy {linear_accuracy:.4f} (chance: 0.33)")

    model = Sequential([Dense(64, activation="relu"), Dense(64, activation="relu"), Dense(3, activation="softmax")],
                       seed=args.seed, name="spirals")
    model.compile(loss="cross_entropy", optimizer=Adam(lr=0.01))
    model.preprocessing = Standardizer().fit(X_train)
    model.build(X.shape[1])
    _say(f"MLP {_architecture(model)}, {model.count_params():,} parameters, Adam lr=0.01, "
         "early stopping on a 20% validation split")
    stopper = EarlyStopping(monitor="val_loss", patience=20, restore_best_weights=True)
    started = time.perf_counter()
    history = model.fit(X_train, y_train, epochs=200, batch_size=32, validation_split=0.2, callbacks=[stopper],
                        verbose=_progress(args))
    seconds = time.perf_counter() - started
    train_accuracy = model.evaluate(X_train, y_train)["accuracy"]
    test_accuracy = model.evaluate(X_test, y_test)["accuracy"]
    _say(f"trained {len(history.epoch)} epochs in {seconds:.1f} s (kept epoch {stopper.best_epoch + 1}, "
         "the lowest validation loss)")
    _say(f"train accuracy: {train_accuracy:.4f}")
    _say(f"test accuracy:  {test_accuracy:.4f}")

    model.metadata = {"created_by": "fastmlp demo", "task": "classification", "target": "y",
                      "features": ["x0", "x1"], "classes": [0, 1, 2],
                      "training": {"data": f"make_spirals(n_samples=1500, n_classes=3, noise=0.2, "
                                           f"random_state={args.seed})",
                                   "train_rows": int(history.params["samples"]),
                                   "validation_rows": int(X_train.shape[0] - history.params["samples"]),
                                   "test_rows": int(X_test.shape[0]), "epochs": len(history.epoch),
                                   "results": {"train": {"accuracy": float(train_accuracy)},
                                               "test": {"accuracy": float(test_accuracy)}}}}
    model.save(args.out)
    _say(f"saved the model to {os.path.abspath(args.out)}")

    if args.plot is not None:
        from . import plot
        boundary = os.path.join(args.plot, "decision_boundary.png")
        curves = os.path.join(args.plot, "loss_curves.png")
        plot.plot_decision_boundary(model, X, y, path=boundary,
                                    title=f"fastmlp demo: spirals, test accuracy {test_accuracy:.3f}")
        plot.plot_history(history, path=curves)
        _say(f"wrote {boundary} and {curves}")
    suggestions = [(f"fastmlp info {args.out}", "architecture, parameters, metadata")]
    if args.plot is None:
        suggestions.append(("fastmlp demo --plot plots", "decision boundary and loss curves as PNG"))
    suggestions.append(("fastmlp train DATA.csv --target COLUMN", "the same on your own CSV file"))
    width = max(len(command) for command, _ in suggestions)
    _say("next:")
    for command, what in suggestions:
        _say(f"  {command.ljust(width)}   {what}")
    return 0


# ----------------------------------------------------------------------------- parser and main

_EXAMPLES = """\
examples:
  fastmlp demo
  fastmlp train iris.csv --target species --hidden 32,16 --epochs 200
  fastmlp predict model.fmlp new.csv --out predictions.csv
  fastmlp evaluate model.fmlp test.csv
  fastmlp info model.fmlp
"""

_TRAIN_EXAMPLES = f"""\
The task comes from the target column unless --task says: text labels, or integer values
with at most {AUTO_MAX_CLASSES} distinct values and fewer distinct values than half the rows,
mean classification (softmax output, cross-entropy); anything else is regression (identity
output, mean squared error). Features are standardised with the training rows' mean and
standard deviation, and the standardiser is stored in the model. Regression targets are
standardised for training too; that scaling is folded into the output layer afterwards,
so the saved model predicts in the target's own units. With a validation split, training
stops when the validation loss has not improved for --patience epochs and keeps the best
epoch's weights.

examples:
  fastmlp train iris.csv --target species
  fastmlp train houses.csv --target price --hidden 128,64 --epochs 300 --lr 3e-4
  fastmlp train data.csv --target grade --task regression --optimizer sgd --lr 0.05
"""


def _common_options(with_threads: bool = True) -> argparse.ArgumentParser:
    # SUPPRESS keeps the top-level parser's values when an option is not repeated after the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bar")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    if with_threads:
        common.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                            help=f"threads for the matrix products (default: {TRAINING_THREADS} for training, "
                                 "whose mini-batches are small; all cores otherwise)")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastmlp", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train, apply and inspect dense neural networks on CSV files (CSV files have a header row).",
        epilog=_EXAMPLES)
    parser.add_argument("--version", action="version", version=f"fastmlp {_core.__version__}")
    parser.add_argument("--quiet", "-q", action="store_true", default=False, help="no progress bar")
    parser.add_argument("--debug", action="store_true", default=False, help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _common_options()

    demo = commands.add_parser(
        "demo", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="train an MLP on spirals, print train/test accuracy, save it",
        description="Train a small MLP on three interleaved spirals (a data set no straight line separates), "
                    "print its train and test accuracy next to a linear model's, and save it.",
        epilog="examples:\n  fastmlp demo\n  fastmlp demo --plot plots --out spirals.fmlp\n")
    demo.add_argument("--out", default=DEMO_OUT, metavar="MODEL.fmlp", help=f"model file (default: {DEMO_OUT})")
    demo.add_argument("--seed", type=_non_negative_int, default=0, metavar="S",
                      help="seed of the data and the weights (default 0)")
    demo.add_argument("--plot", metavar="DIR", default=None,
                      help="write decision_boundary.png and loss_curves.png into DIR (needs matplotlib)")
    demo.set_defaults(run=command_demo)

    train = commands.add_parser(
        "train", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="train a network on a CSV file",
        description="Train an MLP classifier or regressor on DATA.csv and save it with its standardiser, "
                    "feature names and class names.",
        epilog=_TRAIN_EXAMPLES)
    train.add_argument("data", metavar="DATA.csv")
    train.add_argument("--target", required=True, metavar="COL", help="name of the target column")
    train.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                       help="default: auto (see below)")
    train.add_argument("--hidden", type=_parse_hidden, default=[64, 32], metavar="64,32",
                       help="hidden layer sizes, comma-separated; 'none' for no hidden layer (default 64,32)")
    train.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, default="relu",
                       help="activation of the hidden layers (default relu)")
    train.add_argument("--epochs", type=_positive_int, default=100, metavar="N",
                       help="maximum number of epochs (default 100)")
    train.add_argument("--batch-size", type=_positive_int, default=32, metavar="B", help="default 32")
    train.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="default adam")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help="learning rate (default 0.001 for adam, 0.01 for sgd)")
    train.add_argument("--momentum", type=_fraction, default=0.9, metavar="M", help="momentum of sgd (default 0.9)")
    train.add_argument("--validation-split", type=_fraction, default=0.2, metavar="F",
                       help="fraction of rows held out for validation, stratified for classification; "
                            "0 trains on all rows without early stopping (default 0.2)")
    train.add_argument("--patience", type=_non_negative_int, default=10, metavar="N",
                       help="epochs without improvement of the validation loss before stopping; "
                            "0 never stops early (default 10)")
    train.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="default float32")
    train.add_argument("--seed", type=_non_negative_int, default=0, metavar="S",
                       help="seed of the split, the weights and the shuffling (default 0)")
    train.add_argument("--out", default="model.fmlp", metavar="MODEL.fmlp", help="default model.fmlp")
    train.set_defaults(run=command_train)

    predict = commands.add_parser(
        "predict", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write predictions for a CSV file",
        description="Apply a model to DATA.csv and write a CSV with a 'prediction' column, plus one p_<class> "
                    "probability column per class for classifiers. DATA.csv needs the model's feature columns, "
                    "in any order; a target column is ignored.",
        epilog="examples:\n  fastmlp predict model.fmlp new.csv\n  fastmlp predict model.fmlp new.csv --out p.csv\n")
    predict.add_argument("model", metavar="MODEL.fmlp")
    predict.add_argument("data", metavar="DATA.csv")
    predict.add_argument("--out", default=None, metavar="PREDS.csv", help="default: standard output")
    predict.add_argument("--target", default=None, metavar="COL",
                         help="target column to ignore, for models that do not record it")
    predict.set_defaults(run=command_predict)

    evaluate = commands.add_parser(
        "evaluate", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="score a model on a CSV file that has the target column",
        description="Print the loss and accuracy (with a confusion matrix) of a classifier, or the MSE, RMSE, "
                    "MAE and R2 of a regressor, on DATA.csv, which must contain the target column.",
        epilog="example:\n  fastmlp evaluate model.fmlp test.csv\n")
    evaluate.add_argument("model", metavar="MODEL.fmlp")
    evaluate.add_argument("data", metavar="DATA.csv")
    evaluate.add_argument("--target", default=None, metavar="COL",
                          help="target column, for models that do not record it")
    evaluate.set_defaults(run=command_evaluate)

    info = commands.add_parser(
        "info", parents=[_common_options(with_threads=False)], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="describe a model file",
        description="Print a model's architecture, parameter count, dtype, loss, metadata (task, target, classes, "
                    "features) and the versions that wrote and read it.",
        epilog="example:\n  fastmlp info model.fmlp\n")
    info.add_argument("model", metavar="MODEL.fmlp")
    info.set_defaults(run=command_info)
    return parser


def _error_message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        message = f"{error.filename}: {error.strerror}"
    elif isinstance(error, (OSError, ValueError, FloatingPointError, ImportError)):
        message = str(error) or type(error).__name__
    else:
        message = f"internal error ({type(error).__name__}: {error}); rerun with --debug and report it"
    return " ".join(message.split())  # one line, whatever the exception held


def main(argv=None) -> int:
    """Run the command line; return the exit status (0 success, 1 error, 2 usage, 130 Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
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
