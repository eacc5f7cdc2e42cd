"""fastmlp's forward pass written as standard ONNX operators.

A NodeWriter receives nodes and constants; ProtoWriter collects them for a stand-alone
model (export), and the skl2onnx converter has its own writer that feeds skl2onnx's
container. Everything here sees tensors by name only, so the same functions serve both.

Layer l:  Z[l] = Gemm(A[l-1], W[l], b[l])    A[l] = f_l(Z[l])
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

ELEMENT_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
                 np.dtype(np.int64): TensorProto.INT64, np.dtype(bool): TensorProto.BOOL}


def element_type(dtype) -> int:
    """ONNX element type of a NumPy dtype (str and object dtypes are STRING)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "USO":
        return TensorProto.STRING
    return ELEMENT_TYPES[dtype]


class NodeWriter:
    """Receives nodes and constants under names it makes unique."""

    def unique(self, hint: str) -> str:
        raise NotImplementedError

    def add_constant(self, name: str, array: np.ndarray) -> None:
        raise NotImplementedError

    def add_node(self, op_type: str, inputs: list, outputs: list, attributes: dict) -> None:
        raise NotImplementedError

    def constant(self, hint: str, array) -> str:
        name = self.unique(hint)
        self.add_constant(name, np.asarray(array))
        return name

    def node(self, op_type: str, inputs, hint: str | None = None, output: str | None = None, **attributes) -> str:
        """Add one node with one output; return the output's name (`output` when given)."""
        output = output or self.unique(hint or op_type.lower())
        self.add_node(op_type, list(inputs), [output], attributes)
        return output

    def cast(self, name: str, from_dtype, to_dtype, output: str | None = None) -> str:
        """`name` as to_dtype (an Identity when the dtypes agree and an output name is asked for)."""
        if np.dtype(from_dtype) == np.dtype(to_dtype):
            return name if output is None else self.node("Identity", [name], output=output)
        return self.node("Cast", [name], "cast", output, to=element_type(to_dtype))


class ProtoWriter(NodeWriter):
    """Collects NodeProtos and initializers for onnx.helper.make_graph."""

    def __init__(self, reserved=()):
        self.nodes: list = []
        self.initializers: list = []
        self._names = set(reserved)

    def unique(self, hint: str) -> str:
        name, count = hint, 1
        while name in self._names:
            count += 1
            name = f"{hint}_{count}"
        self._names.add(name)
        return name

    def add_constant(self, name: str, array: np.ndarray) -> None:
        if array.dtype.kind in "US":
            array = array.astype(object)
        self.initializers.append(numpy_helper.from_array(array, name))

    def add_node(self, op_type: str, inputs: list, outputs: list, attributes: dict) -> None:
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=self.unique(f"{op_type}_node"),
                                           **attributes))

    def graph_nodes(self) -> list:
        """The nodes, where an Identity only renames another node's single-use output: that node
        writes under the final name instead."""
        uses: dict = {}
        for node in self.nodes:
            for name in node.input:
                uses[name] = uses.get(name, 0) + 1
        producers = {output: node for node in self.nodes for output in node.output}
        kept = []
        for node in self.nodes:
            source = node.input[0] if node.op_type == "Identity" else None
            if source in producers and uses[source] == 1:
                producer = producers[source]
                producer.output[list(producer.output).index(source)] = node.output[0]
                continue
            kept.append(node)
        return kept


# ---------------------------------------------------------------------- the network
def write_standardizer(writer: NodeWriter, x: str, mean, scale) -> str:
    """(X − mean) / scale in float64, as Standardizer.transform computes it; x must be float64."""
    centred = writer.node("Sub", [x, writer.constant("standardizer_mean", np.asarray(mean, np.float64))],
                          "centred")
    return writer.node("Div", [centred, writer.constant("standardizer_scale", np.asarray(scale, np.float64))],
                       "standardized")


