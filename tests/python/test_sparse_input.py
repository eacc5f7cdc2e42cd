"""Sparse X (SciPy CSR, CSC, COO) trains, predicts and scores without being made dense: the engine's
first layer runs on the CSR arrays themselves. Results equal those on the dense X (the same sums
over the stored entries, in another order: 1e-12 in float64), weights after several shuffled
epochs included; malformed CSR arrays raise ValueError naming the problem; a large, very sparse
fit stays far below the memory of its dense twin."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core
from fastmlp._sparse import engine_input

scipy_sparse = pytest.importorskip("scipy.sparse")
pytest.importorskip("sklearn")

TIGHT = dict(rtol=1e-12, atol=1e-12)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short fits do not converge; not the point here
        return fn(*args, **kwargs)


def sparse_data(n=120, d=12, seed=0):
    """About 70% zeros, rows 5 and 40 empty, column 7 never used; 3 classes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.3)
    X[[5, 40]] = 0.0
    X[:, 7] = 0.0
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] + X[:, 2] > 0.3)
    return X, y


def formats(X):
    csr = scipy_sparse.csr_matrix(X)
    return {"csr": csr, "csc": csr.tocsc(), "coo": csr.tocoo()}


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_an_mlp_trained_on_sparse_x_has_the_dense_weights(fmt, solver):
    X, y = sparse_data()
    settings = dict(hidden_layer_sizes=(9, 5), solver=solver, max_iter=6, batch_size=16, random_state=3,
                    dtype="float64", alpha=1e-3)
    dense = quiet(fm.MLPClassifier(**settings).fit, X, y)
    sparse = quiet(fm.MLPClassifier(**settings).fit, formats(X)[fmt], y)
    assert sparse.n_iter_ == dense.n_iter_
    for W, W_sparse in zip(dense.coefs_ + dense.intercepts_, sparse.coefs_ + sparse.intercepts_):
        np.testing.assert_allclose(W_sparse, W, **TIGHT)
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, **TIGHT)
    # The column that never appears got no gradient but the penalty's, exactly as on the dense X.
    np.testing.assert_allclose(sparse.coefs_[0][7], dense.coefs_[0][7], **TIGHT)
    np.testing.assert_allclose(sparse.predict_proba(formats(X)[fmt]), dense.predict_proba(X), **TIGHT)
    np.testing.assert_array_equal(sparse.predict(formats(X)[fmt]), dense.predict(X))
    assert sparse.score(formats(X)[fmt], y) == dense.score(X, y)


def test_partial_fit_early_stopping_and_validation_data_take_sparse_x():
    X, y = sparse_data(n=200)
    X_sparse = scipy_sparse.csr_matrix(X)
    settings = dict(hidden_layer_sizes=(6,), random_state=0, dtype="float64", batch_size=20)
    dense, sparse = fm.MLPClassifier(**settings), fm.MLPClassifier(**settings)
    for start in range(0, 200, 50):
        dense.partial_fit(X[start:start + 50], y[start:start + 50], classes=[0, 1, 2])
        sparse.partial_fit(X_sparse[start:start + 50], y[start:start + 50], classes=[0, 1, 2])
    np.testing.assert_allclose(sparse.coefs_[0], dense.coefs_[0], **TIGHT)
    stopped = dict(settings, early_stopping=True, max_iter=30, n_iter_no_change=3)
    dense = quiet(fm.MLPClassifier(**stopped).fit, X, y)
    sparse = quiet(fm.MLPClassifier(**stopped).fit, X_sparse, y)
    np.testing.assert_allclose(sparse.validation_scores_, dense.validation_scores_, **TIGHT)
    np.testing.assert_allclose(sparse.coefs_[1], dense.coefs_[1], **TIGHT)
    regressor = dict(hidden_layer_sizes=(4,), random_state=0, dtype="float64", max_iter=5)
    target = X[:, 0] - 2 * X[:, 3]
    dense = quiet(fm.MLPRegressor(**regressor).fit, X[:150], target[:150],
                  validation_data=(X[150:], target[150:]))
    sparse = quiet(fm.MLPRegressor(**regressor).fit, X_sparse[:150], target[:150],
                   validation_data=(X_sparse[150:], target[150:]))
    np.testing.assert_allclose(sparse.validation_loss_curve_, dense.validation_loss_curve_, **TIGHT)
    assert sparse.score(X_sparse, target) == pytest.approx(dense.score(X, target), rel=1e-12)


