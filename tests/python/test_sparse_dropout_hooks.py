"""Sparse X through the parts of training that came after the sparse engine: dropout, Keras's
per-batch hooks and the roll-back of a diverged epoch run on the CSR arrays as on the dense X, in
one epoch loop. In float64 a fit on sparse X ends with the weights, the per-batch logs and the
history of the same fit on the dense X to 1e-12 (the first layer's sums taken in another order
are the only difference; the masks and the shuffled order are drawn from the same streams). A
batch hook is Python code between two batches of one engine call: one that breaks the sparse
arrays' structure is a ValueError naming what changed, never a read outside the arrays."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import fastmlp as fm

scipy_sparse = pytest.importorskip("scipy.sparse")
pytest.importorskip("sklearn")

TIGHT = dict(rtol=1e-12, atol=1e-12)


def sparse_data(n=90, d=10, seed=1):
    """About 70% zeros, row 3 empty, column 6 never used; 3 classes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.3)
    X[3] = 0.0
    X[:, 6] = 0.0
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] - X[:, 2] > 0.2)
    return X, y


def dropout_model(rates=(0.4, 0.25), seed=5):
    model = fm.Sequential([fm.Dense(12, activation="relu"), fm.Dropout(rates[0]),
                           fm.Dense(7, activation="tanh"), fm.Dropout(rates[1]),
                           fm.Dense(3, activation="softmax")], dtype="float64", seed=seed)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.2, momentum=0.9))
    return model


class BatchRecorder(fm.Callback):
    """Keeps every batch hook's call; stops the training in epoch `stop_epoch` after batch `stop_batch`."""

    def __init__(self, stop_epoch=None, stop_batch=None):
        super().__init__()
        self.calls, self.epoch = [], None
        self.stop_epoch, self.stop_batch = stop_epoch, stop_batch

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", self.epoch, batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("end", self.epoch, batch, logs["loss"], logs.get("accuracy")))
        if (self.epoch, batch) == (self.stop_epoch, self.stop_batch):
            self.model.stop_training = True


def fit_both(fit):
    X, y = sparse_data()
    return fit(X, y), fit(scipy_sparse.csr_matrix(X), y)


def assert_same_fit(dense, sparse):
    (dense_model, dense_calls), (sparse_model, sparse_calls) = dense, sparse
    for W, W_sparse in zip(dense_model.get_weights(), sparse_model.get_weights()):
        np.testing.assert_allclose(W_sparse, W, **TIGHT)
    assert [call[:3] for call in sparse_calls] == [call[:3] for call in dense_calls]
    logs = [call[3:] for call in dense_calls if call[0] == "end"]
    sparse_logs = [call[3:] for call in sparse_calls if call[0] == "end"]
    np.testing.assert_allclose(np.array(sparse_logs), np.array(logs), **TIGHT)
    for key in ("loss", "accuracy", "val_loss"):
        np.testing.assert_allclose(sparse_model.history.history[key], dense_model.history.history[key], **TIGHT)


@pytest.mark.parametrize("shuffle", [True, False])
def test_dropout_and_batch_hooks_on_sparse_x_give_what_they_give_on_dense_x(shuffle):
    def fit(X, y, rates=(0.4, 0.25)):
        model, recorder = dropout_model(rates), BatchRecorder(stop_epoch=2, stop_batch=3)
        model.fit(X, y, epochs=4, batch_size=16, shuffle=shuffle, validation_split=0.2, verbose=0,
                  callbacks=[recorder])
        return model, recorder.calls

    dense, sparse = fit_both(fit)
    assert_same_fit(dense, sparse)
    calls = dense[1]
    # 72 training rows in batches of 16: 5 batches per epoch; the hook stopped epoch 2 after batch 3.
    assert [call[1:3] for call in calls if call[0] == "end"] == [(e, b) for e in (0, 1) for b in range(5)] + \
        [(2, b) for b in range(4)]
    # The dropout mattered: the same fit without it ends elsewhere.
    X, y = sparse_data()
    plain, _ = fit(scipy_sparse.csr_matrix(X), y, rates=(0.0, 0.0))
    assert not np.allclose(plain.get_weights()[0], sparse[0].get_weights()[0], rtol=1e-3)


