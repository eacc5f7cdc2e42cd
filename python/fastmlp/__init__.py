"""fastmlp: dense feed-forward neural networks, from a single neuron to deep MLPs.

The numeric work runs in a C++17/Eigen engine (``fastmlp._core``); this package holds the
models, the training loop and callbacks, datasets, model files, plots and the CLI.
"""
from __future__ import annotations

import os
from typing import Any

from . import _core, datasets, fileformat, losses, schedules, serialization
from .callbacks import Callback, CSVLogger, EarlyStopping, History, LambdaCallback, ModelCheckpoint
from .errors import DivergenceError, FormatError
from .layers import Dense, Dropout, LayerCache, LayerGradients
from .model import Sequential
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from .schedules import LearningRateScheduler, ReduceLROnPlateau

__version__: str = _core.__version__


def set_num_threads(n: int) -> None:
    """Use n threads for the engine's matrix products (0 = all cores); process-wide."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"number of threads must be an integer, got {n!r}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Threads the engine's matrix products use."""
    return int(_core.get_num_threads())


def set_matrix_kernel(kernel: str, library: str | os.PathLike[str] | None = None) -> None:
    """Which code computes large training products, process-wide: "auto" (the default: OpenBLAS
    where it measured faster than Eigen on this machine), "eigen" or "blas".

    The two round differently, so a run is reproducible bit for bit with the same kernel (at any
    thread count). `library` loads another CBLAS library (OpenBLAS) instead of scipy-openblas32's;
    one library per process. Inference keeps its own row-invariant kernel either way.
    """
    _core.set_matrix_kernel(kernel, library)


def matrix_kernel_info() -> dict[str, Any]:
    """What large training products run on, and why: {"setting", "kernel", "reason", "library",
    "library_description", "blas_speedup"} (the automatic choice is made now if still open)."""
    info = dict(_core.matrix_kernel_report())
    info["setting"] = _core.get_matrix_kernel()
    return info


_ESTIMATORS = ("Perceptron", "LogisticRegression", "LinearSVM", "MLPClassifier", "MLPRegressor")


def load(path: str | os.PathLike[str]) -> Any:
    """Read a .fmlp file and return what was saved (a Sequential or an estimator).

    Nothing in the file is executed; every shape, dtype and value is checked against the
    description, the stored golden prediction is recomputed and the content digest confirmed.
    Raises fm.FormatError for a file that is not a valid fastmlp model.
    """
    return _load_with_description(path)[1]


def _load_with_description(path: str | os.PathLike[str]) -> tuple[fileformat.Payload, Any]:
    """(the checked payload, the model) of a .fmlp file, from one reading of it."""
    payload = fileformat.read_payload(path)
    kind = payload.description["kind"]
    if kind in _ESTIMATORS and not serialization.is_registered(kind):
        # Only an estimator file needs the estimators, and they need scikit-learn (the `sklearn`
        # extra): imported here, so that Sequential files load without it. The ImportError of a
        # missing extra names it.
        from . import estimators  # noqa: F401  (registers the estimator kinds)
    return payload, serialization.model_from_payload(payload, f"model file {str(path)!r}")


_INSPECTION = ("gradient_check", "explain_step", "diagnose", "Diagnosis", "GradientCheckResult")


def __getattr__(name: str) -> Any:
    # Loaded on first use: the estimators need scikit-learn and plot needs matplotlib, and
    # `import fastmlp` must work without either.
    if name in _ESTIMATORS:
        from . import estimators
        return getattr(estimators, name)
    if name in _INSPECTION:
        from . import inspection
        return getattr(inspection, name)
    if name in ("plot", "onnx"):  # onnx needs the onnx extra
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'fastmlp' has no attribute {name!r}")


__all__ = [*_ESTIMATORS, *_INSPECTION, "plot",

    "Adam", "AdamW", "CSVLogger", "Callback", "Dense", "DivergenceError", "Dropout", "EarlyStopping", "FormatError",
    "History",
    "LambdaCallback", "LayerCache", "LayerGradients", "LearningRateScheduler", "ModelCheckpoint", "Optimizer",
    "RMSprop", "ReduceLROnPlateau", "SGD", "Sequential", "datasets", "losses", "schedules",
    "get_num_threads", "load", "matrix_kernel_info", "set_matrix_kernel", "set_num_threads", "__version__",
]
