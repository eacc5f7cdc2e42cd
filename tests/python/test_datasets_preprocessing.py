"""Tests for fastmlp.datasets.preprocessing: Standardizer and one_hot."""

import json

import numpy as np
import pytest

from fastmlp import datasets as ds


def test_standardizer_matches_numpy_and_scikit_learn():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(loc=[1.0, -50.0, 1e4], scale=[0.1, 3.0, 500.0], size=(200, 3))
    scaler = ds.Standardizer().fit(X)
    np.testing.assert_allclose(scaler.mean_, np.mean(X, axis=0), rtol=1e-15)
    np.testing.assert_allclose(scaler.scale_, np.std(X, axis=0), rtol=1e-14)
    assert scaler.mean_.dtype == np.float64 and scaler.scale_.shape == (3,)
    assert scaler.n_features_in_ == 3
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Z, StandardScaler().fit_transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X, rtol=1e-14, atol=1e-10)
    np.testing.assert_array_equal(ds.Standardizer().fit_transform(X), Z)


def test_standardizer_constant_feature_gets_scale_one():
    X = np.column_stack([np.full(5, 0.1), np.arange(5.0)])
    scaler = ds.Standardizer().fit(X)
    assert scaler.scale_[0] == 1.0
    np.testing.assert_array_equal(scaler.transform(X)[:, 0], 0.0)


def test_standardizer_dtypes():
    X64 = np.random.default_rng(0).standard_normal((10, 2)) * 3 + 1
    scaler = ds.Standardizer().fit(X64)
    X32 = X64.astype(np.float32)
    Z32 = scaler.transform(X32)
    assert Z32.dtype == np.float32
    np.testing.assert_allclose(Z32, scaler.transform(X64), rtol=1e-5, atol=1e-6)
    assert scaler.inverse_transform(Z32).dtype == np.float32
    assert scaler.transform(X64).dtype == np.float64
    Xint = np.arange(20).reshape(10, 2)
    assert ds.Standardizer().fit(Xint).transform(Xint).dtype == np.float64
    assert ds.Standardizer().fit(X32).mean_.dtype == np.float64


def test_standardizer_dict_round_trip_through_json():
    X = np.random.default_rng(3).standard_normal((30, 4)) * 7 - 2
    scaler = ds.Standardizer().fit(X)
    d = json.loads(json.dumps(scaler.to_dict()))
    assert set(d) == {"mean", "scale"} and all(isinstance(v, float) for v in d["mean"])
    restored = ds.Standardizer.from_dict(d)
    np.testing.assert_array_equal(restored.mean_, scaler.mean_)
    np.testing.assert_array_equal(restored.scale_, scaler.scale_)
    assert restored.n_features_in_ == 4
    np.testing.assert_array_equal(restored.transform(X), scaler.transform(X))


def test_standardizer_errors():
    scaler = ds.Standardizer()
    for method in (scaler.transform, scaler.inverse_transform):
        with pytest.raises(ValueError, match="not fitted yet; call fit"):
            method(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not fitted yet"):
        scaler.to_dict()
    scaler.fit(np.arange(12.0).reshape(3, 4))
    with pytest.raises(ValueError, match="X has 3 features, but this Standardizer was fitted with 4 features"):
        scaler.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X has 5 features.*fitted with 4"):
        scaler.inverse_transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"X must be 2-D .*reshape"):
        ds.Standardizer().fit(np.zeros(3))
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        ds.Standardizer().fit([[1.0], [np.inf]])
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        scaler.transform(np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="X has no samples"):
        ds.Standardizer().fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="X must be numeric"):
        ds.Standardizer().fit([["a"]])


@pytest.mark.parametrize("d, match", [
    ({"mean": [0.0]}, "needs a dict with keys 'mean' and 'scale'"),
    ([1, 2], "needs a dict"),
    ({"mean": [0.0, 1.0], "scale": [1.0]}, "equal length"),
    ({"mean": [], "scale": []}, "non-empty"),
    ({"mean": [0.0], "scale": [0.0]}, "every scale > 0"),
    ({"mean": ["a"], "scale": [1.0]}, "lists of numbers"),
])
def test_standardizer_from_dict_errors(d, match):
    with pytest.raises(ValueError, match=match):
        ds.Standardizer.from_dict(d)


# --------------------------------------------------------------------------- one_hot

@pytest.mark.parametrize("y", [
    np.array([2, 0, 1, 2, 2]),
    np.array(["cat", "dog", "ant", "dog"]),
    np.array([0.5, -1.0, 0.5, 3.0]),
    [True, False, True],
])
def test_one_hot_round_trip(y):
    Y, classes = ds.one_hot(y)
    y = np.asarray(y)
    np.testing.assert_array_equal(classes, np.unique(y))
    assert Y.shape == (y.size, classes.size) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(classes[Y.argmax(axis=1)], y)


def test_one_hot_given_class_order_and_dtype():
    Y, classes = ds.one_hot(["b", "c", "b"], classes=["c", "a", "b"], dtype=np.float64)
    assert Y.dtype == np.float64
    assert classes.tolist() == ["c", "a", "b"]
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 0, 1]])
    Y, _ = ds.one_hot(np.array([[1], [3]]), classes=[3, 2, 1])
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0]])


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"y contains labels not in classes: 5, 7; classes are 1, 2"):
        ds.one_hot([1, 5, 2, 7, 5], classes=[1, 2])
    with pytest.raises(ValueError, match=r"not in classes: 2, 3, 4, 5, 6 \(and 4 more\)"):
        ds.one_hot(np.arange(11), classes=[0, 1])
    with pytest.raises(ValueError, match=r"not in classes: 'x'"):
        ds.one_hot(["x"], classes=[1, 2])
    with pytest.raises(ValueError, match=r"not in classes: 1"):
        ds.one_hot([1], classes=["1"])
    with pytest.raises(ValueError, match="classes contains duplicates: 'a'"):
        ds.one_hot(["a"], classes=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"y must be 1-D class labels, got shape \(2, 2\)"):
        ds.one_hot(np.eye(2))
    with pytest.raises(ValueError, match="y contains NaN"):
        ds.one_hot([0.0, np.nan])