def test_a_batch_hook_leaves_a_sparse_fit_as_it_is_without_one():
    X, y = sparse_data()
    fits = []
    for callbacks in ([], [BatchRecorder()]):
        model = dropout_model()
        model.fit(scipy_sparse.csr_matrix(X), y, epochs=3, batch_size=16, verbose=0, callbacks=callbacks)
        fits.append(model.get_weights())
    for W, W_hooked in zip(*fits):
        np.testing.assert_array_equal(W_hooked, W)


def test_an_mlp_with_dropout_trains_on_sparse_x_as_on_dense():
    X, y = sparse_data()
    settings = dict(hidden_layer_sizes=(10, 6), dropout=0.3, solver="adam", max_iter=5, batch_size=16,
                    random_state=2, dtype="float64", alpha=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # five epochs do not converge; not the point here
        dense = fm.MLPClassifier(**settings).fit(X, y)
        sparse = fm.MLPClassifier(**settings).fit(scipy_sparse.csr_matrix(X), y)
    for W, W_sparse in zip(dense.coefs_ + dense.intercepts_, sparse.coefs_ + sparse.intercepts_):
        np.testing.assert_allclose(W_sparse, W, **TIGHT)
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, **TIGHT)


def test_a_diverging_sparse_epoch_is_rolled_back_as_a_dense_one():
    X, y = sparse_data()
    for data in (X, scipy_sparse.csr_matrix(X)):
        model = fm.Sequential([fm.Dense(8, activation="relu"), fm.Dropout(0.2), fm.Dense(1)], input_dim=10,
                              dtype="float64", seed=1)
        model.compile(loss="mse", optimizer=fm.SGD(lr=1e3))
        initial = [W.copy() for W in model.get_weights()]
        recorder = BatchRecorder()
        with pytest.raises(fm.DivergenceError, match="epoch 1 of 3"):
            model.fit(data, y.astype(float) * 1e3, epochs=3, batch_size=8, verbose=0, callbacks=[recorder])
        assert recorder.calls  # the hooks ran until the loss stopped being finite
        for W, W_kept in zip(initial, model.get_weights()):
            np.testing.assert_array_equal(W_kept, W)


class Vandal(fm.Callback):
    """After batch 1, writes `value` at `position` (a slice: every row is touched, whatever the
    order of the batches) of one of the sparse X's arrays."""

    def __init__(self, X, array, position, value):
        super().__init__()
        self.X, self.array, self.position, self.value = X, array, position, value

    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            getattr(self.X, self.array)[self.position] = self.value


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("array, position, value, says", [
    ("indices", slice(None), 10_000, r"column index 10000 \(entry \d+ of indices\) is out of range for 10 columns"),
    ("indptr", slice(1, None), 10**9, r"row \d+ now spans \[\d+, \d+\) of indptr, outside the \d+ entries"),
    ("indptr", slice(1, None), -5, r"row \d+ now spans \[-?\d+, -?\d+\) of indptr"),
    ("data", slice(None), np.nan, r"it holds NaN or infinity \(entry \d+ of data\)"),
])
def test_a_hook_that_breaks_the_sparse_arrays_is_a_value_error(shuffle, array, position, value, says):
    X, y = sparse_data()
    X_sparse = scipy_sparse.csr_matrix(X)
    model = dropout_model()
    with pytest.raises(ValueError, match="the sparse X changed during training: " + says):
        model.fit(X_sparse, y, epochs=2, batch_size=16, shuffle=shuffle, verbose=0,
                  callbacks=[Vandal(X_sparse, array, position, value)])
    assert all(np.isfinite(W).all() for W in model.get_weights())
