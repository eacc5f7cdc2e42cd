"""The estimators' predictions take plain float arrays without scikit-learn's validate_data
(its generic machinery costs many times a one-row prediction): the shortcut must give what
validate_data gives, bit for bit, and refuse what it refuses with scikit-learn's own words."""
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import fastmlp as fm  # noqa: E402
from fastmlp.estimators import _base, _parameters  # noqa: E402
from fastmlp.estimators._checks import ready_array  # noqa: E402

KINDS = ("Perceptron", "LogisticRegression", "LinearSVM", "MLPClassifier", "MLPRegressor")
N_FEATURES = 4


def _data(kind, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, N_FEATURES)).astype(dtype)
    if kind == "MLPRegressor":
        return X, X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.standard_normal(120)
    return X, np.where(X[:, 0] + X[:, 1] > 0, 1, 0) + (X[:, 2] > 1)


def fitted(kind, data_dtype=np.float64, **params):
    X, y = _data(kind, data_dtype)
    estimator = getattr(fm, kind)(max_iter=30, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence: the weights' quality does not matter here
        return estimator.fit(X, y), X


def predictions(estimator, X) -> list:
    methods = ("predict", "predict_proba", "decision_function", "predict_log_proba")
    return [getattr(estimator, name)(X) for name in methods if hasattr(estimator, name)]


def assert_same_predictions(estimator, X, monkeypatch):
    assert ready_array(estimator, X) is not None  # the shortcut is taken
    fast = predictions(estimator, X)
    with monkeypatch.context() as patch:  # every input through validate_data
        for module in (_base, _parameters):
            patch.setattr(module, "ready_array", lambda *args, **kwargs: None)
        slow = predictions(estimator, X)
    for shortcut, reference in zip(fast, slow):
        assert shortcut.dtype == reference.dtype and shortcut.shape == reference.shape
        np.testing.assert_array_equal(shortcut, reference)


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
def test_plain_arrays_predict_as_validate_data_would(kind, fit_dtype, monkeypatch):
    estimator, X = fitted(kind, fit_dtype)
    for dtype in (np.float32, np.float64):
        rows = X[:7].astype(dtype)
        for variant in (rows, rows[:1], np.asfortranarray(rows), X[:14:2].astype(dtype)):  # F order, strided
            assert_same_predictions(estimator, variant, monkeypatch)


@pytest.mark.parametrize("kind", KINDS)
def test_the_engine_dtype_is_kept_for_either_input_dtype(kind):
    estimator, X = fitted(kind, dtype="float64")  # float64 weights in the engine
    ready = ready_array(estimator, X[:3].astype(np.float32))
    assert ready.dtype == np.float64 and ready.flags.c_contiguous


@pytest.mark.parametrize("bad, message", [(np.nan, "Input X contains NaN"),
                                          (np.inf, "Input X contains infinity"),
                                          (-np.inf, "Input X contains infinity")])
@pytest.mark.parametrize("kind", KINDS)
def test_non_finite_values_are_refused_in_scikit_learns_words(kind, bad, message):
    estimator, X = fitted(kind)
    rows = X[:3].copy()
    rows[1, 2] = bad
    for method in ("predict", "predict_proba", "decision_function"):
        if hasattr(estimator, method):
            with pytest.raises(ValueError, match=message):
                getattr(estimator, method)(rows)


@pytest.mark.parametrize("kind", KINDS)
def test_float64_too_large_for_a_float32_model_is_refused_as_infinite(kind):
    estimator, X = fitted(kind, dtype="float32")
    assert estimator._model.dtype == np.float32
    rows = X[:2].copy()
    rows[0, 0] = 1e39  # finite in float64, infinite once converted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "overflow in cast", as under validate_data
        for method in ("predict", "predict_proba", "decision_function"):
            if hasattr(estimator, method):
                with pytest.raises(ValueError, match="infinity or a value too large for dtype\\('float32'\\)"):
                    getattr(estimator, method)(rows)


@pytest.mark.parametrize("kind", KINDS)
def test_large_finite_values_whose_sum_overflows_still_predict(kind):
    estimator, X = fitted(kind, dtype="float64")
    rows = np.full((2, N_FEATURES), 1e308)  # every value finite, their sum is not
    assert ready_array(estimator, rows) is None  # left to validate_data, which accepts it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the model's own arithmetic may overflow on such rows
        assert estimator.predict(rows).shape[0] == 2


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_shapes_are_refused_in_scikit_learns_words(kind):
    estimator, X = fitted(kind)
    name = type(estimator).__name__
    with pytest.raises(ValueError, match=f"X has 3 features, but {name} is expecting 4 features as input"):
        estimator.predict(X[:5, :3])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        estimator.predict(X[0])
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        estimator.predict(X[:0])
    with pytest.raises(ValueError, match="Found array with dim 3"):
        estimator.predict(X[:4].reshape(2, 2, N_FEATURES))


@pytest.mark.parametrize("kind", KINDS)
def test_an_unfitted_estimator_is_refused_as_scikit_learn_refuses_it(kind):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        getattr(fm, kind)().predict(np.zeros((1, N_FEATURES)))


@pytest.mark.parametrize("kind", KINDS)
def test_a_model_fitted_with_feature_names_still_warns_about_a_plain_array(kind):
    pd = pytest.importorskip("pandas")
    X, y = _data(kind, np.float64)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = getattr(fm, kind)(max_iter=30, random_state=0).fit(frame, y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        estimator.predict(X[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimator.predict(frame.iloc[:2])  # the same names: no warning
    with pytest.raises(ValueError, match="feature names"):
        estimator.predict(frame.iloc[:2].rename(columns={"a": "z"}))


@pytest.mark.parametrize("kind", KINDS)
def test_integer_and_object_arrays_go_through_validate_data(kind):
    estimator, X = fitted(kind)
    integers = np.round(X[:5] * 3).astype(np.int64)
    assert ready_array(estimator, integers) is None
    np.testing.assert_array_equal(estimator.predict(integers), estimator.predict(integers.astype(np.float64)))
    with pytest.raises(ValueError, match="could not convert string to float"):
        estimator.predict(np.array([["a"] * N_FEATURES], dtype=object))


@pytest.mark.parametrize("kind", ["MLPClassifier", "LogisticRegression"])
def test_edits_of_coefs_reach_the_shortcut(kind):
    estimator, X = fitted(kind)
    before = estimator.predict_proba(X[:5])
    estimator.coefs_[0][:] = 0.0  # an in-place edit, as scikit-learn users make them
    after = estimator.predict_proba(X[:5])
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, estimator.predict_proba(X[:5].tolist()))
