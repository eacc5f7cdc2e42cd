"""fastmlp train DATA.csv --target COL: an MLP classifier or regressor from a CSV file, saved with what
predict and evaluate need (standardiser, feature names, class names, the target's scaling folded in)."""
from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from ..callbacks import EarlyStopping
from ..datasets import Standardizer, train_test_split
from ..layers import Dense
from ..model import Sequential
from ..optimizers import SGD, Adam
from .common import architecture, check_writable_target, progress, say, set_threads
from .data import AUTO_MAX_CLASSES, csv_header, infer_task, load_csv_file, regression_scores
from .options import TRAINING_THREADS, common_options, fraction, non_negative_int, parse_hidden, positive_float, \
    positive_int
from .tables import format_scores, json_label, list_classes, list_names

HIDDEN_ACTIVATIONS = tuple(_core.hidden_activation_names())  # the engine's name table
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.01}

_TRAIN_EPILOG = f"""\
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


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "train", parents=[common_options()], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="train a network on a CSV file",
        description="Train an MLP classifier or regressor on DATA.csv and save it with its standardiser, "
                    "feature names and class names.",
        epilog=_TRAIN_EPILOG)
    add = parser.add_argument
    add("data", metavar="DATA.csv")
    add("--target", required=True, metavar="COL", help="name of the target column")
    add("--task", choices=("auto", "classification", "regression"), default="auto", help="default: auto (see below)")
    add("--hidden", type=parse_hidden, default=[64, 32], metavar="64,32",
        help="hidden layer sizes, comma-separated; 'none' for no hidden layer (default 64,32)")
    add("--activation", choices=HIDDEN_ACTIVATIONS, default="relu",
        help="activation of the hidden layers (default relu)")
    add("--epochs", type=positive_int, default=100, metavar="N", help="maximum number of epochs (default 100)")
    add("--batch-size", type=positive_int, default=32, metavar="B", help="default 32")
    add("--optimizer", choices=("adam", "sgd"), default="adam", help="default adam")
    add("--lr", type=positive_float, default=None, help="learning rate (default 0.001 for adam, 0.01 for sgd)")
    add("--momentum", type=fraction, default=0.9, metavar="M", help="momentum of sgd (default 0.9)")
    add("--validation-split", type=fraction, default=0.2, metavar="F",
        help="fraction of rows held out for validation, stratified for classification; "
             "0 trains on all rows without early stopping (default 0.2)")
    add("--patience", type=non_negative_int, default=10, metavar="N",
        help="epochs without improvement of the validation loss before stopping; 0 never stops early (default 10)")
    add("--dtype", choices=("float32", "float64"), default="float32", help="default float32")
    add("--seed", type=non_negative_int, default=0, metavar="S",
        help="seed of the split, the weights and the shuffling (default 0)")
    add("--out", default="model.fmlp", metavar="MODEL.fmlp", help="default model.fmlp")


@dataclass
class _Target:
    """The target column as training sees it: the task, the class names, the encoded values."""
    task: str
    classes: list | None
    values: np.ndarray


@dataclass
class _Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None


def command_train(args: argparse.Namespace) -> int:
    set_threads(args, default=TRAINING_THREADS)
    check_writable_target(args.out, "the model file")
    data = _read_data(args)
    target = _encode_target(args, data)
    split = _hold_out(args, data.X, target)
    model = _build_model(args, target, split)
    stopper, target_scaling, epochs_run = _fit(args, model, target, split)
    results = _report_scores(model, target.task, split)
    model.metadata = {"created_by": "fastmlp train", "task": target.task, "target": data.target_name,
                      "features": list(data.feature_names)}
    if target.classes is not None:
        model.metadata["classes"] = target.classes
    model.metadata["training"] = {
        "data": os.path.basename(args.data), "rows": data.X.shape[0], "train_rows": int(split.X_train.shape[0]),
        "validation_rows": 0 if split.X_val is None else int(split.X_val.shape[0]), "epochs": epochs_run,
        "best_epoch": None if stopper is None or stopper.best_epoch is None else stopper.best_epoch + 1,
        "batch_size": args.batch_size, "seed": args.seed, "target_scaling": target_scaling,
        "results": {part: {key: (None if math.isnan(v) else float(v)) for key, v in values.items()}
                    for part, values in results.items()},
    }
    model.save(args.out)
    say(f"saved the model to {args.out}")
    say("next:")
    say(f"  fastmlp info {args.out}")
    say(f"  fastmlp evaluate {args.out} TEST.csv")
    say(f"  fastmlp predict {args.out} NEW.csv --out predictions.csv")
    return 0


def _read_data(args: argparse.Namespace) -> Any:
    columns = csv_header(args.data)
    if args.target not in columns:
        raise ValueError(f"{args.data}: no column {args.target!r} for --target; the columns are "
                         f"{list_names(columns, 20)}")
    data = load_csv_file(args.data, args.target)
    say(f"data: {args.data}, {data.X.shape[0]} rows, {data.X.shape[1]} feature(s) "
        f"({list_names(data.feature_names)}), target {data.target_name!r}")
    return data


def _encode_target(args: argparse.Namespace, data: Any) -> _Target:
    y = data.y
    task, reason = infer_task(y) if args.task == "auto" else (args.task, "--task")
    if task == "regression":
        if y.dtype.kind in "US":
            raise ValueError(f"{args.data}: the target {data.target_name!r} holds text (such as {str(y[0])!r}); "
                             "regression needs numbers: use --task classification or another column")
        say(f"task: regression ({reason})")
        return _Target(task, None, y)
    classes_found, encoded = np.unique(y, return_inverse=True)
    classes = [json_label(c) for c in classes_found]
    if len(classes) < 2:
        raise ValueError(f"{args.data}: the target {data.target_name!r} has a single class "
                         f"({list_classes(classes)}); classification needs at least 2")
    say(f"task: classification ({reason}), {len(classes)} classes: {list_classes(classes)}")
    return _Target(task, classes, encoded.reshape(-1))


def _hold_out(args: argparse.Namespace, X: np.ndarray, target: _Target) -> _Split:
    if args.validation_split <= 0:
        return _Split(X, target.values, None, None)
    stratify = target.values if target.task == "classification" else None
    try:
        X_train, X_val, y_train, y_val = train_test_split(X, target.values, test_size=args.validation_split,
                                                          random_state=args.seed, stratify=stratify)
    except ValueError as error:
        raise ValueError(f"cannot hold out --validation-split {args.validation_split:g} of {X.shape[0]} rows "
                         f"({error}); use more rows or --validation-split 0") from None
    return _Split(X_train, y_train, X_val, y_val)


def _optimizer(args: argparse.Namespace) -> SGD | Adam:
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    if args.optimizer == "adam":
        return Adam(lr=lr)
    return SGD(lr=lr, momentum=args.momentum)


def _build_model(args: argparse.Namespace, target: _Target, split: _Split) -> Sequential:
    classification = target.task == "classification"
    n_outputs = len(target.classes) if target.classes is not None else 1
    layers = [Dense(units, activation=args.activation) for units in args.hidden]
    layers.append(Dense(n_outputs, activation="softmax" if classification else "identity"))
    model = Sequential(layers, input_dim=split.X_train.shape[1], dtype=args.dtype, seed=args.seed)
    optimizer = _optimizer(args)
    model.compile(loss="cross_entropy" if classification else "mse", optimizer=optimizer)
    model.preprocessing = Standardizer().fit(split.X_train)
    say(f"model: {architecture(model)}, {model.count_params():,} parameters; {args.optimizer} "
        f"lr={optimizer.lr:g}, batch size {args.batch_size}, at most {args.epochs} epochs")
    validating = "" if split.X_val is None else f", validating on {split.X_val.shape[0]}" + (
        " (stratified)" if classification else "")
    say(f"training on {split.X_train.shape[0]} rows" + (validating or " (no validation set)"))
    return model


def _fit(args: argparse.Namespace, model: Sequential, target: _Target,
         split: _Split) -> tuple[EarlyStopping | None, dict | None, int]:
    """Train; return the early stopper (None without one), the target scaling (regression) and the epochs run."""
    # Regression trains on standardised targets (a well-scaled loss for any units), then folds
    # the scaling into the output layer, so the saved model predicts in the target's units.
    target_scaling = None
    fit_train, fit_val = split.y_train, split.y_val
    if target.task == "regression":
        mean, scale = float(split.y_train.mean()), float(split.y_train.std())
        scale = scale if scale > 0 else 1.0
        target_scaling = {"mean": mean, "scale": scale}
        fit_train = (split.y_train - mean) / scale
        fit_val = None if split.y_val is None else (split.y_val - mean) / scale
    stopper = None
    if split.X_val is not None and args.patience > 0:
        stopper = EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True)
    history = model.fit(split.X_train, fit_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_data=None if split.X_val is None else (split.X_val, fit_val),
                        callbacks=[] if stopper is None else [stopper], verbose=progress(args))
    epochs_run = len(history.epoch)
    if target_scaling is not None:
        output = model.layers[-1]
        output.W = output.W * target_scaling["scale"]
        output.b = output.b * target_scaling["scale"] + target_scaling["mean"]
    if stopper is not None and stopper.best_epoch is not None:
        stopped = "stopped early" if stopper.stopped_epoch is not None else "ran all epochs"
        say(f"{epochs_run} epoch(s), {stopped}; kept the weights of epoch {stopper.best_epoch + 1} "
            "(lowest validation loss)")
    else:
        say(f"{epochs_run} epoch(s)")
    return stopper, target_scaling, epochs_run


def _report_scores(model: Sequential, task: str, split: _Split) -> dict:
    def scores(X_part: np.ndarray, y_part: np.ndarray) -> dict:
        if task == "classification":
            return model.evaluate(X_part, y_part)
        return regression_scores(y_part, model.predict(X_part)[:, 0])

    results = {"train": scores(split.X_train, split.y_train)}
    say(f"train:      {format_scores(results['train'])}")
    if split.X_val is not None and split.y_val is not None:
        results["validation"] = scores(split.X_val, split.y_val)
        say(f"validation: {format_scores(results['validation'])}")
    return results
