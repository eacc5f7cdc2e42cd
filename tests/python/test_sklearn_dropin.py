"""Code written for scikit-learn runs unchanged on fastmlp's estimators: each behaviour is the
same call made on scikit-learn's estimator and on fastmlp's, compared."""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import fastmlp as fm

sklearn = pytest.importorskip("sklearn")
from sklearn import linear_model, neural_network  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 4)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------- float32 is preserved
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("input_dtype", [np.float32, np.float64])
def test_prediction_and_weight_dtypes_follow_scikit_learn(data, dtype, input_dtype):
    X, y = data
    X = X.astype(input_dtype)
    ours = quiet(fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, dtype=dtype, random_state=0).fit, X, y)
    theirs = quiet(neural_network.MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit, X, y)
    assert ours.coefs_[0].dtype == theirs.coefs_[0].dtype == input_dtype
    assert ours.intercepts_[0].dtype == theirs.intercepts_[0].dtype
    for X_new in (X.astype(np.float32), X.astype(np.float64)):
        assert ours.predict_proba(X_new).dtype == theirs.predict_proba(X_new).dtype
    regressor = quiet(fm.MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, dtype=dtype).fit, X, X[:, 0])
    sk_regressor = quiet(neural_network.MLPRegressor(hidden_layer_sizes=(3,), max_iter=3).fit, X, X[:, 0])
    for X_new in (X.astype(np.float32), X.astype(np.float64)):
        assert regressor.predict(X_new).dtype == sk_regressor.predict(X_new).dtype


def test_linear_models_preserve_float32(data):
    X, y = data
    X32 = X.astype(np.float32)
    ours = fm.LogisticRegression().fit(X32, y)
    theirs = linear_model.LogisticRegression().fit(X32, y)
    assert ours.coef_.dtype == theirs.coef_.dtype == np.float32
    assert ours.decision_function(X32).dtype == theirs.decision_function(X32).dtype
    assert ours.predict_proba(X32).dtype == theirs.predict_proba(X32).dtype


def test_float32_fit_survives_a_model_file(data, tmp_path):
    X, y = data
    X32 = X.astype(np.float32)
    model = quiet(fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=3).fit, X32, y)
    model.save(tmp_path / "m.fmlp")
    loaded = fm.load(tmp_path / "m.fmlp")
    assert loaded.coefs_[0].dtype == np.float32
    np.testing.assert_array_equal(loaded.predict_proba(X32), model.predict_proba(X32))


# ---------------------------------------------------------------------- coefs_ and intercepts_
def test_in_place_edits_of_coefs_reach_predictions(data):
    X, y = data
    for make in (lambda: fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0),
                 lambda: neural_network.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)):
        model = quiet(make().fit, X, y)
        before = model.predict_proba(X)
        model.coefs_[1][:] = 0.0       # the output layer sees nothing of the hidden layer
        model.intercepts_[1][:] = 2.0  # and says "class 1" with p = sigmoid(2)
        np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-2.0)), rtol=1e-6)
        assert not np.allclose(before, model.predict_proba(X))


def test_assigning_coefs_and_an_item_reaches_the_model(data):
    X, y = data
    model = quiet(fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, dtype="float64").fit, X, y)
    reference = quiet(neural_network.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit, X, y)
    for target in (model, reference):
        target.coefs_ = [np.full((4, 3), 0.1), np.full((3, 1), -0.2)]
        target.intercepts_ = [np.zeros(3), np.array([0.3])]
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), rtol=1e-12)
    model.coefs_[0] = np.full((4, 3), -0.1)
    reference.coefs_[0] = np.full((4, 3), -0.1)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), rtol=1e-12)
    with pytest.raises(ValueError, match=r"coefs_\[0\] must have shape \(4, 3\)"):
        model.coefs_[0] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="one per layer"):
        model.coefs_ = [np.zeros((4, 3))]


def test_edited_coefs_are_saved_and_pickled(data, tmp_path):
    X, y = data
    model = quiet(fm.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5).fit, X, X[:, 0])
    model.coefs_[0] *= 2.0
    expected = model.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), expected)
    model.coefs_[0] *= 0.5
    model.save(tmp_path / "m.fmlp")
    np.testing.assert_array_equal(fm.load(tmp_path / "m.fmlp").predict(X), model.predict(X))


def test_coef_of_linear_models_is_writable(data):
    X, y = data
    ours = fm.LogisticRegression().fit(X, y)
    theirs = linear_model.LogisticRegression().fit(X, y)
    for model in (ours, theirs):
        model.coef_[0, :] = [1.0, -1.0, 0.5, 0.0]
        model.intercept_[0] = 0.25
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), rtol=1e-12)


