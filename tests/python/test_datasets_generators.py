"""Tests for fastmlp.datasets.generators: the toy data sets and their seeds."""

import numpy as np
import pytest

from fastmlp import datasets as ds


GENERATORS = [ds.make_xor, ds.make_moons, ds.make_circles, ds.make_spirals, ds.make_blobs,
              ds.make_regression]


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_generator_same_seed_same_data_and_dtypes(make):
    X1, y1 = make(n_samples=57, random_state=3)
    X2, y2 = make(n_samples=57, random_state=3)
    X3, _ = make(n_samples=57, random_state=4)
    X4, y4 = make(n_samples=57, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(X1, X4)  # an int seed means default_rng(seed)
    np.testing.assert_array_equal(y1, y4)
    assert not np.array_equal(X1, X3)
    assert X1.dtype == np.float64 and X1.ndim == 2 and X1.shape[0] == 57
    assert y1.shape == (57,)
    assert y1.dtype == (np.float64 if make is ds.make_regression else np.int64)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_generator_shared_generator_advances(make):
    rng = np.random.default_rng(0)
    Xa, _ = make(n_samples=20, random_state=rng)
    Xb, _ = make(n_samples=20, random_state=rng)
    assert not np.array_equal(Xa, Xb)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, np.random.RandomState(0)])
def test_generator_rejects_bad_random_state(make, bad):
    with pytest.raises(ValueError, match="random_state"):
        make(random_state=bad)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n_samples", [0, -3, 2.0, True, "10"])
def test_generator_rejects_bad_n_samples(make, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        make(n_samples=n_samples)


@pytest.mark.parametrize("make", [ds.make_xor, ds.make_moons, ds.make_circles, ds.make_spirals,
                                  ds.make_regression], ids=lambda f: f.__name__)
@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf"), "0.1"])
def test_generator_rejects_bad_noise(make, noise):
    with pytest.raises(ValueError, match="noise"):
        make(noise=noise)


@pytest.mark.parametrize("call, match", [
    (lambda: ds.make_circles(factor=1.0), r"factor must be in \[0, 1\)"),
    (lambda: ds.make_circles(factor=-0.5), "factor"),
    (lambda: ds.make_spirals(n_classes=1), "n_classes must be >= 2"),
    (lambda: ds.make_spirals(turns=-1.0), "turns"),
    (lambda: ds.make_spirals(n_samples=2, n_classes=3), r"n_samples \(2\).*n_classes \(3\)"),
    (lambda: ds.make_blobs(n_features=0), "n_features must be >= 1"),
    (lambda: ds.make_blobs(centers=0), "centers must be >= 1"),
    (lambda: ds.make_blobs(centers=[1.0, 2.0]), r"centers must be .* got shape \(2,\)"),
    (lambda: ds.make_blobs(centers=[[0.0, np.nan]]), "centers contains NaN"),
    (lambda: ds.make_blobs(centers="abc"), "centers must be an int or a 2-D array"),
    (lambda: ds.make_blobs(cluster_std=-1.0), "cluster_std must be finite and >= 0"),
    (lambda: ds.make_blobs(centers=3, cluster_std=[1.0, 2.0]), r"cluster_std .* one value per centre \(3\)"),
    (lambda: ds.make_blobs(center_box=(5, 5)), "center_box must be finite with low < high"),
    (lambda: ds.make_blobs(center_box=3), r"center_box must be a pair \(low, high\)"),
    (lambda: ds.make_regression(n_features=0), "n_features must be >= 1"),
    (lambda: ds.make_regression(n_targets=0), "n_targets must be >= 1"),
])
def test_generator_argument_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_make_xor_quadrants_pure_and_balanced_without_noise():
    X, y = ds.make_xor(n_samples=203, noise=0.0, random_state=0)
    assert X.shape == (203, 2)
    np.testing.assert_array_equal(y, (X[:, 0] < 0) ^ (X[:, 1] < 0))
    assert np.all((np.abs(X) >= 0.1) & (np.abs(X) <= 1.0))
    quadrant_sizes = sorted(np.bincount(2 * (X[:, 0] < 0) + (X[:, 1] < 0)).tolist())
    assert quadrant_sizes == [50, 51, 51, 51]
    assert np.bincount(y).tolist() in ([101, 102], [102, 101])
    # rows are shuffled, not grouped by quadrant
    assert np.abs(np.diff(y)).sum() > 50


def _linearly_separable(X, y):
    """Exact test: does some (w, b) give t_i (w.x_i + b) >= 1 for every sample (an LP)?"""
    from scipy.optimize import linprog

    t = np.where(y == 1, 1.0, -1.0)
    A = -t[:, None] * np.column_stack([X, np.ones(len(X))])
    result = linprog(np.zeros(X.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(X)),
                     bounds=[(None, None)] * (X.shape[1] + 1), method="highs")
    assert result.status in (0, 2)  # solved or proven infeasible
    return result.status == 0


def test_make_xor_is_not_linearly_separable_but_the_product_feature_separates():
    X, y = ds.make_xor(n_samples=100, noise=0.0, random_state=1)
    assert not _linearly_separable(X, y)
    assert _linearly_separable(np.column_stack([X, X[:, 0] * X[:, 1]]), y)


def test_make_moons_lies_on_half_circles_without_noise():
    X, y = ds.make_moons(n_samples=101, noise=0.0, random_state=0)
    assert np.bincount(y).tolist() == [50, 51]
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=0, atol=1e-12)
    assert upper[:, 1].min() >= -1e-12
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert lower[:, 1].max() <= 0.5 + 1e-12
    # endpoints of both arcs are present: t = 0 and t = pi
    assert np.isclose(upper[:, 0].min(), -1.0) and np.isclose(upper[:, 0].max(), 1.0)
    assert np.isclose(lower[:, 0].min(), 0.0) and np.isclose(lower[:, 0].max(), 2.0)


