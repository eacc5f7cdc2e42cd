"""fastmlp on a Dask cluster (the `cluster` extra): dask-ml's Incremental streaming a Dask array
larger than any worker's memory through partial_fit, and a grid search under joblib's Dask backend.

The cluster is a LocalCluster of 2 worker processes × 1 thread. Each worker may use
WORKER_MEMORY_LIMIT bytes, less than the training data (DATA_BYTES): no worker can hold it, so
blocks are made where they are needed and spilled to disk when memory runs short. A worker
that still goes over its limit is killed by its nanny, and allowed-failures = 0 turns that
into a failed computation (never a silent retry); the workers' process ids are compared
before and after each test for the same reason.

A worker's own footprint, with everything an Incremental task imports (distributed, NumPy,
scikit-learn with pandas and pyarrow, dask-ml, fastmlp) and after a pass, is about 310 MiB of
resident memory: the limit leaves room above it for a few blocks, and pausing is off so that a
worker whose own footprint sits near the limit spills instead of waiting forever. Peak memory
is the worker's own high-water mark (worker_peak_rss), reset before each pass.

Every block of the data is generated from its own seed (DATA_SEED, block index), so no block
depends on another and any worker can make any block; the labels come from a fixed teacher
applied row by row. Held-out scores asserted after one pass (48 blocks of 60,000 rows): 0.95
accuracy for the MLP classifier (measured 0.975), R² 0.98 for the regressor (0.999), 0.98
accuracy for logistic regression on a linear rule (0.997); peak worker memory measured 344 to
357 MiB of the 400 MiB allowed (the nanny terminates at 380 MiB).
"""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the cluster extra (dask[distributed], dask-ml) is not installed")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")
joblib = pytest.importorskip("joblib")

import fastmlp as fm  # noqa: E402

pytest.importorskip("sklearn")
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

N_FEATURES = 40
ROWS_PER_BLOCK = 60_000
N_BLOCKS = 48
DATA_SEED = 20261201
HELD_OUT_BLOCK = 10_000          # a block index no training block has
MiB = 2 ** 20
WORKER_MEMORY_LIMIT = 400 * MiB
# float32 features and int64/float64 targets of every block
DATA_BYTES = N_BLOCKS * ROWS_PER_BLOCK * (N_FEATURES * 4 + 8)

# The teacher looks at the first INFORMATIVE features (the others are noise), through 8 tanh units.
INFORMATIVE = 10
_teacher = (np.random.default_rng(7).standard_normal((INFORMATIVE, 8)) / np.sqrt(INFORMATIVE)).astype(np.float32)
_teacher_out = np.random.default_rng(8).standard_normal((8, 3)).astype(np.float32)


def features_block(seed_block):
    """The features of one block, (ROWS_PER_BLOCK, N_FEATURES) float32, from its index alone."""
    index = int(seed_block[0])
    rng = np.random.default_rng([DATA_SEED, index])
    return rng.standard_normal((ROWS_PER_BLOCK, N_FEATURES), dtype=np.float32)


def _hidden(X):
    return np.tanh(X[:, :INFORMATIVE] @ _teacher)


def class_labels(X):
    """Three classes: the largest output of a fixed one-hidden-layer tanh network."""
    return np.argmax(_hidden(X) @ _teacher_out, axis=1)


def binary_labels(X):
    """Two classes on either side of a hyperplane in the informative features."""
    return (X[:, :INFORMATIVE] @ _teacher[:, 0] > 0).astype(np.int64)


def regression_targets(X):
    return (_hidden(X) @ _teacher_out[:, 1]).astype(np.float64)


def dask_data(targets, n_blocks=N_BLOCKS):
    """X and y as Dask arrays whose blocks are made independently, each from its own seed."""
    seeds = da.arange(n_blocks, chunks=1)
    X = seeds.map_blocks(features_block, new_axis=1, chunks=((ROWS_PER_BLOCK,) * n_blocks, (N_FEATURES,)),
                         dtype=np.float32, meta=np.empty((0, 0), dtype=np.float32))
    y = X.map_blocks(targets, drop_axis=1, dtype=np.float64 if targets is regression_targets else np.int64)
    return X, y


def local_block(index, targets):
    X = features_block(np.array([index]))
    return X, targets(X)


def _status_bytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise LookupError(field)


needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"),
                                reason="measures peak memory through Linux's /proc")


def worker_peak_rss():
    """The worker process's largest resident set since reset_worker_peak_rss, in bytes.

    Linux's VmHWM: the high-water mark of this process's own address space, counted as the
    nanny counts the memory it kills for (resident pages, shared ones included). Not
    getrusage's ru_maxrss: that survives exec, so a spawned worker starts with the peak of the
    process that spawned it — the pytest process, a few hundred MiB after the rest of the suite.
    """
    return _status_bytes("VmHWM")