@pytest.mark.parametrize("make", [
    lambda: fm.Perceptron(max_iter=8, random_state=0),
    lambda: fm.LogisticRegression(),
    lambda: fm.LogisticRegression(solver="adam", max_iter=5, random_state=0),
    lambda: fm.LinearSVM(max_iter=8, random_state=0),
])
def test_the_linear_models_train_on_sparse_x_as_on_dense(make):
    X, y = sparse_data()
    dense = quiet(make().fit, X, y)
    for fmt, X_sparse in formats(X).items():
        sparse = quiet(make().fit, X_sparse, y)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, **TIGHT, err_msg=fmt)
        np.testing.assert_allclose(sparse.intercept_, dense.intercept_, **TIGHT, err_msg=fmt)
        np.testing.assert_allclose(sparse.decision_function(X_sparse), dense.decision_function(X), **TIGHT)


def test_sequential_fits_and_predicts_sparse_x():
    X, y = sparse_data()
    models = []
    for data in (X, scipy_sparse.csr_matrix(X)):
        model = fm.Sequential([fm.Dense(8, activation="relu"), fm.Dense(3, activation="softmax")],
                              dtype="float64", seed=4)
        model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=0.01))
        model.fit(data, y, epochs=4, batch_size=10, validation_split=0.2, verbose=0)
        models.append((model, data))
    (dense, X_dense), (sparse, X_sparse) = models
    for a, b in zip(dense.get_weights(), sparse.get_weights()):
        np.testing.assert_allclose(b, a, **TIGHT)
    np.testing.assert_allclose(sparse.history.history["val_loss"], dense.history.history["val_loss"], **TIGHT)
    np.testing.assert_allclose(sparse.predict(X_sparse), dense.predict(X_dense), **TIGHT)
    assert sparse.evaluate(X_sparse, y)["loss"] == pytest.approx(dense.evaluate(X_dense, y)["loss"], rel=1e-12)
    for (dW, db), (dW_s, db_s) in zip(dense.gradients(X_dense, y), sparse.gradients(X_sparse, y)):
        np.testing.assert_allclose(dW_s, dW, **TIGHT)
        np.testing.assert_allclose(db_s, db, **TIGHT)
    with pytest.raises(ValueError, match="takes dense arrays only"):
        sparse.forward(X_sparse)


def test_the_engine_reads_scipys_arrays_without_a_copy():
    X = scipy_sparse.random(50, 30, density=0.2, format="csr", dtype=np.float64, random_state=0)
    for index_dtype in (np.int32, np.int64):
        X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
        engine = engine_input(X, np.float64)
        assert isinstance(engine, _core.CsrMatrix) and engine.shape == (50, 30)
        for name in ("data", "indices", "indptr"):
            assert np.shares_memory(getattr(engine, name), getattr(X, name)), name
        assert engine.indices.dtype == index_dtype
    # float32 values for a float64 network are converted once; the engine refuses a mismatch itself.
    network = _core.Network64(30, [_core.LayerSpec(units=2, activation="identity")])
    mismatched = _core.CsrMatrix(X.data.astype(np.float32), X.indices, X.indptr, X.shape)
    with pytest.raises(ValueError, match="float32 values but the network computes in float64"):
        network.predict(mismatched)
    np.testing.assert_allclose(network.predict(engine_input(X, np.float64)), network.predict(X.toarray()), **TIGHT)


