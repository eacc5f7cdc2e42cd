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
from ..datasets import train_test_split
from ..datasets.schema import TableSchema, infer_roles
from ..layers import Dense
from ..model import Sequential
from ..optimizers import SGD, Adam
from .common import architecture, check_writable_target, progress, say, set_threads
from .data import AUTO_MAX_CLASSES, classification_scores, encode_classes, infer_task, regression_scores
from .options import TRAINING_THREADS, common_options, fraction, non_negative_int, parse_hidden, positive_float, \
    positive_int
from .tables import confusion_table, format_scores, json_label, list_classes
from .tabular import add_reading_options, encoded_inputs, read_csv, report_roles, require_column, target_cells

HIDDEN_ACTIVATIONS = tuple(_core.hidden_activation_names())  # the engine's name table
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.01}

_TRAIN_EPILOG = f"""\
The task comes from the target column unless --task says: text labels, or integer values
with at most {AUTO_MAX_CLASSES} distinct values and fewer distinct values than half the rows,
mean classification (softmax output, cross-entropy); anything else is regression (identity
output, mean squared error). Rows whose target is missing are left out, with a warning.

Columns of numbers are numeric features, columns of text categorical ones (one-hot encoded;
a category unseen in training encodes as all zeros at predict time, and is reported); a
column named like an id (id, *_id) with a distinct value in every row is an id, copied into
the predictions, as is --id COL; text with a distinct value in every row is ignored. Missing
cells (empty, NA, N/A, ?, NaN, null, ...) get the training median (and a 0/1 indicator
column) or the most frequent category. The encoded features are standardised with the
training rows' mean and standard deviation; all of it is stored in the model and applied by
predict, evaluate and the ONNX export. Regression targets are
standardised for training too; that scaling is folded into the output layer afterwards,
so the saved model predicts in the target's own units. With a validation split, training
stops when the validation loss has not improved for --patience epochs and keeps the best
epoch's weights.

examples:
  fastmlp train iris.csv --target species
  fastmlp train houses.csv --target price --hidden 128,64 --epochs 300 --lr 3e-4
  fastmlp train data.csv --target grade --task regression --optimizer sgd --lr 0.05
  fastmlp train customers.csv --target churn --id customer --categorical zip --test-size 0.2
  fastmlp train data.txt --target y --delimiter tab --test test.txt
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
    add("--id", default=None, metavar="COL", help="an identifier column: not a feature, copied into predictions")
    add("--test", default=None, metavar="TEST.csv", help="a held-out file scored at the end (RMSE, MAE, R2; or "
        "accuracy, macro-F1 and the confusion matrix)")
    add("--test-size", type=fraction, default=0.0, metavar="F",
        help="hold out this fraction of the rows as a test set instead (stratified for classification)")
    add_reading_options(parser, roles=True)


@dataclass
class _Target:
    """The target column as training sees it: the task, the class names, the encoded values."""
    task: str
    classes: list | None
    values: np.ndarray
    table: Any = None


@dataclass
class _Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


def command_train(args: argparse.Namespace) -> int:
    set_threads(args, default=TRAINING_THREADS)
    check_writable_target(args.out, "the model file")
    if args.test is not None and args.test_size > 0:
        raise ValueError("give --test FILE or --test-size F, not both")
    table, values = _read_data(args)
    target = _encode_target(args, table, values)
    roles = infer_roles(table, exclude={args.target}, categorical=args.categorical, ignore=args.ignore,
                        id_column=args.id)
    say("columns:")
    for line in report_roles(roles):
        say(line)
    schema, split = _hold_out(args, table, target, roles)
    gaps = [(e, int(table.missing(e.name).sum())) for e in schema.encodings]
    if any(n for _, n in gaps):
        say("missing cells: " + ", ".join(
            f"{e.name} {n} (filled with the " + (f"median {e.fill:.6g}" + (", and an indicator column"
                                                                         if e.indicator else "")
                                                 if e.kind == "numeric" else f"most frequent {e.fill!r}") + ")"
            for e, n in gaps if n))
    model = _build_model(args, target, split, schema)
    stopper, target_scaling, epochs_run = _fit(args, model, target, split)
    results = _report_scores(model, target, split)
    ids = [name for name, (role, _) in roles.items() if role == "id"]
    model.metadata = {"created_by": "fastmlp train", "task": target.task, "target": args.target,
                      "features": schema.feature_names, "columns": schema.input_columns,
                      **({"id": ids[0]} if ids else {})}
    if target.classes is not None:
        model.metadata["classes"] = target.classes
    model.metadata["training"] = {
        "data": os.path.basename(args.data), "rows": table.n_rows, "train_rows": int(split.X_train.shape[0]),
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


def _read_data(args: argparse.Namespace) -> tuple:
    table = read_csv(args.data, args, required=((args.target, "--target"),))
    say(f"data: {args.data}, {table.n_rows} rows, {len(table.names)} columns"
        + ("" if table.delimiter == "," else f", delimiter {table.delimiter!r}") + f", target {args.target!r}")
    return target_cells(table, args.target, "training")


def _encode_target(args: argparse.Namespace, table, y: np.ndarray) -> _Target:
    task, reason = infer_task(y) if args.task == "auto" else (args.task, "--task")
    if task == "regression":
        if y.dtype.kind in "US":
            raise ValueError(f"{args.data}: the target {args.target!r} holds text (such as {str(y[0])!r}); "
                             "regression needs numbers: use --task classification or another column")
        say(f"task: regression ({reason})")
        return _Target(task, None, y, table)
    classes_found, encoded = np.unique(y, return_inverse=True)
    classes = [json_label(c) for c in classes_found]
    if len(classes) < 2:
        raise ValueError(f"{args.data}: the target {args.target!r} has a single class "
                         f"({list_classes(classes)}); classification needs at least 2")
    say(f"task: classification ({reason}), {len(classes)} classes: {list_classes(classes)}")
    return _Target(task, classes, encoded.reshape(-1), table)


def _split_rows(rows: np.ndarray, labels: np.ndarray, fraction: float, seed: int, stratify: bool, what: str) -> tuple:
    try:
        kept, held = train_test_split(rows, labels, test_size=fraction, random_state=seed,
                                      stratify=labels if stratify else None)[:2]
    except ValueError as error:
        raise ValueError(f"cannot hold out {what} {fraction:g} of {rows.shape[0]} rows ({error}); use more rows "
                         f"or {what} 0") from None
    return np.sort(kept), np.sort(held)


def _hold_out(args: argparse.Namespace, table, target: _Target, roles: dict) -> tuple:
    """The schema fitted on the training rows, and the encoded training, validation and test rows."""
    classification = target.task == "classification"
    rows = np.arange(table.n_rows)
    test_rows = None
    if args.test_size > 0:
        rows, test_rows = _split_rows(rows, target.values, args.test_size, args.seed, classification, "--test-size")
    val_rows = None
    if args.validation_split > 0:
        rows, val_rows = _split_rows(rows, target.values[rows], args.validation_split, args.seed, classification,
                                     "--validation-split")
    schema, X_train = TableSchema.fit_encode(table.take(rows), roles)
    split = _Split(X_train, target.values[rows], None, None)
    if val_rows is not None:
        split.X_val, split.y_val = schema.encode(table.take(val_rows))[0], target.values[val_rows]
    if test_rows is not None:
        split.X_test, split.y_test = schema.encode(table.take(test_rows))[0], target.values[test_rows]
    elif args.test is not None:
        split.X_test, split.y_test = _test_file(args, target, schema)
    return schema, split


def _test_file(args: argparse.Namespace, target: _Target, schema: TableSchema) -> tuple:
    test = read_csv(args.test, args)
    require_column(test, args.target, "--target (in the --test file)")
    test, values = target_cells(test, args.target, "the test scores")
    X = encoded_inputs(schema, test)
    if target.classes is None:
        if values.dtype.kind != "f":
            raise ValueError(f"{args.test}: the target {args.target!r} holds text, but the task is regression")
        return X, values
    return X, encode_classes(values, target.classes, args.test)


def _optimizer(args: argparse.Namespace) -> SGD | Adam:
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    if args.optimizer == "adam":
        return Adam(lr=lr)
    return SGD(lr=lr, momentum=args.momentum)


def _build_model(args: argparse.Namespace, target: _Target, split: _Split, schema: TableSchema) -> Sequential:
    classification = target.task == "classification"
    n_outputs = len(target.classes) if target.classes is not None else 1
    layers = [Dense(units, activation=args.activation) for units in args.hidden]
    layers.append(Dense(n_outputs, activation="softmax" if classification else "identity"))
    model = Sequential(layers, input_dim=split.X_train.shape[1], dtype=args.dtype, seed=args.seed)
    optimizer = _optimizer(args)
    model.compile(loss="cross_entropy" if classification else "mse", optimizer=optimizer)
    model.preprocessing = schema.standardizer
    model.table = schema
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


def _report_scores(model: Sequential, target: _Target, split: _Split) -> dict:
    classification = target.task == "classification"

    def scores(X_part: np.ndarray, y_part: np.ndarray) -> dict:
        if classification:
            return model.evaluate(X_part, y_part)
        return regression_scores(y_part, model.predict(X_part)[:, 0])

    results = {"train": scores(split.X_train, split.y_train)}
    say(f"train:      {format_scores(results['train'])}")
    if split.X_val is not None and split.y_val is not None:
        results["validation"] = scores(split.X_val, split.y_val)
        say(f"validation: {format_scores(results['validation'])}")
    if split.X_test is not None and split.y_test is not None:
        if classification:
            outputs = model.predict(split.X_test)
            predicted = outputs.argmax(axis=1)
            results["test"] = classification_scores(split.y_test, predicted)
        else:
            results["test"] = regression_scores(split.y_test, model.predict(split.X_test)[:, 0])
            results["test"].pop("mse")
        say(f"test ({split.X_test.shape[0]} rows): {format_scores(results['test'])}")
        if classification and target.classes is not None and len(target.classes) <= 12:
            say(confusion_table(split.y_test, predicted, target.classes))
    return results