@pytest.mark.parametrize("make", [ds.make_xor, ds.make_moons, ds.make_circles],
                         ids=lambda f: f.__name__)
def test_noise_is_gaussian_with_given_std(make):
    X0, y0 = make(n_samples=4000, noise=0.0, random_state=0)
    X1, y1 = make(n_samples=4000, noise=0.3, random_state=0)
    np.testing.assert_array_equal(y0, y1)
    offset = X1 - X0
    np.testing.assert_allclose(offset.std(axis=0), 0.3, rtol=0.05)
    np.testing.assert_allclose(offset.mean(axis=0), 0.0, atol=0.02)


@pytest.mark.parametrize("factor", [0.0, 0.3, 0.8])
def test_make_circles_radii_without_noise(factor):
    X, y = ds.make_circles(n_samples=51, noise=0.0, factor=factor, random_state=0)
    assert np.bincount(y).tolist() == [25, 26]
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radius[y == 1], factor, atol=1e-12)


@pytest.mark.parametrize("n_samples, n_classes, expected", [
    (300, 3, [100, 100, 100]),
    (301, 3, [101, 100, 100]),
    (302, 3, [101, 101, 100]),
    (17, 5, [4, 4, 3, 3, 3]),
    (2, 2, [1, 1]),
])
def test_make_spirals_classes_balanced(n_samples, n_classes, expected):
    _, y = ds.make_spirals(n_samples=n_samples, n_classes=n_classes, random_state=0)
    assert np.bincount(y, minlength=n_classes).tolist() == expected