def test_arrays_changed_between_passes_are_checked_again():
    """The engine reads the caller's arrays: a callback that corrupts them between two epochs gets a
    ValueError at the next pass, not a read outside the arrays."""
    X, y = sparse_data()
    X_sparse = scipy_sparse.csr_matrix(X)

    class Corrupt(fm.Callback):
        def on_epoch_end(self, epoch, logs=None):
            X_sparse.indices[3] = 10_000

    model = fm.Sequential([fm.Dense(3, activation="softmax")], dtype="float64")
    model.compile(loss="cross_entropy")
    with pytest.raises(ValueError, match="column index 10000 .* out of range for 12 columns"):
        model.fit(X_sparse, y, epochs=3, verbose=0, callbacks=[Corrupt()])
    assert len(model.history.history["loss"]) == 1


def malformed(kind):
    X = scipy_sparse.csr_matrix(np.array([[1.0, 0, 2], [0, 0, 0], [0, 3.0, 0], [4.0, 0, 5.0]]))
    if kind == "index out of range":
        X.indices[2] = 3
    elif kind == "negative index":
        X.indices[0] = -2
    elif kind == "indptr decreasing":
        X.indptr[2] = 0
    elif kind == "indptr beyond data":
        X.indptr[-1] = 9
    return X


@pytest.mark.parametrize("kind, scipy_says, engine_says", [
    ("index out of range", "indices must be < 3",
     r"column index 3 \(entry 2 of indices\) is out of range for 3 columns"),
    ("negative index", "indices must be >= 0", r"column index -2 \(entry 0 of indices\) is out of range"),
    ("indptr decreasing", "indptr must be a non-decreasing sequence",
     r"indptr is not non-decreasing: indptr\[2\] = 0 < indptr\[1\] = 2"),
    ("indptr beyond data", "Last value of index pointer",
     r"indptr ends at 9 but data and indices hold only 5 entries"),
])
def test_malformed_csr_arrays_raise_value_error_naming_the_problem(kind, scipy_says, engine_says):
    """Checked before SciPy or scikit-learn read them (SciPy's own check, which names the problem);
    a CSR matrix that goes to the engine as it is meets the engine's check."""
    X, y = malformed(kind), np.array([0, 1, 0, 1])
    fitted = quiet(fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit, np.eye(4, 3), y)
    sequential = fm.Sequential([fm.Dense(2, activation="softmax")], input_dim=3, dtype="float64")
    sequential.compile(loss="cross_entropy")
    for call in (lambda: fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y),
                 lambda: fitted.predict(X), lambda: fitted.predict_proba(X), lambda: fitted.score(X, y),
                 lambda: fitted.partial_fit(X, y), lambda: fm.LogisticRegression().fit(X, y),
                 lambda: sequential.fit(X, y, verbose=0), lambda: sequential.predict(X),
                 lambda: engine_input(X, np.float32)):
        with pytest.raises(ValueError, match=f"malformed CSR matrix: {scipy_says}"):
            quiet(call)
    with pytest.raises(ValueError, match=engine_says):
        engine_input(X, np.float64)  # already CSR of the network's dtype: straight to the engine


def test_malformed_coo_and_csc_matrices_are_refused_before_conversion():
    coo = scipy_sparse.coo_matrix(np.eye(4, 3))
    coo.col[1] = 5
    csc = scipy_sparse.csc_matrix(np.eye(4, 3))
    csc.indices[0] = 4
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"malformed COO matrix: indices of axis 1 must lie in \[0, 3\), found 0 to 5"):
        fm.MLPClassifier(max_iter=2).fit(coo, y)
    with pytest.raises(ValueError, match="malformed CSC matrix: indices must be < 4"):
        fm.MLPClassifier(max_iter=2).fit(csc, y)


