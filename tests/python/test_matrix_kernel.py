"""The engine's two kernels for large training products, Eigen's GEMM and OpenBLAS (PyPI's
scipy-openblas32, loaded at run time): both give the reference's gradients, each is
deterministic at any thread count and after fork, the automatic choice is measured once and
kept per machine, and a bad library is refused with a clear error."""
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastmlp as fm
import reference as ref
from fastmlp import _matrix_kernel

BUNDLED = _matrix_kernel.bundled_blas_library()
needs_blas = pytest.mark.skipif(BUNDLED is None, reason="scipy-openblas32 is not installed for this platform")


@pytest.fixture
def kernel_setting():
    """Restores the process's kernel and thread count after a test changes them."""
    before, threads = fm.matrix_kernel_info()["setting"], fm.get_num_threads()
    yield
    fm.set_matrix_kernel(before)
    fm.set_num_threads(threads)


def _wide_model(dtype: str) -> fm.Sequential:
    # Every product of a training step but the output layer's is above the size that goes to BLAS.
    model = fm.Sequential([fm.Dense(160, activation="tanh"), fm.Dense(128, activation="relu"),
                           fm.Dense(10, activation="softmax")], input_dim=200, dtype=dtype, seed=11)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.05))
    return model


def _data(dtype: str, rows: int = 96):
    rng = np.random.default_rng(4)
    return rng.standard_normal((rows, 200)).astype(dtype), rng.integers(0, 10, rows)


def _reference_layers(model: fm.Sequential) -> list:
    return [ref.Layer(layer.W.astype(np.float64), layer.b.astype(np.float64), layer.activation)
            for layer in model.layers]


@needs_blas
@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-5), ("float64", 1e-11)])
def test_both_kernels_give_the_reference_gradients(dtype, rtol, kernel_setting):
    model = _wide_model(dtype)
    X, y = _data(dtype)
    expected, _ = ref.backward(_reference_layers(model), X.astype(np.float64), ref.one_hot(y, 10), "cross_entropy")
    by_kernel = {}
    for kernel in ("eigen", "blas"):
        fm.set_matrix_kernel(kernel)
        assert fm.matrix_kernel_info()["kernel"] == kernel
        by_kernel[kernel] = model.gradients(X, y)
        for got, (dW, db) in zip(by_kernel[kernel], expected):
            scale = np.abs(dW).max()
            np.testing.assert_allclose(got.dW, dW, rtol=rtol, atol=rtol * scale)
            np.testing.assert_allclose(got.db, db, rtol=rtol, atol=rtol * np.abs(db).max())
    # Proof that the setting took effect: the two kernels sum in different orders, so some
    # bits of the wide layers' gradients differ.
    assert not np.array_equal(by_kernel["eigen"][0].dW, by_kernel["blas"][0].dW)


def _train_weights(dtype: str, threads: int) -> np.ndarray:
    fm.set_num_threads(threads)
    model = _wide_model(dtype)
    X, y = _data(dtype, rows=384)
    model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=1e-3))
    model.fit(X, y, epochs=2, batch_size=96, verbose=0)
    return model.get_parameters()


@needs_blas
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blas_gives_identical_weights_at_any_thread_count(dtype, kernel_setting):
    fm.set_matrix_kernel("blas")
    weights = [_train_weights(dtype, threads) for threads in (1, 2, 3, 4)]
    for other in weights[1:]:
        assert np.array_equal(other, weights[0])
    fm.set_matrix_kernel("eigen")
    assert not np.array_equal(_train_weights(dtype, 2), weights[0])  # the bits are the kernel's


@needs_blas
def test_threadpoolctl_cannot_make_the_library_thread_itself(kernel_setting):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    fm.set_matrix_kernel("blas")
    expected = _train_weights("float32", 2)
    with threadpoolctl.threadpool_limits(limits=4, user_api="blas"):
        got = _train_weights("float32", 2)
        ours = [info for info in threadpoolctl.threadpool_info()
                if os.path.realpath(info["filepath"]) == os.path.realpath(BUNDLED)]
    assert np.array_equal(got, expected)
    assert ours and all(info["num_threads"] == 1 for info in ours)  # lowered again by the engine


