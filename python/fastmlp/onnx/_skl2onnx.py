"""fastmlp's estimators registered with skl2onnx, so that skl2onnx.to_onnx converts pipelines
that end in (or contain) one of them.

skl2onnx's own parser declares the outputs (label and probabilities for classifiers, with
its ZipMap unless zipmap=False; variable for regressors); the shape calculator gives their
types and shapes, and the converter writes the same nodes as export() into skl2onnx's
container, casting from and to the input's float type where it differs from the model's.
"""
from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from . import _graph
from ._export import MIN_OPSET, write_model
from ._plan import ESTIMATOR_KINDS, plan_estimator

_registered = False


class _ContainerWriter(_graph.NodeWriter):
    """Nodes and initializers into skl2onnx's ModelComponentContainer, named by its scope."""

    def __init__(self, scope, container):
        self.scope = scope
        self.container = container

    def unique(self, hint: str) -> str:
        return self.scope.get_unique_variable_name(hint)

    def add_constant(self, name: str, array: np.ndarray) -> None:
        if array.dtype.kind in "USO":
            content = [str(value).encode("utf-8") for value in array.ravel()]
        else:
            content = numpy_helper.from_array(array)  # raw bytes: exact and fast for large W
        self.container.add_initializer(name, _graph.element_type(array.dtype), list(array.shape), content)

    def add_node(self, op_type: str, inputs: list, outputs: list, attributes: dict) -> None:
        self.container.add_node(op_type, inputs, outputs, name=self.scope.get_unique_operator_name(op_type),
                                **attributes)


def _float_dtype(variable_type):
    from skl2onnx.common.data_types import DoubleTensorType

    return np.dtype(np.float64) if isinstance(variable_type, DoubleTensorType) else np.dtype(np.float32)


def _tensor_type(dtype):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    return DoubleTensorType if np.dtype(dtype) == np.float64 else FloatTensorType


def calculate_shapes(operator) -> None:
    """Output types and shapes: label (N,) or (N, n_labels), probabilities (N, columns); variable (N, n_outputs)."""
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType
    from skl2onnx.common.utils import check_input_and_output_numbers

    export_plan = plan_estimator(operator.raw_operator)
    n = operator.inputs[0].get_first_dimension()
    float_type = _tensor_type(_float_dtype(operator.inputs[0].type))
    if not export_plan.is_classifier:
        check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
        operator.outputs[0].type = float_type([n, export_plan.n_outputs])
        return
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    if export_plan.multilabel:
        operator.outputs[0].type = Int64TensorType([n, export_plan.n_outputs])
    else:
        table = _graph.label_table(export_plan.classes)
        if table.dtype.kind == "f":
            raise ValueError("skl2onnx takes integer or string class labels; these classes are floats: "
                             f"{export_plan.classes.tolist()[:5]}")
        operator.outputs[0].type = (StringTensorType if table.dtype.kind == "O" else Int64TensorType)([n])
    operator.outputs[1].type = float_type([n, export_plan.n_probability_columns])


def convert(scope, operator, container) -> None:
    if container.target_opset < MIN_OPSET:
        raise ValueError(f"fastmlp's converters need target_opset >= {MIN_OPSET}, got {container.target_opset}")
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    export_plan = plan_estimator(operator.raw_operator)
    writer = _ContainerWriter(scope, container)
    x = operator.inputs[0].full_name
    x_dtype = _float_dtype(operator.inputs[0].type)
    if not isinstance(operator.inputs[0].type, (FloatTensorType, DoubleTensorType)):
        x = writer.node("Cast", [x], "float_input", to=_graph.element_type(x_dtype))  # integer or boolean X
    write_model(writer, export_plan, x, x_dtype, x_dtype, [variable.full_name for variable in operator.outputs])


def register_skl2onnx(required: bool = True) -> bool:
    """Register fastmlp's estimators with skl2onnx (update_registered_converter); True when done.

    Called when fastmlp.onnx is imported. Without skl2onnx installed it raises ImportError
    naming the extra, or returns False when required=False.
    """
    global _registered
    if _registered:
        return True
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        if not required:
            return False
        raise ImportError("registering fastmlp's estimators with skl2onnx needs skl2onnx: "
                          "pip install 'fastmlp[onnx]'") from error
    from .. import estimators

    for kind in ESTIMATOR_KINDS:
        estimator_class = getattr(estimators, kind)
        # nocl (ZipMap keyed by class positions) would disagree with our label output: not offered
        options = {"zipmap": [True, False, "columns"], "nocl": [False]} if kind != "MLPRegressor" else None
        update_registered_converter(estimator_class, f"Fastmlp{kind}", calculate_shapes, convert,
                                    overwrite=True, options=options)
    _registered = True
    return True
