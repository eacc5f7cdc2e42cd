"""The engine's threads: bit-identical results at any thread count, limits from OpenMP's
environment and threadpoolctl honoured, and a fork()ed child that trains and predicts."""
import multiprocessing
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastmlp as fm

CHILD_TIMEOUT_S = 120


@pytest.fixture
def restore_threads():
    before = fm.get_num_threads()
    yield
    fm.set_num_threads(before)


def _train(dtype: str, seed: int = 5) -> np.ndarray:
    # 256-wide layers and batches of 256: every product is large enough to be split.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((768, 300)).astype(dtype)
    y = rng.integers(0, 10, 768)
    model = fm.Sequential([fm.Dense(256, activation="relu"), fm.Dense(256, activation="tanh"),
                           fm.Dense(10, activation="softmax")], dtype=dtype, seed=seed)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.05, momentum=0.9))
    model.fit(X, y, epochs=2, batch_size=256, verbose=0)
    return np.concatenate([model.get_parameters(), model.predict(X).ravel()])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weights_are_bit_identical_at_one_to_four_threads(dtype, restore_threads):
    results = {}
    for threads in (1, 2, 3, 4):
        fm.set_num_threads(threads)
        results[threads] = _train(dtype)
    for threads in (2, 3, 4):
        assert np.array_equal(results[threads], results[1]), f"{threads} threads differ from 1"
    assert not np.array_equal(results[1], _train(dtype, seed=6))  # the comparison can fail


def _run_python(code: str, **environment) -> str:
    env = {**os.environ, **environment}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return done.stdout


# Counts the process's OS threads before and after a training that splits its products.
THREADS_DURING_FIT = """
    import os
    import numpy as np
    import fastmlp as fm

    def fit():
        rng = np.random.default_rng(0)
        X = rng.standard_normal((512, 512)).astype("float32")
        model = fm.Sequential([fm.Dense(512, activation="relu"), fm.Dense(4, activation="softmax")], seed=0)
        model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.01))
        model.fit(X, rng.integers(0, 4, 512), epochs=1, batch_size=256, verbose=0)

    def os_threads():
        return len(os.listdir("/proc/self/task"))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
def test_omp_num_threads_is_honoured():
    out = _run_python(THREADS_DURING_FIT + """
    before = os_threads()
    fit()
    print(fm.get_num_threads(), os_threads() - before)
    """, OMP_NUM_THREADS="1")
    assert out.split() == ["1", "0"]  # one thread, and no worker started


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
def test_threadpoolctl_limit_is_honoured():
    pytest.importorskip("threadpoolctl")
    out = _run_python(THREADS_DURING_FIT + """
    from threadpoolctl import threadpool_limits
    fm.set_num_threads(2)
    before = os_threads()
    with threadpool_limits(limits=1):
        fit()
    limited = os_threads() - before
    fit()
    print(limited, os_threads() - before)
    """, OMP_NUM_THREADS="2")
    assert out.split() == ["0", "1"]  # no worker under the limit; one once it is lifted


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
def test_threadpoolctl_limit_is_honoured_by_predict_and_the_estimators():
    pytest.importorskip("threadpoolctl")
    pytest.importorskip("sklearn")
    out = _run_python(THREADS_DURING_FIT + """
    import warnings
    from threadpoolctl import threadpool_limits
    fm.set_num_threads(2)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2048, 512)).astype("float32")  # 2048 rows through 512 units: split products
    model = fm.Sequential([fm.Dense(512, activation="relu"), fm.Dense(4, activation="softmax")], input_dim=512)
    classifier = fm.MLPClassifier(hidden_layer_sizes=(512,), batch_size=256, max_iter=1, random_state=0)
    before = os_threads()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch does not converge
        model.predict(X)
        classifier.fit(X[:512], rng.integers(0, 4, 512))
        classifier.predict_proba(X)
    limited = os_threads() - before
    model.predict(X)
    print(limited, os_threads() - before)
    """, OMP_NUM_THREADS="2")
    assert out.split() == ["0", "1"]  # no worker under the limit; one once it is lifted


def _train_and_predict(threads: int) -> bytes:
    fm.set_num_threads(threads)
    return _train("float32").tobytes()


def _child(connection) -> None:
    connection.send(_train_and_predict(2))
    connection.close()


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
def test_forked_child_trains_and_predicts_after_threaded_work(restore_threads):
    parent_result = _train_and_predict(2)  # starts the engine's worker threads
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender,))
    child.start()
    sender.close()
    try:
        assert receiver.poll(CHILD_TIMEOUT_S), f"the forked child did not finish within {CHILD_TIMEOUT_S} s"
        child_result = receiver.recv()
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    assert child_result == parent_result