def _train_and_send(connection) -> None:
    connection.send_bytes(_train_weights("float32", 2).tobytes())
    connection.close()


@needs_blas
@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_trains_with_blas_as_the_parent(kernel_setting):
    fm.set_matrix_kernel("blas")
    expected = _train_weights("float32", 2)  # the parent's threads and OpenBLAS are running
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_train_and_send, args=(sender,))
    child.start()
    assert receiver.poll(120), "the forked child did not finish training"
    got = np.frombuffer(receiver.recv_bytes(), dtype=expected.dtype)
    child.join(30)
    assert child.exitcode == 0
    assert np.array_equal(got, expected)


def _report_in_fresh_process(cache_home: Path, setting: str = "auto", script: str = "") -> dict:
    code = ("import json, fastmlp as fm\n" + script +
            "print(json.dumps(fm.matrix_kernel_info()))")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "FASTMLP_MATRIX_KERNEL": setting}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_blas
def test_the_automatic_choice_is_measured_once_and_kept(tmp_path):
    first = _report_in_fresh_process(tmp_path)
    assert first["reason"].startswith("measured now")
    assert first["blas_speedup"] > 0 and first["library"] == BUNDLED
    assert first["kernel"] == ("blas" if first["blas_speedup"] >= 1.02 else "eigen")
    [cache] = list((tmp_path / "fastmlp").iterdir())
    assert cache.read_text().splitlines()[0] == "fastmlp matrix kernel 1"
    second = _report_in_fresh_process(tmp_path)
    assert second["reason"].startswith("measured earlier on this machine")
    assert second["kernel"] == first["kernel"]
    assert second["blas_speedup"] == pytest.approx(first["blas_speedup"], rel=1e-4)
    # A kept choice is what decides, not a new measurement: a forged file is obeyed...
    cache.write_text("fastmlp matrix kernel 1\neigen 0.5\n")
    assert _report_in_fresh_process(tmp_path)["kernel"] == "eigen"
    # ...and a malformed one is measured afresh and replaced.
    for damaged in ("", "garbage\n", "fastmlp matrix kernel 1\nfast 1.5\n", "fastmlp matrix kernel 1\nblas -3\n"):
        cache.write_text(damaged)
        again = _report_in_fresh_process(tmp_path)
        assert again["reason"].startswith("measured now"), damaged
        assert cache.read_text().splitlines()[0] == "fastmlp matrix kernel 1"


def test_small_networks_never_load_the_library(tmp_path):
    script = ("import numpy as np\n"
              "m = fm.Sequential([fm.Dense(16, activation='relu'), fm.Dense(2, activation='softmax')], input_dim=2)\n"
              "m.compile(loss='cross_entropy', optimizer='sgd')\n"
              "m.fit(np.zeros((64, 2), 'float32'), np.zeros(64, int), epochs=2, verbose=0)\n"
              "import fastmlp._core as c\n"
              "assert c._engine.get_matrix_kernel() == 'auto'\n"
              "maps = open('/proc/self/maps').read() if __import__('sys').platform == 'linux' else ''\n"
              "assert 'libscipy_openblas.so' not in maps, 'loaded'\n")
    # (the report at the end of the script decides, and may load it, after the checks)
    assert _report_in_fresh_process(tmp_path, script=script)["setting"] == "auto"