def reset_worker_peak_rss():
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current resident set (Linux >= 4.0)
    return _status_bytes("VmHWM")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = {
        "distributed.scheduler.allowed-failures": 0,
        # Dask's default, said here because the memory checks rely on it: a spawned worker
        # starts from a fresh interpreter; a forked one would share the pytest process's pages.
        "distributed.worker.multiprocessing-method": "spawn",
        "distributed.worker.memory.target": 0.80,
        "distributed.worker.memory.spill": 0.85,
        "distributed.worker.memory.pause": False,
        "distributed.worker.memory.terminate": 0.95,
    }
    # Each nanny writes its pre-spawn environment (OMP_NUM_THREADS=1 and others) into this
    # process's os.environ, where the subprocesses of later tests would inherit it.
    environment = dict(os.environ)
    try:
        with dask.config.set(settings):
            with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                          memory_limit=WORKER_MEMORY_LIMIT, dashboard_address=None,
                                          local_directory=str(tmp_path_factory.mktemp("dask-worker-space"))) as cluster:
                with distributed.Client(cluster) as client:
                    yield client
    finally:
        os.environ.clear()
        os.environ.update(environment)


@pytest.fixture
def same_workers(client):
    """Fails the test when a worker process was replaced (killed for memory, say) during it."""
    before = client.run(os.getpid)
    assert len(before) == 2
    yield before
    assert client.run(os.getpid) == before, "a worker process was restarted during the test"


def test_the_data_is_larger_than_a_worker_may_hold():
    assert DATA_BYTES > WORKER_MEMORY_LIMIT
    X, y = dask_data(class_labels)
    assert X.nbytes + y.nbytes == DATA_BYTES


def test_workers_run_fastmlp_on_the_one_thread_they_were_given(client, same_workers):
    assert set(client.run(fm.get_num_threads).values()) == {1}


def _workers_that_ran(stream, prefix):
    """The workers on which tasks whose key starts with prefix ran, from a task stream."""
    names = {task["worker"]: [] for task in stream.data}
    for task in stream.data:
        key = task["key"]
        names[task["worker"]].append(key[0] if isinstance(key, tuple) else key)
    return {worker for worker, keys in names.items() if any(str(key).startswith(prefix) for key in keys)}


def _fit_incrementally(client, estimator, targets, **fit_kwargs):
    X, y = dask_data(targets)
    incremental = dask_ml_wrappers.Incremental(estimator, shuffle_blocks=False)
    client.run(reset_worker_peak_rss)
    with distributed.get_task_stream(client) as stream:
        incremental.fit(X, y, **fit_kwargs)
    fitted_on = _workers_that_ran(stream, "fit-")
    peaks = client.run(worker_peak_rss)
    return incremental.estimator_, fitted_on, peaks


def _check_memory(peaks):
    for worker, peak in peaks.items():
        assert peak < WORKER_MEMORY_LIMIT, f"{worker} peaked at {peak / MiB:.0f} MiB"
        assert peak < DATA_BYTES


@needs_proc
def test_incremental_mlp_classifier_learns_data_larger_than_a_worker(client, same_workers):
    estimator = fm.MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=3e-3, random_state=0)
    fitted, fitted_on, peaks = _fit_incrementally(client, estimator, class_labels, classes=[0, 1, 2])
    assert fitted.n_iter_ == 1 and fitted.t_ == N_BLOCKS * ROWS_PER_BLOCK
    assert fitted_on == set(same_workers), "the model should have travelled between both workers"
    X_test, y_test = local_block(HELD_OUT_BLOCK, class_labels)
    assert fitted.score(X_test, y_test) >= 0.95
    _check_memory(peaks)


@needs_proc
def test_incremental_mlp_regressor_learns_data_larger_than_a_worker(client, same_workers):
    estimator = fm.MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=3e-3, random_state=0)
    fitted, _, peaks = _fit_incrementally(client, estimator, regression_targets)
    X_test, y_test = local_block(HELD_OUT_BLOCK, regression_targets)
    assert r2_score(y_test, fitted.predict(X_test)) >= 0.98
    _check_memory(peaks)


@needs_proc
def test_incremental_logistic_regression_learns_data_larger_than_a_worker(client, same_workers):
    estimator = fm.LogisticRegression(solver="adam", learning_rate_init=1e-2, dtype="float32", random_state=0)
    fitted, _, peaks = _fit_incrementally(client, estimator, binary_labels, classes=[0, 1])
    X_test, y_test = local_block(HELD_OUT_BLOCK, binary_labels)
    assert fitted.score(X_test, y_test) >= 0.98
    _check_memory(peaks)


