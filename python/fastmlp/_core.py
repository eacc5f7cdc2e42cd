"""The engine, as the best compiled variant this CPU can run.

The C++ engine is built several times (generic baseline, AVX2+FMA, AVX-512) so that one
build runs on any CPU of the architecture and still uses the wide instructions where they
exist. Set FASTMLP_ENGINE=generic|avx2|avx512|native to force a variant.
"""
from __future__ import annotations

import importlib
import os

from . import _engine_generic, _matrix_kernel

_PREFERENCE = ("native", "avx512", "avx2", "generic")

# The engine's public names (_core.pyi types each one; tests/python/test_core_stub.py checks both).
__all__ = [
    "ClipConfig", "CsrMatrix", "LayerSpec", "Network32", "Network64", "PassResult",
    "activate", "activation_derivative", "all_finite", "check_output_fits_loss",
    "activation_names", "hidden_activation_names", "activation_aliases",
    "loss_names", "classification_loss_names", "loss_aliases", "initializer_names", "initializer_aliases",
    "set_num_threads", "get_num_threads", "build_info", "cpu_features", "variant",
    "set_matrix_kernel", "get_matrix_kernel", "matrix_kernel_report",
]


def _load_variant():
    forced = os.environ.get("FASTMLP_ENGINE", "").strip().lower()
    if forced:
        if forced not in _PREFERENCE:
            raise ImportError(f"FASTMLP_ENGINE={forced!r} is not one of {', '.join(_PREFERENCE)}")
        return importlib.import_module(f"._engine_{forced}", __package__)
    supported = _engine_generic.cpu_features()
    for variant in _PREFERENCE:
        if variant not in ("generic", "native") and not supported.get(variant, False):
            continue
        try:
            return importlib.import_module(f"._engine_{variant}", __package__)
        except ModuleNotFoundError:
            continue  # not built on this platform; any other import failure is a real error
    return _engine_generic


_engine = _load_variant()

Network32 = _engine.Network32
Network64 = _engine.Network64
LayerSpec = _engine.LayerSpec
CsrMatrix = _engine.CsrMatrix
PassResult = _engine.PassResult
ClipConfig = _engine.ClipConfig
activate = _engine.activate
all_finite = _engine.all_finite
activation_derivative = _engine.activation_derivative
check_output_fits_loss = _engine.check_output_fits_loss
activation_names = _engine.activation_names
hidden_activation_names = _engine.hidden_activation_names
activation_aliases = _engine.activation_aliases
loss_names = _engine.loss_names
classification_loss_names = _engine.classification_loss_names
loss_aliases = _engine.loss_aliases
initializer_names = _engine.initializer_names
initializer_aliases = _engine.initializer_aliases
set_num_threads = _engine.set_num_threads
get_num_threads = _engine.get_num_threads
build_info = _engine.build_info
cpu_features = _engine.cpu_features
__version__ = _engine.__version__
variant = _engine.build_info()["variant"]
get_matrix_kernel = _engine.get_matrix_kernel
matrix_kernel_report = _engine.matrix_kernel_report


def set_matrix_kernel(kernel: str, library: str | os.PathLike[str] | None = None) -> None:
    _matrix_kernel.set_matrix_kernel(_engine, kernel, library)


_matrix_kernel.configure(_engine)
