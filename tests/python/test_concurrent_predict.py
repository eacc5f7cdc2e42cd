"""One model shared by many threads (issue 10, "Serving").

Eight threads predict on one fitted model at once while a ninth fits another model, or the
same one; every prediction equals a serial call, bit for bit, and nothing raises for being
concurrent. Saving and pickling work while other threads predict. Each run is bounded in
time (a second, longer only until every thread has done some work, at most MAX_SECONDS), so
a deadlock fails the test instead of hanging it.
"""
import io
import pickle
import threading
import time
import warnings

import numpy as np
import pytest

import fastmlp as fm

RUN_SECONDS = 1.0
MAX_SECONDS = 30.0
JOIN_SECONDS = 60.0
N_PREDICTORS = 8


def data(seed, n=600, d=64, k=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    return X, y[:, None] == np.arange(k)


def fitted_model(seed, X, Y, width=256):
    # 256 units on 64 features: the 600-row batch crosses the engine's threshold for splitting
    # a product across threads, so the concurrent calls also split products across the engine's threads at once.
    model = fm.Sequential([fm.Dense(width, activation="relu"), fm.Dense(Y.shape[1], activation="softmax")],
                          seed=seed)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.05))
    model.fit(X, Y.astype(np.float32), epochs=1, batch_size=64, verbose=0)
    return model


class Run:
    """Threads that loop over `work` until told to stop; collects their exceptions."""

    def __init__(self):
        self.stop = threading.Event()
        self.errors = []
        self.threads = []

    def start(self, work, count=1):
        def loop():
            try:
                while not self.stop.is_set():
                    work()
            except BaseException as error:  # noqa: BLE001 - any failure must reach the test
                self.errors.append(error)
        for _ in range(count):
            thread = threading.Thread(target=loop, daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self, seconds=RUN_SECONDS, until=lambda: True):
        """Stop after `seconds`, or later once `until()` holds (at most MAX_SECONDS)."""
        began = time.monotonic()
        while True:
            elapsed = time.monotonic() - began
            if self.errors or elapsed >= MAX_SECONDS or (elapsed >= seconds and until()):
                break
            time.sleep(0.05)
        self.stop.set()
        for thread in self.threads:
            thread.join(JOIN_SECONDS)
        assert not any(thread.is_alive() for thread in self.threads), "a thread is stuck (deadlock?)"
        assert self.errors == []


def predictor(model, batches, expected, calls, results=None):
    def work():
        index = len(calls) % len(batches)
        P = model.predict(batches[index])
        calls.append(index)
        if results is None:
            assert np.array_equal(P, expected[index]), "a concurrent prediction differs from the serial one"
        else:
            results.append((index, P))
    return work


def test_eight_threads_predict_like_serial_calls_while_another_model_trains():
    X, Y = data(0)
    model = fitted_model(1, X, Y)
    other = fitted_model(2, X, Y)
    batches = [X[:1], X[:7], X[100:600], X]  # one row (GEMV path), small, large, all
    expected = [model.predict(batch) for batch in batches]
    calls, epochs = [], []
    run = Run()
    run.start(predictor(model, batches, expected, calls), N_PREDICTORS)
    run.start(lambda: epochs.append(other.fit(X, Y.astype(np.float32), epochs=1, batch_size=32, verbose=0)))
    run.finish(until=lambda: len(calls) >= N_PREDICTORS and len(epochs) >= 1)
    assert len(calls) >= N_PREDICTORS and len(epochs) >= 1
    for index, batch in enumerate(batches):  # the model itself was not changed by anyone
        assert np.array_equal(model.predict(batch), expected[index])


def test_predicting_while_the_same_model_trains_sees_whole_epochs():
    X, Y = data(3)
    model = fitted_model(4, X, Y)
    batches = [X[:5], X[200:600]]
    snapshots = [model.get_parameters()]

    class Snapshot(fm.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_parameters())

    calls, results, fits = [], [], []
    run = Run()
    run.start(predictor(model, batches, None, calls, results), N_PREDICTORS)
    run.start(lambda: fits.append(model.fit(X, Y.astype(np.float32), epochs=2, batch_size=32, verbose=0,
                                            callbacks=[Snapshot()])))
    run.finish(until=lambda: len(results) >= N_PREDICTORS and len(fits) >= 1)
    assert len(fits) >= 1, "the fit made no progress while others predicted"
    assert len(results) >= N_PREDICTORS
    # Every prediction was made with the weights of one epoch boundary, never half-updated ones.
    replica = fitted_model(4, X, Y)
    expected = {}
    for number, parameters in enumerate(snapshots):
        replica.set_parameters(parameters)
        for index, batch in enumerate(batches):
            expected[number, index] = replica.predict(batch)
    for index, P in results:
        assert any(np.array_equal(P, expected[number, index]) for number in range(len(snapshots))), \
            "a prediction matches no epoch's weights"


def test_saving_and_pickling_while_other_threads_predict(tmp_path):
    X, Y = data(5)
    model = fitted_model(6, X, Y)
    batches = [X[:3], X[300:600]]
    expected = [model.predict(batch) for batch in batches]
    calls, saved = [], []
    path = tmp_path / "model.fmlp"

    def save_and_pickle():
        model.save(path)
        restored = pickle.loads(pickle.dumps(model))
        saved.append((fm.load(path), restored))

    run = Run()
    run.start(predictor(model, batches, expected, calls), N_PREDICTORS)
    run.start(save_and_pickle)
    run.finish(until=lambda: len(calls) >= N_PREDICTORS and len(saved) >= 1)
    assert len(saved) >= 1
    for loaded, restored in saved[-2:]:
        for batch, P in zip(batches, expected):
            assert np.array_equal(loaded.predict(batch), P)
            assert np.array_equal(restored.predict(batch), P)


def test_saving_during_a_fit_of_the_same_model_gives_a_file_of_one_epoch(tmp_path):
    X, Y = data(7)
    model = fitted_model(8, X, Y)
    buffers, fits = [], []

    def save():
        buffer = io.BytesIO()
        pickle.dump(model, buffer)
        buffers.append(buffer.getvalue())

    run = Run()
    run.start(save)
    run.start(lambda: fits.append(model.fit(X, Y.astype(np.float32), epochs=1, batch_size=16, verbose=0)))
    run.finish(until=lambda: len(fits) >= 1 and len(buffers) >= 1)
    assert len(fits) >= 1 and len(buffers) >= 1
    for payload in buffers[-3:]:
        restored = pickle.loads(payload)  # its golden rows check weights and predictions agree
        assert restored.predict(X[:4]).shape == (4, 3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_estimator_predicts_from_many_threads(dtype):
    pytest.importorskip("sklearn")
    X, Y = data(9, n=300, d=8)
    y = Y.argmax(axis=1)
    X = X.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is not the point here
        clf = fm.MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0).fit(X, y)
    expected_labels, expected_proba = clf.predict(X), clf.predict_proba(X)
    calls = []

    def work():
        assert np.array_equal(clf.predict(X), expected_labels)
        assert np.array_equal(clf.predict_proba(X), expected_proba)
        calls.append(1)

    run = Run()
    run.start(work, N_PREDICTORS)
    run.finish(0.5, until=lambda: len(calls) >= N_PREDICTORS)
    assert len(calls) >= N_PREDICTORS
