"""describe(): what an exported .onnx file holds, in plain lines (for `fastmlp info`)."""
from __future__ import annotations

import json
import os

import onnx
from google.protobuf.message import DecodeError

from ._export import METADATA_PREFIX


def _load(source):
    if isinstance(source, onnx.ModelProto):
        return source
    path = os.fspath(source)
    try:
        with open(path, "rb") as stream:
            data = stream.read()
        proto = onnx.ModelProto()
        proto.ParseFromString(data)
    except (DecodeError, RuntimeError) as error:
        raise ValueError(f"{path}: not an ONNX model file ({error})") from None
    if not proto.graph.node and not proto.graph.input:
        raise ValueError(f"{path}: not an ONNX model file (no graph)")
    return proto


def _shape(value_info) -> str:
    """"X float32 (N, 4)"; other kinds of values (skl2onnx's ZipMap gives a sequence of maps) by kind."""
    kind = value_info.type.WhichOneof("value")
    if kind != "tensor_type":
        return f"{value_info.name} {(kind or 'unknown').replace('_type', '')}"
    tensor = value_info.type.tensor_type
    dims = [dim.dim_param or str(dim.dim_value) if (dim.dim_param or dim.HasField("dim_value")) else "?"
            for dim in tensor.shape.dim]
    try:
        element = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        name = "string" if element.kind == "O" else element.name
    except KeyError:
        name = f"element type {tensor.elem_type}"
    return f"{value_info.name} {name} ({', '.join(dims)})"


def describe(source) -> str:
    """Lines saying what an ONNX model (a path or a ModelProto) holds: for a file fastmlp exported,
    the model kind, layers, dtype, classes and preprocessing; for any file, inputs, outputs, opset."""
    proto = _load(source)
    props = {entry.key[len(METADATA_PREFIX):]: entry.value for entry in proto.metadata_props
             if entry.key.startswith(METADATA_PREFIX)}
    opsets = ", ".join(f"{entry.domain or 'ai.onnx'} {entry.version}" for entry in proto.opset_import)
    lines = []
    if proto.producer_name == "fastmlp" and "kind" in props:
        lines.append(f"ONNX export of a fastmlp {props['kind']} (fastmlp {proto.producer_version})")
        lines.append(f"architecture: {props.get('layers', '?')}")
        lines.append(f"dtype: {props.get('dtype', '?')}")
        preprocessing = props.get("preprocessing", "")
        if preprocessing.startswith("table"):
            lines.append("preprocessing: imputes missing cells and one-hot encodes categories of the CSV columns "
                         "inside the graph (the model's table schema)")
        if preprocessing.endswith("standardizer"):
            lines.append(f"preprocessing: standardises the {props.get('n_features', '?')} input feature(s) inside "
                         "the graph (stored mean and scale)")
        if "classes" in props:
            classes = json.loads(props["classes"])
            kind = "labels (multi-label)" if json.loads(props.get("multilabel", "false")) else "classes"
            lines.append(f"{kind}: {len(classes)}: {', '.join(map(str, classes[:20]))}"
                         + (" ..." if len(classes) > 20 else ""))
    else:
        producer = proto.producer_name or "an unknown producer"
        lines.append(f"ONNX model from {producer} {proto.producer_version}".rstrip()
                     + " (not exported by fastmlp)")
    lines.append(f"IR version {proto.ir_version}; opset {opsets}")
    lines.append("inputs: " + "; ".join(_shape(value) for value in proto.graph.input))
    lines.append("outputs: " + "; ".join(_shape(value) for value in proto.graph.output))
    lines.append(f"nodes: {len(proto.graph.node)} ({', '.join(sorted({n.op_type for n in proto.graph.node}))})")
    return "\n".join(lines)