def test_coefs_after_a_warm_start_fit_are_the_trained_weights(data):
    X, y = data
    model = quiet(fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, warm_start=True, random_state=0).fit, X, y)
    first = model.coefs_
    quiet(model.fit, X, y)
    assert not np.allclose(first[0], model.coefs_[0])
    np.testing.assert_array_equal(model.coefs_[0], model.model_.layers[0].W)


# ---------------------------------------------------------------------- partial_fit, one class, Poisson
def test_partial_fit_with_other_classes_raises_as_scikit_learn(data):
    X, y = data
    for model in (fm.MLPClassifier(hidden_layer_sizes=(3,)), neural_network.MLPClassifier(hidden_layer_sizes=(3,)),
                  fm.Perceptron(), linear_model.Perceptron()):
        model.partial_fit(X, y, classes=[0, 1])
        model.partial_fit(X, y, classes=np.array([0, 1]))
        # scikit-learn: "... is not the same as on last call to partial_fit"; fastmlp names the first call
        with pytest.raises(ValueError, match=r"classes=.*is not the same as on (last|the first) call to partial_fit"):
            model.partial_fit(X, y, classes=[0, 1, 2])


def test_one_class_is_fitted_and_predicted_as_scikit_learn(data):
    X, _ = data
    y = np.array(["only"] * X.shape[0])
    ours = quiet(fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit, X, y)
    theirs = quiet(neural_network.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit, X, y)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.score(X, y) == theirs.score(X, y) == 1.0
    np.testing.assert_array_equal(ours.predict_proba(X), np.ones((X.shape[0], 1)))
    assert pickle.loads(pickle.dumps(ours)).predict(X[:3]).tolist() == ["only"] * 3


def test_poisson_loss_as_scikit_learn():
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, (200, 3))
    y = rng.poisson(np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1]))
    settings = dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.01, momentum=0.0, batch_size=200,
                    shuffle=False, max_iter=30, random_state=0, alpha=1e-3)
    ours = quiet(fm.MLPRegressor(loss="poisson", dtype="float64", **settings).fit, X, y)
    theirs = quiet(neural_network.MLPRegressor(loss="poisson", **settings).fit, X, y)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    # full-batch SGD from the same initial weights: the same steps on the same objective
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9)
    for W, W_sk in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(W, W_sk, rtol=1e-9, atol=1e-12)
    # the L2 term of loss_curve_ is taken after the epoch's step, scikit-learn's before (docs/estimators.md)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-6)
    # scikit-learn fits negative targets with a loss that is not defined for them; fastmlp refuses
    with pytest.raises(ValueError, match="negative"):
        fm.MLPRegressor(loss="poisson").fit(X, -np.ones(200))


# ---------------------------------------------------------------------- divergence and warm start
def test_divergence_is_a_value_error_and_a_floating_point_error():
    assert issubclass(fm.DivergenceError, ValueError)
    assert issubclass(fm.DivergenceError, FloatingPointError)


def test_divergence_with_early_stopping_keeps_the_best_weights(data):
    X, _ = data
    X, y = X * 10, 3 * X[:, 0] + 1  # SGD at this learning rate diverges in epoch 12
    settings = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.01, max_iter=200, random_state=0)
    with pytest.raises(ValueError, match="diverged in epoch 12"):
        fm.MLPRegressor(dtype="float64", **settings).fit(X, y)
    ours = fm.MLPRegressor(dtype="float64", early_stopping=True, **settings).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's overflow warnings, then its 200 epochs of NaN
        theirs = neural_network.MLPRegressor(early_stopping=True, **settings).fit(X, y)
    assert ours.n_iter_ == 11  # the epochs before the non-finite one; scikit-learn runs on to max_iter
    np.testing.assert_allclose(ours.best_validation_score_, theirs.best_validation_score_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9)


def test_warm_start_message_is_scikit_learn(data):
    X, y = data
    messages = []
    for model in (fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, warm_start=True),
                  neural_network.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, warm_start=True)):
        quiet(model.fit, X, y)
        with pytest.raises(ValueError) as raised:
            model.fit(X, y + 1)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]


# ---------------------------------------------------------------------- the perceptron
def test_perceptron_takes_scikit_learns_parameters(data):
    X, y = data
    params = dict(penalty="l2", alpha=1e-3, l1_ratio=0.15, fit_intercept=True, tol=1e-3, eta0=0.5,
                  early_stopping=False, validation_fraction=0.2, n_iter_no_change=3, shuffle=False,
                  class_weight={0: 1.0, 1: 2.0}, warm_start=False, max_iter=50, random_state=0)
    ours = quiet(fm.Perceptron(**params).fit, X, y)
    theirs = quiet(linear_model.Perceptron(**params).fit, X, y)
    assert set(linear_model.Perceptron().get_params()) - {"n_jobs", "verbose"} <= set(ours.get_params())
    assert ours.score(X, y) >= 0.9 and theirs.score(X, y) >= 0.9
    with pytest.raises(ValueError, match="l1"):
        fm.Perceptron(penalty="l1").fit(X, y)
    with pytest.raises(ValueError, match="fit_intercept=False"):
        fm.Perceptron(fit_intercept=False).fit(X, y)


