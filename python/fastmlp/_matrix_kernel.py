"""Which code runs the engine's large training products: Eigen's GEMM or OpenBLAS.

OpenBLAS comes from PyPI's scipy-openblas32 (a dependency on Linux, the build NumPy itself
ships). It is offered to the engine here at import by its path alone: neither the Python
package nor the library is loaded until the first large product needs a kernel. The engine
then measures both kernels once on this machine and keeps the faster; the measurement is kept
in the user's cache directory, so that every later process on the machine chooses alike (the two
kernels round differently, and the same seed must give the same weights in every run).

FASTMLP_MATRIX_KERNEL=auto|eigen|blas sets the choice for a process, set_matrix_kernel for
the rest of it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
from pathlib import Path
from typing import Any

KERNELS = ("auto", "eigen", "blas")
_LIBRARY_NAMES = {"Linux": "libscipy_openblas.so", "Darwin": "libscipy_openblas.dylib"}


def bundled_blas_library() -> str | None:
    """The path of scipy-openblas32's shared library, if that package is installed (not imported)."""
    name = _LIBRARY_NAMES.get(platform.system())
    spec = importlib.util.find_spec("scipy_openblas32") if name else None
    if spec is None or spec.origin is None or name is None:
        return None
    path = Path(spec.origin).parent / "lib" / name
    return str(path) if path.is_file() else None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_file(engine: Any, library: str) -> str:
    """Where the engine keeps its measurement: one file per CPU model, engine variant and build
    of fastmlp and of the library (a new version of either is measured afresh), and OpenBLAS's
    own kernel choice: OPENBLAS_CORETYPE can pin it to slower kernels than the CPU has."""
    stat = os.stat(library)
    openblas_settings = [f"{name}={os.environ.get(name, '')}" for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")]
    key = "\n".join([_cpu_model(), str(os.cpu_count()), engine.build_info()["variant"], engine.__version__,
                     library, str(stat.st_size), str(stat.st_mtime_ns), *openblas_settings])
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    # The engine makes the directory when it first writes there, not at import.
    return os.path.join(root, "fastmlp", f"matrix-kernel-{hashlib.sha256(key.encode()).hexdigest()[:16]}")


def configure(engine: Any) -> None:
    """At import: offer the bundled OpenBLAS and apply FASTMLP_MATRIX_KERNEL."""
    setting = os.environ.get("FASTMLP_MATRIX_KERNEL", "auto").strip().lower() or "auto"
    if setting not in KERNELS:
        raise ImportError(f"FASTMLP_MATRIX_KERNEL={setting!r} is not one of {', '.join(KERNELS)}")
    library = bundled_blas_library()
    if library is not None:
        try:
            engine._set_matrix_kernel_cache(cache_file(engine, library))
        except OSError:
            pass  # no cache: each process measures for itself
        engine._set_blas_library(library, False)
    engine.set_matrix_kernel(setting)


def set_matrix_kernel(engine: Any, kernel: str, library: str | os.PathLike[str] | None = None) -> None:
    if kernel not in KERNELS:
        raise ValueError(f"matrix kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    if library is not None:
        path = os.fspath(library)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no BLAS library at {path!r}")
        try:
            engine._set_blas_library(path, True)
        except RuntimeError as error:  # not a CBLAS library, or another one already loaded
            raise ValueError(str(error)) from None
    try:
        engine.set_matrix_kernel(kernel)
    except RuntimeError as error:  # the offered library failed to load
        raise ValueError(str(error)) from None
