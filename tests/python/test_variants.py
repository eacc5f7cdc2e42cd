"""Every engine variant this build holds and this CPU runs, loaded and used on its own.

The binding is built once and linked into every variant's module (cpp/CMakeLists.txt), so a
module that mixes its parts wrongly (say, Eigen matrices allocated by the engine under one
alignment rule and freed by the binding under another) must fail at import, not corrupt the
heap later. Each variant runs in its own process: a process imports one.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from fastmlp import _core


VARIANTS = ("generic", "avx2", "avx512", "native")  # every variant cpp/CMakeLists.txt can build


def built_variants() -> list:
    return [variant for variant in VARIANTS if importlib.util.find_spec(f"fastmlp._engine_{variant}")]


def runnable(variant: str) -> bool:
    return variant in ("generic", "native") or bool(_core.cpu_features().get(variant, False))


# Fits, predicts and frees networks of both dtypes, so that matrices the engine allocates are
# freed by the binding and the other way round, and checks each trained model's predictions
# against the NumPy reference forward pass on its own weights; prints the engine's build info.
SCRIPT = """
import gc, numpy as np, fastmlp as fm
import reference as ref
from fastmlp import _core
info = _core.build_info()
rng = np.random.default_rng(0)
X = rng.standard_normal((500, 7))
y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
for dtype, rtol in (("float32", 1e-5), ("float64", 1e-12)):
    model = fm.Sequential([fm.Dense(33, activation="tanh"), fm.Dense(2, activation="softmax")],
                          input_dim=7, dtype=dtype, seed=1)
    model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=0.01))
    model.fit(X, np.eye(2)[y], epochs=20, batch_size=32, verbose=0)
    predicted = model.predict(X)
    layers = [ref.Layer(layer.W, layer.b, activation) for layer, activation in zip(model.layers, ("tanh", "softmax"))]
    expected = ref.predict(layers, X.astype(dtype))
    np.testing.assert_allclose(predicted, expected, rtol=rtol, atol=rtol * 1e-2)
    assert (predicted.argmax(axis=1) == y).mean() > 0.8
    del model, predicted
    gc.collect()
print(info["variant"], info["simd"])
"""
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))  # reference.py


@pytest.mark.parametrize("variant", built_variants())
def test_each_built_variant_loads_trains_and_frees(variant):
    if not runnable(variant):
        pytest.skip(f"this CPU cannot run the {variant} engine")
    path = os.pathsep.join(filter(None, [TESTS_DIR, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, FASTMLP_ENGINE=variant, PYTHONPATH=path)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    reported_variant, _, simd = done.stdout.strip().partition(" ")
    assert reported_variant == variant
    # The engine's own instruction sets, not the binding's baseline (Eigen names AVX2 "AVX").
    if variant == "generic":
        assert "AVX" not in simd
    if variant == "avx2":
        assert "AVX" in simd and "AVX512" not in simd
    if variant == "avx512":
        assert "AVX512" in simd


def test_the_build_holds_the_generic_fallback():
    assert "generic" in built_variants()