def test_a_score_of_exactly_zero_is_a_mistake_as_in_scikit_learn():
    """Worked by hand (eta0 = 1, zero start, samples in order; t = +1 for y = 1, -1 for y = 0; a
    mistake is t·z <= 0 and adds t·x to w, t to b):
    epoch 1: (2,1) t=-1 z=0: w=(-2,-1) b=-1 | (1,3) t=+1 z=-6: w=(-1,2) b=0 | (-1,1) z=3: no change.
    epoch 2: (2,1) z=0 again: w=(-3,1) b=-1 | (1,3) z=-1: w=(-2,4) b=0 | (-1,1) z=6: no change.
    epoch 3: (2,1) z=0: w=(-4,3) b=-1, right as a prediction (step(0) = 0 = y) yet an update;
             (1,3) z=4 and (-1,1) z=6: no change.  epoch 4 changes nothing: converged."""
    X = np.array([[2.0, 1.0], [1.0, 3.0], [-1.0, 1.0]])
    y = np.array([0, 1, 1])
    by_hand = {1: ([[-1, 2]], [0]), 2: ([[-2, 4]], [0]), 3: ([[-4, 3]], [-1]), 10: ([[-4, 3]], [-1])}
    for epochs, (coef, intercept) in by_hand.items():
        ours = quiet(fm.Perceptron(shuffle=False, max_iter=epochs).fit, X, y)
        theirs = quiet(linear_model.Perceptron(shuffle=False, tol=None, max_iter=epochs).fit, X, y)
        for model in (ours, theirs):
            np.testing.assert_array_equal(model.coef_, coef)
            np.testing.assert_array_equal(model.intercept_, intercept)
    assert ours.mistakes_ == [1, 1, 0, 0] and ours.n_iter_ == 4  # epoch 3 updated without a wrong prediction


@pytest.mark.parametrize("epochs", [1, 2, 5, 30])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_perceptron_weights_are_scikit_learns_epoch_by_epoch(epochs, n_classes):
    """Integer features from zero weights meet scores of exactly 0 often; both libraries add the
    same integers, so the weights agree exactly."""
    rng = np.random.default_rng(0)
    X = rng.integers(-3, 4, (60, 4)).astype(float)
    y = np.argmax(X @ rng.integers(-2, 3, (4, 3)) + rng.integers(-1, 2, (60, 3)), axis=1)
    y = y if n_classes == 3 else (y == 1).astype(int)
    ours = quiet(fm.Perceptron(shuffle=False, max_iter=epochs).fit, X, y)
    theirs = quiet(linear_model.Perceptron(shuffle=False, tol=None, max_iter=epochs).fit, X, y)
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_)


def test_perceptron_l2_penalty_decays_as_scikit_learn(data):
    """Rows that are never misclassified only decay w: after the first updates, scikit-learn's
    w·(1 − eta0·alpha) per sample is what the engine's weight decay gives."""
    X, y = data
    params = dict(penalty="l2", alpha=0.01, eta0=1.0, shuffle=False, tol=None, max_iter=1)
    ours = quiet(fm.Perceptron(**params).fit, X, y)
    theirs = quiet(linear_model.Perceptron(**params).fit, X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-12)


def test_perceptron_early_stopping_holds_out_a_validation_set(data):
    X, y = data
    model = fm.Perceptron(early_stopping=True, tol=1e-3, n_iter_no_change=2, max_iter=100,
                          validation_fraction=0.25).fit(X, y)
    assert model.n_iter_ < 100
    assert model.score(X, y) > 0.85


@pytest.mark.parametrize("seed", range(5))  # seed 5 overlaps (70% at best): not easy data
def test_linear_svm_converges_without_warning_on_easy_data(seed):
    from sklearn.datasets import make_blobs
    from sklearn.svm import LinearSVC
    X, y = make_blobs(200, centers=2, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = fm.LinearSVM(random_state=0).fit(X, y)
    reference = quiet(LinearSVC(loss="hinge").fit, X, y)
    assert model.n_iter_ < 1000
    assert model.score(X, y) >= reference.score(X, y)


# ---------------------------------------------------------------------- edges of input
def test_sample_weights_that_overflow_are_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="overflows"):
        fm.MLPClassifier(max_iter=2).fit(X, y, sample_weight=np.full(X.shape[0], 1e307))