def write_activation(writer: NodeWriter, z: str, activation: str, negative_slope: float, dtype,
                     index: int) -> str:
    """A[l] = f(Z[l]) for every activation of fastmlp.layers.ACTIVATIONS (and exp, the Poisson loss's link)."""
    hint = f"A{index}"
    if activation == "identity":
        return z
    simple = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softplus": "Softplus", "exp": "Exp"}
    if activation == "softplus" and np.dtype(dtype) == np.float64:
        # onnxruntime has no float64 Softplus kernel: max(z, 0) + log(1 + exp(−|z|)), which never overflows
        tail = writer.node("Exp", [writer.node("Neg", [writer.node("Abs", [z], f"abs{index}")], f"minus_abs{index}")],
                           f"exp{index}")
        tail = writer.node("Log", [writer.node("Add", [writer.constant("one", np.ones((), dtype=dtype)), tail],
                                               f"one_plus{index}")], f"log{index}")
        return writer.node("Add", [writer.node("Relu", [z], f"relu{index}"), tail], hint)
    if activation in simple:
        return writer.node(simple[activation], [z], hint)
    if activation == "leaky_relu":
        if np.dtype(dtype) == np.float32 or float(np.float32(negative_slope)) == negative_slope:
            return writer.node("LeakyRelu", [z], hint, alpha=float(negative_slope))
        # ONNX attributes are float32: a float64 slope such as 0.2 is kept exact as a tensor.
        slope = writer.constant(f"slope{index}", np.asarray(negative_slope, dtype=dtype))
        positive = writer.node("Greater", [z, writer.constant("zero", np.zeros((), dtype=dtype))],
                               f"positive{index}")
        return writer.node("Where", [positive, z, writer.node("Mul", [z, slope], f"sloped{index}")], hint)
    if activation == "elu":
        if np.dtype(dtype) == np.float32:
            return writer.node("Elu", [z], hint, alpha=1.0)
        # onnxruntime has no float64 Elu kernel: exp(min(z, 0)) − 1 where z ≤ 0
        zero = writer.constant("zero", np.zeros((), dtype=dtype))
        below = writer.node("Exp", [writer.node("Min", [z, zero], f"nonpositive{index}")], f"exp{index}")
        below = writer.node("Sub", [below, writer.constant("one", np.ones((), dtype=dtype))], f"expm1_{index}")
        return writer.node("Where", [writer.node("Greater", [z, zero], f"positive{index}"), z, below], hint)
    if activation == "silu":
        return writer.node("Mul", [z, writer.node("Sigmoid", [z], f"sigmoid{index}")], hint)
    if activation == "softmax":
        return writer.node("Softmax", [z], hint, axis=-1)
    if activation == "step":
        zero = writer.constant("zero", np.zeros((), dtype=dtype))
        return writer.cast(writer.node("Greater", [z, zero], f"positive{index}"), bool, dtype)
    raise ValueError(f"activation {activation!r} has no ONNX form")


def write_layers(writer: NodeWriter, x: str, layers, dtype) -> str:
    """A[L] from A[0] = x for layers given as (W, b, activation, negative_slope), all in dtype."""
    a = x
    for index, (W, b, activation, negative_slope) in enumerate(layers):
        weights = writer.constant(f"W{index}", np.ascontiguousarray(W, dtype=dtype))
        bias = writer.constant(f"b{index}", np.ascontiguousarray(b, dtype=dtype))
        z = writer.node("Gemm", [a, weights, bias], f"Z{index}")
        a = write_activation(writer, z, activation, negative_slope, dtype, index)
    return a


# ---------------------------------------------------------------------- the heads
def label_table(classes: np.ndarray) -> np.ndarray:
    """classes_ as an ONNX-typed table: strings, int64 (integers and booleans) or float64."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "US" or (classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes)):
        return classes.astype(object)
    if classes.dtype.kind in "biu" or (classes.dtype.kind == "O" and all(isinstance(c, (bool, int, np.integer))
                                                                         for c in classes)):
        return classes.astype(np.int64)
    return classes.astype(np.float64)


def write_labels(writer: NodeWriter, positions: str, classes: np.ndarray, label: str) -> str:
    """classes[positions] under the name `label`; positions is an int64 tensor of shape (n,)."""
    return writer.node("Gather", [writer.constant("classes", label_table(classes)), positions], output=label,
                       axis=0)


def write_argmax(writer: NodeWriter, scores: str) -> str:
    """Position of the largest score of each row, the first on ties (as np.argmax)."""
    return writer.node("ArgMax", [scores], "argmax", axis=1, keepdims=0, select_last_index=0)


def write_above(writer: NodeWriter, column: str, threshold: float, dtype) -> str:
    """int64 (n,): 1 where the (n, 1) column is strictly above the threshold."""
    limit = writer.constant("threshold", np.asarray(threshold, dtype=dtype))
    above = writer.cast(writer.node("Greater", [column, limit], "above"), bool, np.int64)
    return writer.node("Reshape", [above, writer.constant("flat_shape", np.array([-1], np.int64))], "positions")


def write_two_columns(writer: NodeWriter, positive: str, negative_of: str, dtype) -> str:
    """[negative, positive] side by side, (n, 2); negative_of is "one_minus" or "minus"."""
    if negative_of == "one_minus":
        negative = writer.node("Sub", [writer.constant("one", np.ones((), dtype=dtype)), positive], "negative")
    else:
        negative = writer.node("Neg", [positive], "negative")
    return writer.node("Concat", [negative, positive], "two_columns", axis=1)


def write_row_normalised(writer: NodeWriter, values: str) -> str:
    """values / (row sums), as MLPClassifier.predict_proba makes rows sum to one."""
    axes = writer.constant("row_axes", np.array([1], np.int64))
    sums = writer.node("ReduceSum", [values, axes], "row_sums", keepdims=1)
    return writer.node("Div", [values, sums], "normalised")