def test_incremental_on_the_cluster_equals_partial_fit_here(client, same_workers):
    """The cluster changes where the work runs, not what it computes: same blocks, same order,
    bit-identical weights, although the model crossed between worker processes (pickled) on the way."""
    n_blocks = 8

    def make():
        return fm.MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=3e-3, random_state=3)

    X, y = dask_data(class_labels, n_blocks=n_blocks)
    incremental = dask_ml_wrappers.Incremental(make(), shuffle_blocks=False)
    with distributed.get_task_stream(client) as stream:
        incremental.fit(X, y, classes=[0, 1, 2])
    assert _workers_that_ran(stream, "fit-") == set(same_workers)

    here = make()
    for index in range(n_blocks):
        here.partial_fit(*local_block(index, class_labels), classes=[0, 1, 2])
    cluster = incremental.estimator_
    for found, expected in zip(cluster.coefs_ + cluster.intercepts_, here.coefs_ + here.intercepts_):
        np.testing.assert_array_equal(found, expected)
    assert cluster.loss_curve_ == here.loss_curve_
    assert (cluster.n_iter_, cluster.t_) == (here.n_iter_, here.t_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_prediction_block_by_block_equals_prediction_here(client, same_workers):
    X_blocks, y_blocks = dask_data(class_labels, n_blocks=4)
    X_local = np.concatenate([local_block(i, class_labels)[0] for i in range(4)])
    X_train, labels = local_block(HELD_OUT_BLOCK, class_labels)
    clf = fm.MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X_train[:5000], labels[:5000])
    wrapped = dask_ml_wrappers.ParallelPostFit(clf)
    np.testing.assert_array_equal(wrapped.predict(X_blocks).compute(), clf.predict(X_local))
    np.testing.assert_array_equal(wrapped.predict_proba(X_blocks).compute(), clf.predict_proba(X_local))

    # Several targets: ParallelPostFit.predict expects one column per row; map_blocks with the
    # output's chunks is the call that works (docs/scaling.md).
    targets = np.column_stack([regression_targets(X_train), binary_labels(X_train)])[:5000]
    reg = fm.MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X_train[:5000], targets)
    # float32 features give float32 predictions: the dtype declared is the one computed.
    predicted = X_blocks.map_blocks(reg.predict, dtype=np.float32, chunks=(X_blocks.chunks[0], (2,)))
    computed = predicted.compute()
    assert computed.dtype == predicted.dtype
    np.testing.assert_array_equal(computed, reg.predict(X_local))


def _calls_in_joblib_batches(stream, function_name):
    """How many calls of function_name the tasks of a task stream ran. joblib's Dask backend
    sends calls in batches whose size it adapts to how long they take (fast fits travel several
    to a task) and names each task [mixed_]batch_of_<function>_<calls>_calls-<uuid>."""
    pattern = re.compile(rf"(?:mixed_)?batch_of_{function_name}_(\d+)_calls-[0-9a-f]+")
    keys = [str(task["key"]) for task in stream.data]
    batches = [int(found.group(1)) for found in map(pattern.fullmatch, keys) if found]
    assert batches, f"no joblib batch of {function_name} among the tasks {keys}"
    return sum(batches)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_under_the_dask_backend_equals_the_serial_search(client, same_workers):
    X, y = fm.datasets.make_moons(300, noise=0.25, random_state=4)
    grid = {"hidden_layer_sizes": [(4,), (16,)], "alpha": [1e-4, 1e-1], "learning_rate_init": [1e-2, 3e-2]}

    def search(n_jobs):
        return GridSearchCV(fm.MLPClassifier(max_iter=60, random_state=0), grid, cv=3, n_jobs=n_jobs)

    serial = search(None).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        with distributed.get_task_stream(client) as stream:
            spread = search(-1).fit(X, y)
    # Every (candidate, fold) fit ran on the cluster, and each once.
    assert _calls_in_joblib_batches(stream, "_fit_and_score") == len(serial.cv_results_["params"]) * 3
    assert spread.best_params_ == serial.best_params_
    for key in ["mean_test_score", "std_test_score", "rank_test_score"] + [f"split{k}_test_score" for k in range(3)]:
        np.testing.assert_array_equal(spread.cv_results_[key], serial.cv_results_[key])
    np.testing.assert_array_equal(spread.predict_proba(X), serial.predict_proba(X))
