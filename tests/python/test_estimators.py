"""fastmlp's scikit-learn estimators: API, agreement with scikit-learn, interop (Pipeline,
GridSearchCV, cross_val_score, clone, pickle), model files, weights, validation and early
stopping, and the lecture's small truths."""
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import linear_model as sk_linear  # noqa: E402
from sklearn import neural_network as sk_nn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fastmlp as fm  # noqa: E402
from fastmlp import fileformat  # noqa: E402

ALL_ESTIMATORS = ("Perceptron", "LogisticRegression", "LinearSVM", "MLPClassifier", "MLPRegressor")


def blobs(n_samples=90, n_features=4, n_classes=3, seed=0, spread=2.5):
    """Gaussian classes around random centres; labels 0..k-1 in turn."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    centres = rng.standard_normal((n_classes, n_features)) * spread
    return centres[y] + rng.standard_normal((n_samples, n_features)), y


def separable(n_samples=60, n_features=3, seed=0, margin=0.5):
    """Two classes split by a known hyperplane w·x + b = 0, no point closer than `margin`."""
    rng = np.random.default_rng(seed)
    w, b = np.array([1.0, -2.0, 0.5])[:n_features], 0.3
    X = rng.uniform(-3, 3, size=(4 * n_samples, n_features))
    distance = (X @ w + b) / np.linalg.norm(w)
    X = X[np.abs(distance) >= margin][:n_samples]
    return X, (X @ w + b > 0).astype(int), w, b


def regression(n_samples=120, n_features=5, n_targets=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = rng.standard_normal((n_features, n_targets))
    Y = X @ coef + 0.05 * rng.standard_normal((n_samples, n_targets))
    return X, (Y[:, 0] if n_targets == 1 else Y)


def fitted(name, **params):
    """A small fitted estimator of each kind (classifiers on 3 blobs, the regressor on a linear task)."""
    defaults = {
        "Perceptron": {},
        "LogisticRegression": {},
        "LinearSVM": {"max_iter": 2000},
        "MLPClassifier": {"hidden_layer_sizes": (8,), "learning_rate_init": 0.01, "max_iter": 300, "random_state": 0},
        "MLPRegressor": {"hidden_layer_sizes": (8,), "learning_rate_init": 0.01, "max_iter": 300, "random_state": 0},
    }[name]
    estimator = getattr(fm, name)(**{**defaults, **params})
    X, y = regression() if name == "MLPRegressor" else blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return estimator, X, y


def outputs(estimator, X):
    """Everything an estimator predicts for X, for comparing two estimators."""
    methods = ("predict", "predict_proba", "decision_function")
    return {m: getattr(estimator, m)(X) for m in methods if hasattr(estimator, m)}


def assert_same_outputs(first, second, X):
    a, b = outputs(first, X), outputs(second, X)
    assert a.keys() == b.keys()
    for method in a:
        np.testing.assert_array_equal(a[method], b[method], err_msg=method)


# ---------------------------------------------------------------- packaging

def test_import_fastmlp_does_not_import_sklearn():
    code = "import sys, fastmlp; assert 'sklearn' not in sys.modules, 'sklearn was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_sklearn_names_the_extra():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import fastmlp as fm\n"
            "try:\n    fm.MLPClassifier\nexcept ImportError as error:\n    print(error)\n")
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert "pip install 'fastmlp[sklearn]'" in result.stdout


def test_estimators_are_exported_lazily():
    from fastmlp import estimators
    for name in ALL_ESTIMATORS:
        assert getattr(fm, name) is getattr(estimators, name)


# ---------------------------------------------------------------- scikit-learn's names and defaults

@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_mlp_parameters_and_defaults_are_scikit_learns(name):
    ours = getattr(fm, name)().get_params()
    theirs = getattr(sk_nn, name)().get_params()
    assert set(theirs) <= set(ours)
    assert {key: ours[key] for key in theirs} == theirs
    extra = set(ours) - set(theirs)
    assert extra == ({"class_weight", "monitor", "dtype"} if name == "MLPClassifier" else {"monitor", "dtype"})


@pytest.mark.parametrize("name,solver", [("MLPClassifier", "sgd"), ("MLPRegressor", "sgd"),
                                         ("MLPClassifier", "adam"), ("MLPRegressor", "adam")])
def test_mlp_trains_like_scikit_learn(name, solver):
    """Same random_state → same initial weights; same data order (shuffle=False) → SGD takes
    exactly scikit-learn's steps (alpha, momentum and the regressor's ½ included); Adam differs
    only by where ε sits."""
    X, y = (regression(n_samples=80) if name == "MLPRegressor" else blobs(n_samples=80))
    X = StandardScaler().fit_transform(X)
    # batch_size divides n: scikit-learn decays a smaller last batch by alpha/its rows, fastmlp by alpha/batch_size
    params = dict(hidden_layer_sizes=(7, 5), activation="tanh", solver=solver, alpha=0.01, batch_size=16,
                  learning_rate_init=0.01, max_iter=15, shuffle=False, random_state=3, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = getattr(fm, name)(dtype="float64", **params).fit(X, y)
        theirs = getattr(sk_nn, name)(**params).fit(X, y)
    tolerance = 1e-12 if solver == "sgd" else 1e-4
    for W_ours, W_theirs in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(W_ours, W_theirs, atol=tolerance, rtol=0)
    # scikit-learn adds the L2 term before each batch's step, fastmlp after the epoch's last
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-3)
    assert ours.n_iter_ == theirs.n_iter_ == 15
    assert (ours.n_layers_, ours.n_outputs_, ours.out_activation_) == \
        (theirs.n_layers_, theirs.n_outputs_, theirs.out_activation_)
    assert ours.t_ == theirs.t_ == 15 * 80


def test_logistic_regression_finds_scikit_learns_optimum():
    X, y = blobs(n_samples=120, spread=1.0)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=y.shape[0])
    for class_weight in (None, "balanced"):
        ours = fm.LogisticRegression(C=0.5, class_weight=class_weight, tol=1e-8, max_iter=500).fit(
            X, y, sample_weight=weights)
        theirs = sk_linear.LogisticRegression(C=0.5, class_weight=class_weight, tol=1e-10, max_iter=1000).fit(
            X, y, sample_weight=weights)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-5)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


def test_binary_logistic_regression_is_one_sigmoid_unit():
    X, y, _, _ = separable()
    model = fm.LogisticRegression().fit(X, y)
    assert model.coef_.shape == (1, 3) and model.intercept_.shape == (1,)
    assert model.model_.layers[-1].activation == "sigmoid" and model.model_.loss == "binary_cross_entropy"
    z = X @ model.coef_[0] + model.intercept_[0]
    np.testing.assert_allclose(model.decision_function(X), z, rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    X3, y3 = blobs()
    multi = fm.LogisticRegression().fit(X3, y3)
    assert multi.coef_.shape == (3, 4) and multi.model_.layers[-1].activation == "softmax"


# ---------------------------------------------------------------- scikit-learn interop

@pytest.mark.parametrize("name", ALL_ESTIMATORS)
def test_pipeline_cross_val_score_and_clone(name):
    estimator, X, y = fitted(name)
    pipeline = make_pipeline(StandardScaler(), clone(estimator))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.min() > (0.8 if name != "MLPRegressor" else 0.95)
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params()
    assert not hasattr(copy, "n_features_in_")
    with pytest.raises(NotFittedError):
        copy.predict(X)


def test_grid_search_picks_a_hidden_layer_for_xor():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    search = GridSearchCV(fm.MLPClassifier(solver="lbfgs", random_state=0, max_iter=300),
                          {"hidden_layer_sizes": [(), (16,)], "activation": ["tanh", "relu"]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_params_["hidden_layer_sizes"] == (16,)
    assert search.best_score_ > 0.9
    assert isinstance(search.best_estimator_, fm.MLPClassifier)


@pytest.mark.parametrize("name", ALL_ESTIMATORS)
def test_pickle_round_trip_goes_through_fmlp_bytes(name):
    estimator, X, y = fitted(name)
    data = pickle.dumps(estimator)
    restored = pickle.loads(data)
    assert type(restored) is type(estimator)
    assert restored.get_params() == estimator.get_params()
    assert_same_outputs(estimator, restored, X)
    state = estimator.__getstate__()
    assert set(state) == {"fmlp"}
    description, _ = fileformat.from_bytes(state["fmlp"])
    assert description["kind"] == name
    unfitted = pickle.loads(pickle.dumps(clone(estimator)))
    assert unfitted.get_params() == estimator.get_params() and not hasattr(unfitted, "n_features_in_")


# ---------------------------------------------------------------- model files

@pytest.mark.parametrize("name", ALL_ESTIMATORS)
def test_save_load_round_trip(name, tmp_path):
    estimator, X, y = fitted(name, dtype="float32")
    path = tmp_path / f"{name}.fmlp"
    estimator.save(path)
    loaded = fm.load(path)
    assert type(loaded) is type(estimator)
    assert loaded.get_params() == estimator.get_params()
    assert_same_outputs(estimator, loaded, X)
    assert loaded.n_features_in_ == X.shape[1] and loaded.n_iter_ == estimator.n_iter_
    if hasattr(estimator, "classes_"):
        np.testing.assert_array_equal(loaded.classes_, estimator.classes_)
    if hasattr(estimator, "loss_curve_"):
        assert loaded.loss_curve_ == estimator.loss_curve_
    description, _ = fileformat.load(path)
    assert description["kind"] == name
    assert description["estimator"]["params"]["dtype"] == "float32"


def test_saved_file_keeps_string_classes_and_tuple_parameters(tmp_path):
    X, y = blobs()
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = fm.MLPClassifier(hidden_layer_sizes=(6, 4), activation=["tanh", "leaky_relu"],
                             class_weight={"setosa": 2.0}, solver="lbfgs", random_state=0).fit(X, labels)
    model.save(tmp_path / "m.fmlp")
    description, _ = fileformat.load(tmp_path / "m.fmlp")
    assert description["classes"] == ["setosa", "versicolor", "virginica"]
    loaded = fm.load(tmp_path / "m.fmlp")
    assert loaded.hidden_layer_sizes == (6, 4) and loaded.activation == ["tanh", "leaky_relu"]
    assert loaded.class_weight == {"setosa": 2.0}
    assert list(loaded.predict(X)) == list(model.predict(X))


def test_load_refuses_a_network_that_does_not_match_the_parameters(tmp_path):
    model, X, y = fitted("MLPClassifier")
    description, tensors = model._fmlp_payload()
    description["estimator"]["params"]["hidden_layer_sizes"] = {"tuple": [9]}
    fileformat.save(tmp_path / "bad.fmlp", description, tensors, with_digest=True)
    with pytest.raises(fm.FormatError, match="layers"):
        fm.load(tmp_path / "bad.fmlp")
    description, tensors = model._fmlp_payload()
    description["classes"] = [0, 1]
    fileformat.save(tmp_path / "bad2.fmlp", description, tensors, with_digest=True)
    with pytest.raises(fm.FormatError, match="output units"):
        fm.load(tmp_path / "bad2.fmlp")
    description, tensors = model._fmlp_payload()
    description["estimator"]["params"]["no_such_parameter"] = 1
    fileformat.save(tmp_path / "bad3.fmlp", description, tensors, with_digest=True)
    with pytest.raises(fm.FormatError, match="no_such_parameter"):
        fm.load(tmp_path / "bad3.fmlp")


def test_save_before_fit_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError):
        fm.MLPRegressor().save(tmp_path / "x.fmlp")


# ---------------------------------------------------------------- partial_fit and warm_start

def test_partial_fit_needs_classes_then_learns_epoch_by_epoch():
    X, y = blobs(n_samples=150)
    model = fm.MLPClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    model.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    for _ in range(30):
        model.partial_fit(X, y)
    assert model.n_iter_ == 1 and model.t_ == 50 + 30 * 150
    assert len(model.loss_curve_) == 31 and model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
    assert model.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not in classes_"):
        model.partial_fit(X[:3], np.array([0, 1, 5]))


def test_partial_fit_regressor_and_its_absence_for_lbfgs():
    X, y = regression()
    model = fm.MLPRegressor(hidden_layer_sizes=(10,), learning_rate_init=0.01, random_state=0)
    for _ in range(40):
        model.partial_fit(X, y)
    assert model.score(X, y) > 0.9
    assert not hasattr(fm.MLPRegressor(solver="lbfgs"), "partial_fit")
    assert not hasattr(fm.LogisticRegression(), "partial_fit")
    assert hasattr(fm.LogisticRegression(solver="sgd"), "partial_fit")


def test_warm_start_continues_from_the_previous_weights():
    X, y = blobs()
    params = dict(hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model = fm.MLPClassifier(warm_start=True, **params).fit(X, y)
    first_curve = list(model.loss_curve_)
    before = model.coefs_
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert len(model.loss_curve_) == 10 and model.loss_curve_[:5] == first_curve
    assert model.loss_curve_[5] < first_curve[0]
    with pytest.warns(ConvergenceWarning):
        cold = fm.MLPClassifier(**params).fit(X, y).fit(X, y)
    assert len(cold.loss_curve_) == 5 and cold.loss_curve_ == first_curve
    assert not np.allclose(before[0], model.coefs_[0])
    with pytest.raises(ValueError, match="same classes"):
        model.fit(X[y < 2], y[y < 2])


# ---------------------------------------------------------------- weights

def test_class_weight_balanced_equals_numpy_sample_weights():
    X, y = blobs(n_samples=100)
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:10], np.flatnonzero(y == 2)[:20]]
    X, y = X[keep], y[keep]
    counts = np.bincount(y)
    expected = (y.shape[0] / (3 * counts))[y]
    # full-batch gradient descent in a fixed order: the same weights give the same trajectory
    params = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate_init=0.1, alpha=0.1, shuffle=False, tol=0.0,
                  max_iter=100, random_state=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        balanced = fm.MLPClassifier(class_weight="balanced", **params).fit(X, y)
        weighted = fm.MLPClassifier(**params).fit(X, y, sample_weight=expected)
        plain = fm.MLPClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(balanced.predict_proba(X), weighted.predict_proba(X))
    assert not np.allclose(balanced.predict_proba(X), plain.predict_proba(X), atol=1e-3)
    # weights count like repeated rows: seven times every weight is seven times the data, for
    # which scikit-learn's penalty alpha/2·‖W‖²/n is seven times weaker
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scaled = fm.MLPClassifier(**{**params, "alpha": 0.7}).fit(X, y, sample_weight=7 * expected)
    np.testing.assert_allclose(scaled.predict_proba(X), weighted.predict_proba(X), rtol=1e-10)


@pytest.mark.parametrize("name", ["LogisticRegression", "LinearSVM", "MLPClassifier", "MLPRegressor"])
def test_weight_two_equals_a_duplicated_row_in_full_batch_training(name):
    X, y = regression(n_samples=40) if name == "MLPRegressor" else blobs(n_samples=40)
    params = {"dtype": "float64", "random_state": 0}
    if name.startswith("MLP"):
        params.update(hidden_layer_sizes=(6,), max_iter=40, learning_rate_init=0.01, tol=0.0)
    elif name == "LinearSVM":
        params.update(max_iter=40, tol=0.0)
    weights = np.ones(y.shape[0])
    weights[:7] = 2.0
    X_rep, y_rep = np.r_[X, X[:7]], np.r_[y, y[:7]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = getattr(fm, name)(**params).fit(X, y, sample_weight=weights)
        repeated = getattr(fm, name)(**params).fit(X_rep, y_rep)
    for first, second in zip(weighted.coefs_ + weighted.intercepts_, repeated.coefs_ + repeated.intercepts_):
        np.testing.assert_allclose(first, second, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)


def test_zero_weights_and_a_single_weighted_class_are_refused():
    X, y = blobs()
    with pytest.raises(ValueError, match="all zero"):
        fm.MLPClassifier().fit(X, y, sample_weight=np.zeros(y.shape[0]))
    with pytest.raises(ValueError, match="only one class"):
        fm.LogisticRegression().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="sample_weight"):
        fm.MLPClassifier().fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="label 'cat'"):
        fm.MLPClassifier(class_weight={"cat": 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="balanced"):
        fm.MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


# ---------------------------------------------------------------- validation data and early stopping

def test_validation_data_gives_curves_side_by_side():
    X, y = blobs(n_samples=150, seed=1)
    X_val, y_val = blobs(n_samples=60, seed=1)  # same centres, new noise... same seed: same centres
    X_val = X_val + np.random.default_rng(5).normal(scale=0.3, size=X_val.shape)
    model = fm.MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=40, random_state=0,
                             dtype="float64")
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y, validation_data=(X_val, y_val))
    assert len(model.loss_curve_) == len(model.validation_loss_curve_) == len(model.validation_scores_) == 40
    assert model.validation_scores_[-1] == model.score(X_val, y_val)
    penalty = 0.5 * model.alpha / 150 * sum((W ** 2).sum() for W in model.coefs_)
    P = model.predict_proba(X_val)
    log_loss = -np.mean(np.log(P[np.arange(y_val.shape[0]), y_val]))
    assert model.validation_loss_curve_[-1] == pytest.approx(log_loss + penalty, rel=1e-10)
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_validation_data_with_weights_for_a_regressor():
    X, y = regression(n_samples=100)
    X_val, y_val = regression(n_samples=30, seed=1)
    w_val = np.linspace(0.5, 2, 30)
    model = fm.MLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=20, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y, validation_data=(X_val, y_val, w_val))
    assert model.validation_scores_[-1] == pytest.approx(model.score(X_val, y_val, sample_weight=w_val), rel=1e-5)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(X, y, validation_data=X_val)


@pytest.mark.parametrize("monitor", ["val_score", "val_loss"])
def test_early_stopping_restores_the_best_weights(monitor):
    X, y = blobs(n_samples=120, spread=1.0)
    X_val, y_val = X[:40] + 0.5, y[:40]
    model = fm.MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.05, max_iter=300, n_iter_no_change=5,
                             early_stopping=True, monitor=monitor, random_state=0, dtype="float64")
    model.fit(X[40:], y[40:], validation_data=(X_val, y_val))
    assert model.n_iter_ < 300
    assert model.best_loss_ is None
    if monitor == "val_score":
        best = int(np.argmax(model.validation_scores_))
        assert model.score(X_val, y_val) == model.validation_scores_[best]
    else:
        best = int(np.argmin(model.validation_loss_curve_))
        again = fm.MLPClassifier(**{**model.get_params(), "early_stopping": False, "max_iter": best + 1})
        with pytest.warns(ConvergenceWarning):
            again.fit(X[40:], y[40:], validation_data=(X_val, y_val))
        assert again.validation_loss_curve_ == model.validation_loss_curve_[:best + 1]
        np.testing.assert_array_equal(again.coefs_[0], model.coefs_[0])
    assert best < model.n_iter_ - 1  # training went on past the best epoch, and came back to it


def test_early_stopping_holds_out_validation_fraction():
    X, y = blobs(n_samples=200)
    model = fm.MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, validation_fraction=0.2,
                             learning_rate_init=0.01, random_state=0).fit(X, y)
    assert model.t_ == 160 * model.n_iter_
    assert len(model.validation_scores_) == model.n_iter_
    with pytest.raises(ValueError, match="early_stopping"):
        model.partial_fit(X, y)


# ---------------------------------------------------------------- architecture, targets, labels

# The test is about the architecture that the list builds; whether L-BFGS also converges
# within 100 iterations depends on the last bits of float32 rounding, which differ between
# the engine's instruction-set variants.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_activation_list_and_leaky_relu():
    X, y = blobs()
    model = fm.MLPClassifier(hidden_layer_sizes=(6, 5, 4), activation=["leaky_relu", "tanh", "logistic"],
                             solver="lbfgs", random_state=0, max_iter=100).fit(X, y)
    layers = model.model_.layers
    assert [layer.activation for layer in layers] == ["leaky_relu", "tanh", "sigmoid", "softmax"]
    assert layers[0].negative_slope == 0.01
    assert [W.shape for W in model.coefs_] == [(4, 6), (6, 5), (5, 4), (4, 3)]
    assert model.n_layers_ == 5
    with pytest.raises(ValueError, match="2 activations but there are 3 hidden layers"):
        fm.MLPClassifier(hidden_layer_sizes=(6, 5, 4), activation=["relu", "tanh"]).fit(X, y)
    with pytest.raises(ValueError, match="unknown hidden activation 'softmax'"):
        fm.MLPClassifier(activation="softmax").fit(X, y)


def test_multi_output_regression():
    X, Y = regression(n_samples=200, n_targets=3)
    model = fm.MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=500, random_state=0)
    model.fit(X, Y)
    P = model.predict(X)
    assert P.shape == (200, 3) and P.dtype == np.float64
    assert model.n_outputs_ == 3 and model.out_activation_ == "identity"
    assert model.score(X, Y) > 0.95
    one = fm.MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        one.fit(X, Y[:, 0])
    assert one.predict(X).shape == (200,)


def test_mlp_regressor_loss_is_half_the_mean_squared_error():
    X, y = regression(n_samples=50)
    model = fm.MLPRegressor(hidden_layer_sizes=(4,), alpha=0.0, solver="lbfgs", max_iter=30, random_state=0,
                            dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.loss_ == pytest.approx(0.5 * np.mean((model.predict(X) - y) ** 2), rel=1e-9)


@pytest.mark.parametrize("name", ["Perceptron", "LogisticRegression", "LinearSVM", "MLPClassifier"])
def test_string_and_sparse_integer_labels(name):
    X, y = blobs(spread=4.0)
    for labels in (np.array(["ant", "bee", "cow"])[y], np.array([3, 7, 10])[y]):
        estimator, _, _ = fitted(name)
        estimator = clone(estimator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, labels)
        np.testing.assert_array_equal(estimator.classes_, np.unique(labels))
        predicted = estimator.predict(X)
        assert set(predicted) <= set(labels) and np.mean(predicted == labels) > 0.9


def test_multilabel_mlp_classifier():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0]).astype(int)
    model = fm.MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0, max_iter=300).fit(X, Y)
    assert model.out_activation_ == "logistic" and model.n_outputs_ == 2
    assert model.predict(X).shape == (150, 2) and model.predict_proba(X).shape == (150, 2)
    assert model.score(X, Y) > 0.9


def test_probabilities_sum_to_one_and_agree_with_predict():
    model, X, y = fitted("MLPClassifier")
    P = model.predict_proba(X)
    assert P.dtype == np.float64
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(model.classes_[P.argmax(axis=1)], model.predict(X))
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), P, rtol=1e-12)


# ---------------------------------------------------------------- training controls and errors

def test_float32_and_float64_engines():
    X, y = blobs()
    models = [fm.MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0, dtype=d).fit(X, y)
              for d in ("float32", "float64")]
    assert [m.model_.dtype for m in models] == [np.float32, np.float64]
    assert np.mean(models[0].predict(X) == models[1].predict(X)) > 0.95


def test_adaptive_learning_rate_divides_by_five(capsys):
    X, y = regression()
    model = fm.MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.01,
                            n_iter_no_change=2, tol=10.0, max_iter=20, verbose=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    text = capsys.readouterr().out
    assert "Setting learning rate to 0.002000" in text and "Setting learning rate to 0.000400" in text
    assert "Iteration 1, loss = " in text


def test_invscaling_learning_rate_slows_training():
    X, y = regression()
    params = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.01, max_iter=30, random_state=0,
                  tol=0.0)
    with pytest.warns(ConvergenceWarning):
        constant = fm.MLPRegressor(**params).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        decaying = fm.MLPRegressor(learning_rate="invscaling", power_t=0.5, **params).fit(X, y)
    assert constant.loss_curve_[0] == decaying.loss_curve_[0]  # the first epoch runs at learning_rate_init
    assert decaying.loss_ > constant.loss_


def test_max_iter_without_convergence_warns():
    X, y = blobs()
    with pytest.warns(ConvergenceWarning, match="maximum number of iterations"):
        fm.MLPClassifier(max_iter=3).fit(X, y)


def test_divergence_raises_with_advice():
    X, y = regression()
    with pytest.raises(fm.DivergenceError, match="learning_rate_init"):
        fm.MLPRegressor(solver="sgd", momentum=0.0, learning_rate_init=1e6, max_iter=50).fit(X * 1e3, y * 1e3)


@pytest.mark.parametrize("params,match", [
    ({"alpha": -1.0}, "alpha"), ({"solver": "newton"}, "solver"), ({"max_iter": 0}, "max_iter"),
    ({"batch_size": 0}, "batch_size"), ({"hidden_layer_sizes": (5, 0)}, "hidden_layer_sizes"),
    ({"learning_rate": "fast"}, "learning_rate"), ({"momentum": 1.5}, "momentum"),
    ({"validation_fraction": 1.0}, "validation_fraction"), ({"monitor": "loss"}, "monitor"),
    ({"dtype": "float16"}, "dtype"), ({"class_weight": "auto"}, "class_weight"),
])
def test_bad_parameters_are_named(params, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        fm.MLPClassifier(**params).fit(X, y)


def test_bad_data_is_refused():
    X, y = blobs()
    model = fm.LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match="one class"):  # MLPClassifier fits one class, as scikit-learn's
        fm.LogisticRegression().fit(X, np.zeros(y.shape[0]))
    with pytest.raises(ValueError, match="Unknown label type"):
        fm.LogisticRegression().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="NaN"):
        fm.MLPRegressor().fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="L-BFGS"):
        fm.LinearSVM(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="C"):
        fm.LinearSVM(C=0).fit(X, y)


def test_model_is_a_sequential_for_inspection():
    model, X, y = fitted("MLPClassifier")
    assert isinstance(model.model_, fm.Sequential)
    assert "total parameters" in model.model_.summary()
    np.testing.assert_array_equal(model.model_.layers[0].W, model.coefs_[0].astype(np.float32))
    np.testing.assert_allclose(model.model_.predict(X), model.predict_proba(X), rtol=1e-5)


# ---------------------------------------------------------------- the lecture's small truths

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def test_a_single_logistic_unit_cannot_fit_xor():
    for C in (1.0, 1e6):
        unit = fm.LogisticRegression(C=C).fit(XOR_X, XOR_Y)
        assert unit.score(XOR_X, XOR_Y) <= 0.75  # no line puts (0,1),(1,0) apart from (0,0),(1,1)
        # the best a line can do for log loss here is to say 1/2 everywhere
        np.testing.assert_allclose(unit.predict_proba(XOR_X)[:, 1], 0.5, atol=1e-3)


def test_one_hidden_layer_fits_xor_exactly():
    model = fm.MLPClassifier(hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs", random_state=0,
                             dtype="float64").fit(XOR_X, XOR_Y)
    np.testing.assert_array_equal(model.predict(XOR_X), XOR_Y)
    assert model.predict_proba(XOR_X)[np.arange(4), XOR_Y].min() > 0.9


def test_perceptron_reaches_zero_mistakes_within_novikoffs_bound():
    X, y, w, b = separable(n_samples=80)
    model = fm.Perceptron(shuffle=True, random_state=0).fit(X, y)
    assert model.mistakes_[-1] == 0 and model.mistakes_[0] > 0
    assert model.n_iter_ == len(model.mistakes_) < model.max_iter
    assert model.score(X, y) == 1.0
    # Novikoff: with inputs (x, 1) of norm <= R and a separator of margin gamma, at most (R/gamma)^2 updates.
    augmented = np.column_stack([X, np.ones(len(X))])
    separator = np.r_[w, b] / np.linalg.norm(np.r_[w, b])
    gamma = np.min((2 * y - 1) * (augmented @ separator))
    R = np.max(np.linalg.norm(augmented, axis=1))
    assert sum(model.mistakes_) <= (R / gamma) ** 2


def test_perceptron_rule_worked_by_hand():
    # eta0 = 1, zero start, samples in order: step(0) = 0.
    X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
    y = np.array([1, 0, 0])
    model = fm.Perceptron(shuffle=False, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    # (1,2): z=0 → ŷ=0, y=1: w=(1,2), b=1.  (2,-1): z=2-2+1=1 → ŷ=1, y=0: w=(-1,3), b=0.
    # (-1,-1): z=1-3+0=-2 → ŷ=0 = y: no change.
    np.testing.assert_array_equal(model.coef_, [[-1.0, 3.0]])
    np.testing.assert_array_equal(model.intercept_, [0.0])
    assert model.mistakes_ == [2]


def test_perceptron_one_vs_rest_counts_every_units_mistakes():
    X, y = blobs(n_samples=90, spread=6.0, seed=3)
    model = fm.Perceptron(shuffle=False, max_iter=200).fit(X, y)
    assert model.coef_.shape == (3, 4) and model.mistakes_[-1] == 0
    assert model.score(X, y) == 1.0
    # Without shuffling, unit k of the one-vs-rest model is the binary perceptron of "class k or
    # not": same weights, and the model's mistakes are the units' mistakes summed epoch by epoch.
    total = np.zeros(model.n_iter_, dtype=int)
    for k in range(3):
        unit = fm.Perceptron(shuffle=False, max_iter=200).fit(X, (y == k).astype(int))
        np.testing.assert_array_equal(unit.coef_[0], model.coef_[k])
        total[:unit.n_iter_] += unit.mistakes_
    assert list(total) == model.mistakes_


def test_hinge_and_log_loss_both_separate_separable_data():
    X, y, _, _ = separable(n_samples=60, margin=0.3)
    svm = fm.LinearSVM(C=100.0, max_iter=3000, random_state=0).fit(X, y)
    logistic = fm.LogisticRegression(C=100.0).fit(X, y)
    for model in (svm, logistic):
        assert model.score(X, y) == 1.0
    # the SVM's margin: every sample at functional distance >= ~1 (hinge loss near zero)
    assert np.min((2 * y - 1) * svm.decision_function(X)) > 0.5


def test_linear_svm_alpha_is_one_over_c_n():
    X, y = blobs(n_samples=60)
    a = fm.LinearSVM(C=0.5, random_state=0, max_iter=50, tol=0.0)
    b = fm.LinearSVM(alpha=1 / (0.5 * 60), C=123.0, random_state=0, max_iter=50, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y)
        b.fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    assert a.model_.layers[-1].activation == "identity" and a.model_.loss == "hinge"
    assert a.decision_function(X).shape == (60, 3)


def test_feature_names_travel_with_the_model(tmp_path):
    # scikit-learn records feature_names_in_ when X is a DataFrame; the model file keeps them.
    model, X, y = fitted("LogisticRegression")
    model.feature_names_in_ = np.array(["sepal", "petal", "stem", "leaf"], dtype=object)
    model.save(tmp_path / "named.fmlp")
    loaded = fm.load(tmp_path / "named.fmlp")
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    assert loaded.feature_names_in_.dtype == object


def test_lbfgs_records_a_curve_per_iteration_with_validation():
    X, y = blobs(n_samples=120, spread=1.0)
    model = fm.LogisticRegression(C=10.0).fit(X[:80], y[:80], validation_data=(X[80:], y[80:]))
    assert len(model.loss_curve_) == len(model.validation_scores_) == model.n_iter_ > 1
    assert model.loss_curve_ == sorted(model.loss_curve_, reverse=True)  # L-BFGS only accepts descent
    assert model.loss_ == model.loss_curve_[-1]
    assert model.validation_scores_[-1] == model.score(X[80:], y[80:])
