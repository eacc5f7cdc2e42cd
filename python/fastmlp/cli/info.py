"""fastmlp info MODEL.fmlp: architecture, parameters, metadata and the versions that wrote and read it."""
from __future__ import annotations

import argparse
import os
from typing import Callable

import numpy as np

from .. import _core, _load_with_description as _read_model
from ..model import Sequential
from .common import say
from .options import common_options
from .tables import format_scores, json_label, list_names

_DESCRIBED_METADATA = ("task", "target", "classes", "features", "training", "columns")
# What a file holds may be anything: each value shown is cut to this, lists to their first _LISTED.
_MAX_VALUE_CHARS = 200
_LISTED = 20


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
    payload, model = _read_model(args.model)
    description = payload.description
    size = os.path.getsize(args.model)
    say(f"{args.model}: {size:,} bytes, fastmlp model file format {description['format_version']}, "
        f"written by fastmlp {_bounded(description['library_version'])} (this is fastmlp {_core.__version__})")
    say(f"kind: {description['kind']}")
    say("content digest: " + (f"sha256 {payload.stored_digest} (verified)" if payload.stored_digest else
                              "none (written before digests; checked by its golden rows only)"))
    if not isinstance(model, Sequential):
        _describe_estimator(model)
        return 0
    say(model.summary())
    say(f"parameters: {model.count_params():,}  dtype: {np.dtype(model.dtype).name}  loss: {model.loss}")
    if model.preprocessing is not None:
        say(f"preprocessing: standardises the {model.input_dim} input feature(s) (stored mean and scale)")
    if model.table is not None:
        _describe_list("CSV columns", model.table.encodings, _encoding_text)
    _describe_metadata(model.metadata)
    return 0


def _encoding_text(encoding) -> str:
    if encoding.kind == "numeric":
        return (f"{_bounded(encoding.name)} (numeric, missing -> {encoding.fill:.6g}"
                + (" with an indicator)" if encoding.indicator else ")"))
    return (f"{_bounded(encoding.name)} (categorical, {len(encoding.categories)} categories, "
            f"missing -> {_bounded(repr(encoding.fill))})")


def _bounded(value: object, limit: int = _MAX_VALUE_CHARS) -> str:
    """A value read from a file as text of bounded length: a file's content may be anything."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def _label(value: object) -> str:
    is_number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if isinstance(value, (str, np.str_)) or is_number:
        return _bounded(repr(json_label(value)))
    return _bounded(value)


def _describe_list(title: str, values: object, describe: Callable[[object], str]) -> None:
    if isinstance(values, (list, tuple, np.ndarray)):
        say(f"{title} ({len(values)}): {list_names([describe(value) for value in values[:_LISTED]], _LISTED)}"
            + (f", ... ({len(values)} in all)" if len(values) > _LISTED else ""))
    else:
        say(f"{title}: {_bounded(values)}")


def _describe_estimator(estimator: object) -> None:
    say(_bounded(repr(estimator), 2000))
    network = getattr(estimator, "model_", None)  # the network inside an estimator
    if isinstance(network, Sequential):
        say(network.summary())
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        _describe_list("classes", classes, _label)


def _describe_metadata(meta: dict) -> None:
    if not meta:
        say("metadata: none")
        return
    if "task" in meta:
        say(f"task: {_bounded(meta['task'])}" + (f", target {_bounded(repr(meta['target']))}"
                                                 if meta.get("target") else ""))
    if meta.get("classes") is not None:
        _describe_list("classes", meta["classes"], _label)
    if meta.get("features") is not None:
        _describe_list("features", meta["features"], lambda name: _bounded(str(name)))
    training = meta.get("training")
    if isinstance(training, dict):
        say(f"trained on {_bounded(training.get('data'))}: {_bounded(training.get('train_rows'))} rows for "
            f"training, {_bounded(training.get('validation_rows'))} for validation, "
            f"{_bounded(training.get('epochs'))} epoch(s)")
        results = training.get("results")
        for part, values in (results.items() if isinstance(results, dict) else ()):
            if isinstance(values, dict):
                say(f"  {_bounded(part)}: {_bounded(format_scores(values), 2000)}")
    for key, value in meta.items():
        if key not in _DESCRIBED_METADATA or (key == "training" and not isinstance(value, dict)):
            say(f"{_bounded(key)}: {_bounded(value)}")