def test_uint64_labels_round_trip_through_a_model_file(data, tmp_path):
    X, y = data
    labels = np.array([2 ** 64 - 1, 7], dtype=np.uint64)[y]
    model = quiet(fm.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit, X, labels)
    model.save(tmp_path / "m.fmlp")
    loaded = fm.load(tmp_path / "m.fmlp")
    assert loaded.classes_.dtype == np.uint64
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).dtype == np.uint64


def test_sequential_trains_on_sparse_input_and_names_it_where_it_takes_dense_only(data):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X, y = data
    model = fm.Sequential([fm.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_cross_entropy")
    model.fit(scipy_sparse.csr_matrix(X), y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"X is a sparse matrix \(csr_matrix\); this takes dense arrays only"):
        model.forward(scipy_sparse.csr_matrix(X))


def test_sequential_names_pandas_missing_values(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame({"a": pd.array([1, None] + [2] * (X.shape[0] - 2), dtype="Int64"), "b": X[:, 1]})
    model = fm.Sequential([fm.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_cross_entropy")
    with pytest.raises(ValueError, match=r"missing values .* \['a'\]"):
        model.fit(frame, y, epochs=1)


def test_ctrl_c_stops_fit_with_a_warning_and_a_usable_model(data):
    import signal
    X, y = data
    # A shell without job control starts background jobs with SIGINT ignored (CI may run so);
    # Ctrl-C's Python handler is put in place for the test, as an interactive session has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupt_both_fits(X, y)
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_both_fits(X, y):
    import os
    import signal
    import threading
    for make in (fm.MLPClassifier, neural_network.MLPClassifier):
        model = make(hidden_layer_sizes=(3,), max_iter=10 ** 7, n_iter_no_change=np.inf, tol=0.0)
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.warns(UserWarning, match="Training interrupted by user"):
                model.fit(X, y)
        finally:
            timer.cancel()
        assert 0 < model.n_iter_ < 10 ** 7
        assert model.predict(X).shape == y.shape


# ---------------------------------------------------------------------- sparse input
SPARSE_ESTIMATORS = [
    lambda: fm.MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0, dtype="float64"),
    lambda: fm.MLPRegressor(hidden_layer_sizes=(5,), max_iter=20, random_state=0, dtype="float64"),
    lambda: fm.LogisticRegression(),
    lambda: fm.LinearSVM(max_iter=50, random_state=0),
    lambda: fm.Perceptron(max_iter=20),
]


@pytest.mark.parametrize("make", SPARSE_ESTIMATORS)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_gives_the_dense_results(data, make, fmt):
    """Training and predicting on a sparse X compute the same products on the stored entries only,
    summed in another order: equal to 1e-12 in float64 (tests/python/test_sparse_input.py has the rest)."""
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X, y = data
    X = np.where(np.abs(X) < 0.7, 0.0, X)  # about half the entries zero
    X_sparse = getattr(scipy_sparse.csr_matrix(X), f"to{fmt}")()
    dense = quiet(make().fit, X, y)
    sparse = quiet(make().fit, X_sparse, y)
    for W, W_sparse in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_allclose(W_sparse, W, rtol=1e-12, atol=1e-12)
    method = next(name for name in ("predict_proba", "decision_function", "predict") if hasattr(dense, name))
    np.testing.assert_allclose(getattr(sparse, method)(X_sparse), getattr(dense, method)(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sparse.predict(X_sparse), dense.predict(X), rtol=1e-12, atol=1e-12)
    assert sparse.score(X_sparse, y) == pytest.approx(dense.score(X, y), rel=1e-12)


def test_pipelines_with_sparse_encoders_work_as_in_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    rng = np.random.RandomState(0)
    colours = rng.choice(["red", "green", "blue"], 120)
    sizes = rng.choice(["S", "M", "L", "XL"], 120)
    X = np.column_stack([colours, sizes])
    y = (colours == "red") | (sizes == "XL")
    for make in (fm.MLPClassifier, neural_network.MLPClassifier):
        pipeline = make_pipeline(OneHotEncoder(), make(hidden_layer_sizes=(8,), max_iter=300, random_state=0))
        quiet(pipeline.fit, X, y)
        assert pipeline.score(X, y) == 1.0
    texts = ["good great fine", "bad awful poor", "great good", "poor bad", "fine good", "awful bad"] * 10
    labels = np.array([1, 0, 1, 0, 1, 0] * 10)
    for make in (fm.MLPClassifier, neural_network.MLPClassifier):
        pipeline = make_pipeline(TfidfVectorizer(), make(hidden_layer_sizes=(8,), learning_rate_init=0.01,
                                                         max_iter=200, random_state=0))
        quiet(pipeline.fit, texts, labels)
        assert pipeline.score(texts, labels) == 1.0