@pytest.mark.parametrize("turns", [0.0, 1.0, 1.75])
def test_make_spirals_arm_geometry_without_noise(turns):
    n_classes = 4
    X, y = ds.make_spirals(n_samples=41, n_classes=n_classes, noise=0.0, turns=turns,
                           random_state=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    for label in range(n_classes):
        r = np.sort(radius[y == label])
        np.testing.assert_allclose(r, np.arange(1, r.size + 1) / r.size, atol=1e-12)
    expected_angle = 2 * np.pi * (y / n_classes + turns * radius)
    # compare angles through the unit vectors, which is modulo 2 pi
    np.testing.assert_allclose(X[:, 0], radius * np.cos(expected_angle), atol=1e-12)
    np.testing.assert_allclose(X[:, 1], radius * np.sin(expected_angle), atol=1e-12)


def test_make_spirals_noise_perturbs_angle_only():
    X0, y0 = ds.make_spirals(n_samples=60, noise=0.0, random_state=0)
    X1, y1 = ds.make_spirals(n_samples=60, noise=0.5, random_state=0)
    r0 = np.sort(np.hypot(X0[:, 0], X0[:, 1]))
    r1 = np.sort(np.hypot(X1[:, 0], X1[:, 1]))
    np.testing.assert_allclose(r0, r1, atol=1e-12)
    assert not np.allclose(np.sort(X0[:, 0]), np.sort(X1[:, 0]))


def test_make_blobs_given_centers_and_zero_std_are_exact():
    centers = np.array([[0.0, 1.0, 2.0], [5.0, -5.0, 0.5]])
    X, y = ds.make_blobs(n_samples=7, centers=centers, cluster_std=0.0, random_state=0)
    assert X.shape == (7, 3)
    assert np.bincount(y).tolist() == [4, 3]
    np.testing.assert_array_equal(X, centers[y])


def test_make_blobs_random_centers_inside_box_and_split_evenly():
    X, y = ds.make_blobs(n_samples=10, n_features=4, centers=4, cluster_std=0.0,
                         center_box=(2.0, 3.0), random_state=0)
    assert X.shape == (10, 4)
    assert np.bincount(y).tolist() == [3, 3, 2, 2]
    assert np.all((X >= 2.0) & (X <= 3.0))
    assert np.unique(X, axis=0).shape[0] == 4


def test_make_blobs_per_cluster_std():
    stds = [0.5, 2.0]
    X, y = ds.make_blobs(n_samples=8000, centers=[[0.0, 0.0], [20.0, 20.0]], cluster_std=stds,
                         random_state=0)
    for label, std in enumerate(stds):
        cluster = X[y == label]
        np.testing.assert_allclose(cluster.std(axis=0), std, rtol=0.05)
        np.testing.assert_allclose(cluster.mean(axis=0), [20.0 * label] * 2, atol=0.1)


def test_make_regression_shapes_and_multi_target():
    X, y = ds.make_regression(n_samples=30, n_features=3, n_targets=1, random_state=0)
    assert X.shape == (30, 3) and y.shape == (30,)
    X, Y = ds.make_regression(n_samples=30, n_features=3, n_targets=2, random_state=0)
    assert X.shape == (30, 3) and Y.shape == (30, 2) and Y.dtype == np.float64
    assert not np.allclose(Y[:, 0], Y[:, 1])


def test_make_regression_linear_is_exactly_linear():
    X, y = ds.make_regression(n_samples=50, n_features=3, noise=0.0, nonlinear=False,
                              random_state=0)
    coef, residual, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(X @ coef, y, atol=1e-12)


def test_make_regression_noise_scales_one_fixed_draw():
    kwargs = dict(n_samples=500, n_features=3, random_state=7)
    X0, y0 = ds.make_regression(noise=0.0, **kwargs)
    X1, y1 = ds.make_regression(noise=1.0, **kwargs)
    X3, y3 = ds.make_regression(noise=0.3, **kwargs)
    Xl, yl = ds.make_regression(noise=0.0, nonlinear=False, **kwargs)
    np.testing.assert_array_equal(X0, X1)
    np.testing.assert_array_equal(X0, Xl)
    np.testing.assert_allclose(y3 - y0, 0.3 * (y1 - y0), atol=1e-12)
    assert abs((y1 - y0).std() - 1.0) < 0.1


def test_make_regression_nonlinear_beats_linear_model():
    from sklearn.linear_model import LinearRegression
    from sklearn.neighbors import KNeighborsRegressor

    X, y = ds.make_regression(n_samples=3000, n_features=2, noise=0.1, random_state=0)
    train, test = slice(0, 2000), slice(2000, None)
    linear_r2 = LinearRegression().fit(X[train], y[train]).score(X[test], y[test])
    local_r2 = KNeighborsRegressor(10).fit(X[train], y[train]).score(X[test], y[test])
    assert linear_r2 < 0.6
    assert local_r2 > 0.9

    Xl, yl = ds.make_regression(n_samples=3000, n_features=2, noise=0.1, nonlinear=False,
                                random_state=0)
    assert LinearRegression().fit(Xl[train], yl[train]).score(Xl[test], yl[test]) > 0.95
