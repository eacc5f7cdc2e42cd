"""OpenBLAS overrides of this machine, and the benchmark's restart without them.

Some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE to dodge bugs of old OpenBLAS
builds; with a current NumPy they only select a slower kernel. NumPy reads them when it
loads, so the benchmark starts itself again without them (unless told not to) before
anything imports NumPy; the original values travel along so the report can name them.
This module imports nothing heavy.
"""
from __future__ import annotations

import json
import os
import sys

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ORIGINAL_OPENBLAS_ENV = "FASTMLP_BENCH_ORIGINAL_OPENBLAS_ENV"


def restart_without_openblas_overrides(script: str) -> None:
    """Replace this process by `python script argv...` without the overrides, if any are set."""
    if "--keep-openblas-env" in sys.argv or not any(name in os.environ for name in OPENBLAS_OVERRIDES):
        return
    env = dict(os.environ)
    env[ORIGINAL_OPENBLAS_ENV] = json.dumps({name: env.pop(name) for name in OPENBLAS_OVERRIDES if name in env})
    os.execve(sys.executable, [sys.executable, os.path.abspath(script), *sys.argv[1:]], env)


def machine_overrides() -> dict:
    """The overrides this machine set: those the restart removed, else those still active."""
    return json.loads(os.environ.get(ORIGINAL_OPENBLAS_ENV, "{}")) or \
        {name: os.environ[name] for name in OPENBLAS_OVERRIDES if name in os.environ}


def environment_without_overrides() -> dict:
    return {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES and k != ORIGINAL_OPENBLAS_ENV}