def test_csr_matrix_refuses_arrays_that_are_not_csr_arrays():
    data, indices, indptr = np.ones(2), np.array([0, 1], dtype=np.int32), np.array([0, 1, 2], dtype=np.int32)
    with pytest.raises(ValueError, match="indices and indptr must have one dtype"):
        _core.CsrMatrix(data, indices, indptr.astype(np.int64), (2, 2))
    with pytest.raises(ValueError, match="indices must be int32 or int64, got uint8"):
        _core.CsrMatrix(data, indices.astype(np.uint8), indptr, (2, 2))
    with pytest.raises(ValueError, match="data must be float32 or float64"):
        _core.CsrMatrix(data.astype(np.int64), indices, indptr, (2, 2))
    with pytest.raises(ValueError, match="data has 2 entries but indices has 1"):
        _core.CsrMatrix(data, indices[:1], indptr, (2, 2))
    with pytest.raises(ValueError, match="indptr has 3 entries; a CSR matrix of 5 rows needs rows"):
        _core.CsrMatrix(data, indices, indptr, (5, 2))
    with pytest.raises(ValueError, match="must be C-contiguous"):
        _core.CsrMatrix(np.ones(4)[::2], indices, indptr, (2, 2))
    with pytest.raises(TypeError, match="must be a NumPy array"):
        _core.CsrMatrix([1.0, 1.0], indices, indptr, (2, 2))


def test_pipelines_of_sparse_encoders_and_an_mlp_run():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    rng = np.random.RandomState(1)
    X = np.column_stack([rng.choice(["a", "b", "c", "d"], 200), rng.choice(["x", "y"], 200)])
    y = (X[:, 0] == "a") ^ (X[:, 1] == "y")
    from sklearn.neural_network import MLPClassifier
    scores = []
    for make in (fm.MLPClassifier, MLPClassifier):  # an XOR of two categories: the hidden layer is needed
        pipeline = make_pipeline(OneHotEncoder(), make(hidden_layer_sizes=(8,), learning_rate_init=0.01,
                                                       max_iter=300, random_state=0))
        quiet(pipeline.fit, X, y)
        scores.append(pipeline.score(X, y))
    assert scipy_sparse.issparse(pipeline[0].transform(X))
    assert scores == [1.0, 1.0]
    texts = [f"{word} {other}" for word, other in zip(rng.choice(["good", "great", "bad", "awful"], 120),
                                                      rng.choice(["film", "play", "book"], 120))]
    labels = np.array([text.split()[0] in ("good", "great") for text in texts])
    pipeline = make_pipeline(TfidfVectorizer(), fm.MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01,
                                                                 max_iter=200, random_state=0))
    quiet(pipeline.fit, texts, labels)
    assert pipeline.score(texts, labels) == 1.0


# A fit on 200,000 × 50,000 at 0.05% density (5 million stored values, 40 MB of CSR arrays): as a
# dense float32 array it would take 40 GB. The child process reports its peak resident memory.
LARGE_FIT = textwrap.dedent("""
    import resource, warnings
    import numpy as np
    import scipy.sparse
    import fastmlp as fm
    rows, cols, per_row = 200_000, 50_000, 25
    rng = np.random.default_rng(0)
    indices = rng.integers(0, cols, rows * per_row).astype(np.int32)
    X = scipy.sparse.csr_matrix((rng.random(rows * per_row, dtype=np.float32), indices,
                                 np.arange(0, rows * per_row + 1, per_row, dtype=np.int32)), shape=(rows, cols))
    y = (np.asarray(X[:, :2500].sum(axis=1)).ravel() > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fm.MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, batch_size=500, random_state=0).fit(X, y)
    predicted = model.predict(X[:1000])
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, model.n_iter_, predicted.shape[0])
""")


def test_a_large_very_sparse_fit_stays_far_below_the_dense_size():
    dense_bytes = 200_000 * 50_000 * 4
    done = subprocess.run([sys.executable, "-c", LARGE_FIT], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    peak, n_iter, predicted = (int(word) for word in done.stdout.split())
    assert n_iter == 1 and predicted == 1000
    # Far below a quarter of the dense size, and below what a dense copy of even 5% of it would need.
    assert peak < dense_bytes / 4
    assert peak < 2 * 2 ** 30, f"peak resident memory {peak / 2 ** 20:.0f} MiB"