@needs_blas
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
@pytest.mark.parametrize("users_value", [None, "2"])
def test_loading_the_library_starts_none_of_its_threads(tmp_path, users_value):
    # OpenBLAS would start one worker per CPU (or per OPENBLAS_NUM_THREADS) as it loads.
    script = ("import os\n"
              "before = len(os.listdir('/proc/self/task'))\n"
              "fm.set_matrix_kernel('blas')\n"
              "import fastmlp._core as c\n"
              "assert c._engine.matrix_kernel_report()['library'], 'not loaded'\n"
              "started = len(os.listdir('/proc/self/task')) - before\n"
              "assert started == 0, f'{started} threads started'\n"
              "import ctypes\n"
              "value = ctypes.CDLL(None).getenv\n"
              "value.restype = ctypes.c_char_p\n"
              "print('variable', value(b'OPENBLAS_NUM_THREADS'))\n")
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_NUM_THREADS"}
    env.update({"XDG_CACHE_HOME": str(tmp_path), "OMP_NUM_THREADS": "4"})
    if users_value is not None:
        env["OPENBLAS_NUM_THREADS"] = users_value
    done = subprocess.run([sys.executable, "-c", "import fastmlp as fm\n" + script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = repr(users_value.encode()) if users_value else "None"
    assert done.stdout.split() == ["variable", expected]  # the user's setting, as it was


def test_an_explicit_kernel_needs_no_measurement(tmp_path):
    report = _report_in_fresh_process(tmp_path, setting="eigen")
    assert report == {**report, "kernel": "eigen", "setting": "eigen", "reason": "set to eigen", "blas_speedup": 0.0}
    if BUNDLED is not None:
        report = _report_in_fresh_process(tmp_path, setting="blas")
        assert (report["kernel"], report["reason"], report["library"]) == ("blas", "set to blas", BUNDLED)


def test_bad_settings_and_libraries_are_refused_clearly(tmp_path, kernel_setting):
    with pytest.raises(ValueError, match="matrix kernel must be one of auto, eigen, blas"):
        fm.set_matrix_kernel("mkl")
    with pytest.raises(FileNotFoundError, match="no BLAS library at"):
        fm.set_matrix_kernel("blas", library=tmp_path / "missing.so")
    env = {**os.environ, "FASTMLP_MATRIX_KERNEL": "fastest"}
    done = subprocess.run([sys.executable, "-c", "import fastmlp"], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "FASTMLP_MATRIX_KERNEL='fastest' is not one of auto, eigen, blas" in done.stderr
    not_a_library = tmp_path / "libfake.so"
    not_a_library.write_bytes(b"\x7fELF not really")
    script = (f"import fastmlp as fm\n"
              f"for path, words in (({str(not_a_library)!r}, 'cannot load the BLAS library'),"
              f" ({_library_without_blas()!r}, 'has no cblas_sgemm')):\n"
              f"    try:\n"
              f"        fm.set_matrix_kernel('blas', library=path)\n"
              f"    except ValueError as error:\n"
              f"        assert words in str(error) and path in str(error), error\n"
              f"    else:\n"
              f"        raise AssertionError(path)\n")
    report = _report_in_fresh_process(tmp_path, setting="eigen", script=script)
    assert report["kernel"] == "eigen"  # nothing half-loaded


def test_an_offered_library_that_fails_to_load_leaves_eigen_in_charge(tmp_path):
    broken = tmp_path / "libbroken.so"
    broken.write_bytes(b"not a shared library")
    script = f"import fastmlp._core as c\nc._engine._set_blas_library({str(broken)!r}, False)\n"
    report = _report_in_fresh_process(tmp_path, script=script)
    assert report["kernel"] == "eigen"
    assert "the BLAS library did not load" in report["reason"] and str(broken) in report["reason"]


def _library_without_blas() -> str:
    """A real shared library with no CBLAS in it or in what it links: the engine's own module."""
    from fastmlp import _engine_generic
    return _engine_generic.__file__


@needs_blas
def test_a_pinned_openblas_kernel_is_measured_apart(monkeypatch):
    from fastmlp import _core
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    own_choice = _matrix_kernel.cache_file(_core._engine, BUNDLED)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    pinned = _matrix_kernel.cache_file(_core._engine, BUNDLED)
    assert pinned != own_choice and os.path.dirname(pinned) == os.path.dirname(own_choice)
