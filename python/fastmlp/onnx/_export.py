"""export(): a fastmlp model as an onnx.ModelProto with skl2onnx's output names and shapes."""
from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import helper

from ..fileformat import path_as_text, write_atomically
from . import _graph, _table
from ._plan import ExportPlan, plan

DEFAULT_OPSET = 17
MIN_OPSET = 13  # ReduceSum's axes as an input and Softmax over one axis date from opset 13
MIN_IR_VERSION = 8
INPUT_NAME = "X"
BATCH = "N"
METADATA_PREFIX = "fastmlp."


def output_names(export_plan: ExportPlan) -> list:
    if export_plan.head == "output":
        return ["output"] if export_plan.classes is None else ["output", "label"]
    if export_plan.head == "regression":
        return ["variable"]
    return ["label", "probabilities"]


def write_model(writer: _graph.NodeWriter, export_plan: ExportPlan, x: str, x_dtype, out_dtype,
                outputs: list) -> None:
    """All nodes from the input tensor `x` (of x_dtype) to the named outputs (floats in out_dtype)."""
    compute = export_plan.compute_dtype
    if export_plan.standardizer is not None:
        # Standardizer.transform runs in float64 before the model's dtype, so the graph does too.
        standardized = _graph.write_standardizer(writer, writer.cast(x, x_dtype, np.float64),
                                                 *export_plan.standardizer)
        a0 = writer.cast(standardized, np.float64, compute)
    else:
        # predict converts X to the model's dtype first (a float32 linear model then scores in float64).
        a0 = writer.cast(writer.cast(x, x_dtype, export_plan.input_dtype), export_plan.input_dtype, compute)
    last = _graph.write_layers(writer, a0, export_plan.layers, compute)
    if export_plan.head in ("output", "regression"):
        writer.cast(last, compute, out_dtype, output=outputs[0])
        if export_plan.classes is not None:
            _graph.write_labels(writer, _output_positions(writer, export_plan, last), export_plan.classes, outputs[1])
        return
    label, probabilities = outputs
    if export_plan.head == "activations":
        positions, values = _activations_head(writer, export_plan, last)
    else:
        positions, values = _scores_head(writer, export_plan, last)
    if export_plan.multilabel:
        writer.node("Identity", [positions], output=label)
    else:
        _graph.write_labels(writer, positions, export_plan.classes, label)
    writer.cast(values, compute, out_dtype, output=probabilities)


def _output_positions(writer, export_plan: ExportPlan, a: str) -> str:
    """A Sequential classifier's class positions, decided as the CLI's predict decides them."""
    if export_plan.n_outputs > 1:
        return _graph.write_argmax(writer, a)
    threshold = 0.0 if export_plan.layers[-1][2] == "identity" else 0.5
    return _graph.write_above(writer, a, threshold, export_plan.compute_dtype)


def _activations_head(writer, export_plan: ExportPlan, a: str):
    """MLPClassifier: label positions and predict_proba from the output layer's activations."""
    dtype = export_plan.compute_dtype
    if export_plan.multilabel:
        limit = writer.constant("threshold", np.asarray(0.5, dtype=dtype))
        indicator = writer.cast(writer.node("Greater", [a, limit], "above"), bool, np.int64)
        return indicator, a
    if export_plan.n_outputs == 1:
        return _graph.write_above(writer, a, 0.5, dtype), _graph.write_two_columns(writer, a, "one_minus", dtype)
    return _graph.write_argmax(writer, a), _graph.write_row_normalised(writer, a)


def _scores_head(writer, export_plan: ExportPlan, z: str):
    """Linear classifiers: label positions from z (its sign, or the largest z) and their probabilities.

    LogisticRegression gives predict_proba. Perceptron and LinearSVM have no predict_proba;
    as skl2onnx does for LinearSVC, `probabilities` then holds decision_function: (n, 1) for
    two classes, (n, n_classes) for more.
    """
    dtype = export_plan.compute_dtype
    binary = export_plan.n_outputs == 1
    positions = _graph.write_above(writer, z, 0.0, dtype) if binary else _graph.write_argmax(writer, z)
    if export_plan.probabilities == "scores":
        return positions, z
    if binary:
        return positions, _graph.write_two_columns(writer, writer.node("Sigmoid", [z], "positive"), "one_minus",
                                                   dtype)
    return positions, writer.node("Softmax", [z], "softmax", axis=-1)


def _output_infos(export_plan: ExportPlan, names: list, out_dtype) -> list:
    float_type = _graph.element_type(out_dtype)
    if export_plan.head in ("output", "regression"):
        infos = [helper.make_tensor_value_info(names[0], float_type, [BATCH, export_plan.n_outputs])]
        if export_plan.classes is not None:
            label_type = _graph.element_type(_graph.label_table(export_plan.classes).dtype)
            infos.append(helper.make_tensor_value_info(names[1], label_type, [BATCH]))
        return infos
    if export_plan.multilabel:
        label = helper.make_tensor_value_info(names[0], onnx.TensorProto.INT64, [BATCH, export_plan.n_outputs])
    else:
        label_type = _graph.element_type(_graph.label_table(export_plan.classes).dtype)
        label = helper.make_tensor_value_info(names[0], label_type, [BATCH])
    probabilities = helper.make_tensor_value_info(names[1], float_type, [BATCH, export_plan.n_probability_columns])
    return [label, probabilities]


