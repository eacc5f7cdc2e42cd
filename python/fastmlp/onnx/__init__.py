"""ONNX export: fastmlp models served by onnxruntime from C, C++, C#, Java, JavaScript or Python.

    import fastmlp.onnx
    fastmlp.onnx.export(model, "model.onnx")     # returns the onnx.ModelProto

Importing this module also registers fastmlp's estimators with skl2onnx when it is
installed, so that ``skl2onnx.to_onnx`` converts pipelines that end in one of them.
Needs the ``onnx`` extra: ``pip install 'fastmlp[onnx]'``.
"""
try:
    import onnx  # noqa: F401
except ImportError as error:
    raise ImportError("fastmlp.onnx needs the onnx package, which is not installed; install the extra with "
                      "pip install 'fastmlp[onnx]' (onnx, onnxruntime, skl2onnx)") from error

from ._export import DEFAULT_OPSET, export
from ._info import describe
from ._skl2onnx import register_skl2onnx

__all__ = ["DEFAULT_OPSET", "describe", "export", "register_skl2onnx"]

register_skl2onnx(required=False)
