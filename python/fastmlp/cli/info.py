"""fastmlp info MODEL.fmlp: architecture, parameters, metadata and the versions that wrote and read it."""
from __future__ import annotations

import argparse
import os

import numpy as np

from .. import _core, fileformat, load
from ..model import Sequential
from .common import say
from .options import common_options
from .tables import format_scores, list_classes, list_names

_DESCRIBED_METADATA = ("task", "target", "classes", "features", "training")


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "info", parents=[common_options(with_threads=False)], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="describe a model file",
        description="Print a model's architecture, parameter count, dtype, loss, metadata (task, target, classes, "
                    "features) and the versions that wrote and read it. For an .onnx file (from fastmlp export): "
                    "the model it holds, its inputs and outputs.",
        epilog="examples:\n  fastmlp info model.fmlp\n  fastmlp info model.onnx\n")
    parser.add_argument("model", metavar="MODEL.fmlp")


def command_info(args: argparse.Namespace) -> int:
    if args.model.lower().endswith(".onnx"):
        from .. import onnx as fastmlp_onnx  # the onnx extra: an ImportError that names it when it is missing

        say(f"{args.model}: {os.path.getsize(args.model):,} bytes")
        say(fastmlp_onnx.describe(args.model))
        return 0
    description, _ = fileformat.load(args.model)
    model = load(args.model)
    size = os.path.getsize(args.model)
    say(f"{args.model}: {size:,} bytes, fastmlp model file format {description['format_version']}, "
        f"written by fastmlp {description['library_version']} (this is fastmlp {_core.__version__})")
    say(f"kind: {description['kind']}")
    if not isinstance(model, Sequential):
        _describe_estimator(model)
        return 0
    say(model.summary())
    say(f"parameters: {model.count_params():,}  dtype: {np.dtype(model.dtype).name}  loss: {model.loss}")
    if model.preprocessing is not None:
        say(f"preprocessing: standardises the {model.input_dim} input feature(s) (stored mean and scale)")
    _describe_metadata(model.metadata)
    return 0


def _describe_estimator(estimator: object) -> None:
    say(repr(estimator))
    network = getattr(estimator, "model_", None)  # the network inside an estimator
    if isinstance(network, Sequential):
        say(network.summary())
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        say(f"classes ({len(classes)}): {list_classes(classes, 20)}")


def _describe_metadata(meta: dict) -> None:
    if not meta:
        say("metadata: none")
        return
    if "task" in meta:
        say(f"task: {meta['task']}" + (f", target {meta['target']!r}" if meta.get("target") else ""))
    if meta.get("classes") is not None:
        say(f"classes ({len(meta['classes'])}): {list_classes(meta['classes'], 20)}")
    if meta.get("features") is not None:
        say(f"features ({len(meta['features'])}): {list_names(meta['features'], 20)}")
    training = meta.get("training")
    if isinstance(training, dict):
        say(f"trained on {training.get('data')}: {training.get('train_rows')} rows for training, "
            f"{training.get('validation_rows')} for validation, {training.get('epochs')} epoch(s)")
        for part, values in (training.get("results") or {}).items():
            if isinstance(values, dict):
                say(f"  {part}: {format_scores(values)}")
    for key, value in meta.items():
        if key not in _DESCRIBED_METADATA:
            say(f"{key}: {value}")