def _metadata(export_plan: ExportPlan, opset: int) -> dict:
    from .. import __version__

    entries = {"kind": export_plan.kind, "dtype": export_plan.input_dtype.name,
               "n_features": str(export_plan.n_features), "layers": export_plan.metadata["layers"],
               "outputs": ", ".join(output_names(export_plan)), "opset": str(opset),
               "preprocessing": ("table, " if export_plan.table else "")
               + ("standardizer" if export_plan.standardizer is not None else "none"),
               "library_version": __version__}
    if export_plan.classes is not None:
        entries["classes"] = json.dumps(export_plan.classes.tolist())
        entries["multilabel"] = json.dumps(export_plan.multilabel)
    return {METADATA_PREFIX + key: value for key, value in entries.items()}


def _check_opset(opset) -> int:
    latest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or not MIN_OPSET <= opset <= latest:
        raise ValueError(f"opset must be an integer from {MIN_OPSET} to {latest} (the installed onnx package's "
                         f"newest), got {opset!r}")
    return int(opset)


def export(model, path=None, *, opset: int = DEFAULT_OPSET):
    """The model as an ONNX graph (an onnx.ModelProto), also written to `path` when given.

    Input ``X`` (n, n_features) in the model's dtype, with a dynamic batch dimension n.
    Outputs, named as skl2onnx names them (zipmap=False):

    - Sequential: ``output`` (n, n_outputs), what ``predict`` returns; a classifier whose
      metadata names its classes (a model from ``fastmlp train``) also gives ``label`` (n,);
    - MLPRegressor: ``variable`` (n, n_outputs), also for several outputs;
    - classifiers: ``label`` (n,) holding classes_ (strings too; (n, n_labels) 0/1 for a
      multi-label MLPClassifier) and ``probabilities`` (n, n_classes), what ``predict_proba``
      returns. Perceptron and LinearSVM have no predict_proba: as skl2onnx does for
      LinearSVC, ``probabilities`` holds decision_function, (n, 1) for two classes.

    A Sequential's preprocessing (the CLI's stored standardiser) runs inside the graph. A model
    from ``fastmlp train`` (a TableSchema) takes one input per CSV column instead of X, named after
    the column, shape (n, 1): double for numeric columns (NaN where missing), string for
    categorical ones (missing as "" or NA, ...); imputation and one-hot encoding run in the graph.
    opset defaults to 17 (IR version 8), which onnxruntime releases of the last years load.
    """
    opset = _check_opset(opset)
    export_plan = plan(model)
    names = output_names(export_plan)
    out_dtype = export_plan.input_dtype
    if export_plan.table and not _table.uses_ml_domain(export_plan.table):
        writer = _graph.ProtoWriter(reserved=[INPUT_NAME, *names])
        encoded = _table.write_numeric_table(writer, export_plan.table, INPUT_NAME, export_plan.input_dtype)
        write_model(writer, export_plan, encoded, np.float64, out_dtype, names)
        inputs = [helper.make_tensor_value_info(INPUT_NAME, _graph.element_type(export_plan.input_dtype),
                                                [BATCH, len(export_plan.table)])]
    elif export_plan.table:
        columns = [encoding.name for encoding in export_plan.table]
        clashes = [name for name in columns if name in names]
        if clashes:
            raise ValueError(f"column(s) {', '.join(map(repr, clashes))} would share a name with the graph's "
                             f"outputs ({', '.join(names)}); rename the column(s) and train again")
        writer = _graph.ProtoWriter(reserved=[*columns, *names])
        write_model(writer, export_plan, _table.write_table(writer, export_plan.table), np.float64, out_dtype, names)
        inputs = _table.input_infos(export_plan.table, BATCH)
    else:
        writer = _graph.ProtoWriter(reserved=[INPUT_NAME, *names])
        write_model(writer, export_plan, INPUT_NAME, export_plan.input_dtype, out_dtype, names)
        inputs = [helper.make_tensor_value_info(INPUT_NAME, _graph.element_type(export_plan.input_dtype),
                                                [BATCH, export_plan.n_features])]
    graph = helper.make_graph(writer.graph_nodes(), f"fastmlp_{export_plan.kind}", inputs,
                              _output_infos(export_plan, names, out_dtype), initializer=writer.initializers)
    operator_sets = [helper.make_opsetid("", opset)]
    if export_plan.table and _table.uses_ml_domain(export_plan.table):
        operator_sets.append(helper.make_opsetid(_table.ML_DOMAIN, _table.ML_OPSET))
    ir_version = max(MIN_IR_VERSION, helper.find_min_ir_version_for(operator_sets))
    from .. import __version__

    proto = helper.make_model(graph, opset_imports=operator_sets, ir_version=ir_version,
                              producer_name="fastmlp", producer_version=__version__,
                              doc_string=f"fastmlp {export_plan.kind}: {export_plan.metadata['layers']}")
    helper.set_model_props(proto, _metadata(export_plan, opset))
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        # the model files' writer: a temporary file renamed over the target, so a failed write keeps the old file
        write_atomically(path_as_text(path), proto.SerializeToString())
    return proto
