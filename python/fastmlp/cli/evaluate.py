"""fastmlp evaluate MODEL.fmlp DATA.csv: loss and accuracy (with a confusion table), or MSE, RMSE, MAE and R2."""
from __future__ import annotations

import argparse

import numpy as np

from .common import load_sequential, say, set_threads
from .data import ModelOutputs, classification_scores, encode_classes, read_model_inputs, regression_scores
from .options import common_options
from .tables import SCORE_NAMES, confusion_table, format_score
from .tabular import add_reading_options

# Larger confusion tables no longer fit a terminal's width.
MAX_CONFUSION_CLASSES = 12


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "evaluate", parents=[common_options()], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="score a model on a CSV file that has the target column",
        description="Print the loss and accuracy (with a confusion matrix) of a classifier, or the MSE, RMSE, "
                    "MAE and R2 of a regressor, on DATA.csv, which must contain the target column.",
        epilog="example:\n  fastmlp evaluate model.fmlp test.csv\n")
    parser.add_argument("model", metavar="MODEL.fmlp")
    parser.add_argument("data", metavar="DATA.csv")
    parser.add_argument("--target", default=None, metavar="COL",
                        help="target column, for models that do not record it")
    add_reading_options(parser)


def command_evaluate(args: argparse.Namespace) -> int:
    set_threads(args)
    model = load_sequential(args.model)
    outputs = ModelOutputs(model, args.model)
    X, y, _, _ = read_model_inputs(args.data, model, target_required=True, target_override=args.target, args=args)
    target = args.target or model.metadata.get("target")
    say(f"{args.data}: {X.shape[0]} rows, target {target!r}")
    if outputs.classifier:
        true_index = encode_classes(y, outputs.classes, args.data)
        scores = model.evaluate(X, true_index)
        predicted_index, _ = outputs.predict(X)
        correct = int(np.sum(predicted_index == true_index))
        say(f"loss ({model.loss}): {scores['loss']:.6g}")
        say(f"accuracy: {correct / len(true_index):.4f} ({correct} of {len(true_index)})")
        say(f"macro-F1: {classification_scores(true_index, predicted_index)['macro_f1']:.4f}")
        if len(outputs.classes) <= MAX_CONFUSION_CLASSES:
            say(confusion_table(true_index, predicted_index, outputs.classes))
    else:
        if y.dtype.kind in "US":
            raise ValueError(f"{args.data}: the target {target!r} holds text, but the model is a regressor")
        scores = regression_scores(y, model.predict(X)[:, 0])
        for key, value in scores.items():
            say(f"{SCORE_NAMES[key] + ':':6s}{format_score(key, value)}")
    return 0
