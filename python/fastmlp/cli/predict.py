"""fastmlp predict MODEL.fmlp DATA.csv [--out PREDS.csv]: predictions (and class probabilities) as CSV."""
from __future__ import annotations

import argparse
import csv
import sys

from .common import check_writable_target, load_sequential, say, set_threads
from .data import ModelOutputs, read_model_inputs
from .options import common_options
from .tables import label_text, number_texts
from .tabular import add_reading_options


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "predict", parents=[common_options()], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write predictions for a CSV file",
        description="Apply a model to DATA.csv and write a CSV with a 'prediction' column, plus one p_<class> "
                    "probability column per class for classifiers. DATA.csv needs the model's feature columns, "
                    "in any order; a target column is ignored.",
        epilog="examples:\n  fastmlp predict model.fmlp new.csv\n  fastmlp predict model.fmlp new.csv --out p.csv\n")
    parser.add_argument("model", metavar="MODEL.fmlp")
    parser.add_argument("data", metavar="DATA.csv")
    parser.add_argument("--out", default=None, metavar="PREDS.csv", help="default: standard output")
    parser.add_argument("--target", default=None, metavar="COL",
                        help="target column to ignore, for models that do not record it")
    parser.add_argument("--id", default=None, metavar="COL",
                        help="a column to copy into the predictions (default: the id column of training, if present)")
    add_reading_options(parser)


def command_predict(args: argparse.Namespace) -> int:
    set_threads(args)
    model = load_sequential(args.model)
    outputs = ModelOutputs(model, args.model)
    if args.out is not None:
        check_writable_target(args.out, "the predictions")
    X, _, id_name, ids = read_model_inputs(args.data, model, target_required=False, target_override=args.target,
                                           args=args)
    predicted, probabilities = outputs.predict(X)
    labels = outputs.texts(predicted)
    header = ([] if id_name is None else [id_name]) + ["prediction"]
    columns = ([] if ids is None else [ids]) + [labels]
    if probabilities is not None:
        header += [f"p_{label_text(c)}" for c in outputs.classes]
        columns += [number_texts(column) for column in probabilities.T]
    rows = zip(*columns)
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
            say(f"wrote {len(labels)} prediction(s) to {args.out}")
    return 0
