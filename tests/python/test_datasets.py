"""Tests for fastmlp.datasets: generators, CSV files, splitting, scaling, encoding, batching."""

import csv
import json
import math
import tracemalloc

import numpy as np
import pytest

from fastmlp import datasets as ds

GENERATORS = [ds.make_xor, ds.make_moons, ds.make_circles, ds.make_spirals, ds.make_blobs,
              ds.make_regression]


# --------------------------------------------------------------------------- generators

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


# --------------------------------------------------------------------------- CSV files

def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_save_load_round_trip_is_bit_exact(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3)) * 10.0 ** rng.integers(-8, 8, size=(20, 3))
    y = rng.integers(0, 3, size=20)
    path = tmp_path / "data.csv"
    ds.save_csv(path, X, y, feature_names=["a", "b", "c"], target_name="label")
    data = ds.load_csv(path)
    assert isinstance(data, ds.CSVData)
    np.testing.assert_array_equal(data.X, X)
    assert data.X.dtype == np.float64
    np.testing.assert_array_equal(data.y, y)
    assert data.y.dtype == np.float64  # numeric targets stay float; models decide
    assert data.feature_names == ["a", "b", "c"]
    assert data.target_name == "label"
    # an independent reader agrees
    reference = np.genfromtxt(path, delimiter=",", skip_header=1)
    np.testing.assert_array_equal(reference[:, :3], X)


def test_save_csv_float32_round_trips_and_default_names(tmp_path):
    X = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32)
    path = tmp_path / "f32.csv"
    ds.save_csv(path, X)
    data = ds.load_csv(path, target=None, dtype=np.float32)
    assert data.X.dtype == np.float32
    np.testing.assert_array_equal(data.X, X)
    assert data.feature_names == ["x0", "x1"] and data.y is None and data.target_name is None


def test_save_csv_text_labels_with_delimiters_are_quoted(tmp_path):
    X = np.arange(6.0).reshape(3, 2)
    y = np.array(["cat", "big, dog", 'say "hi"'])
    path = tmp_path / "text.csv"
    ds.save_csv(path, X, y, feature_names=["p,q", "r"], target_name="animal")
    data = ds.load_csv(path, target="animal")
    assert data.y.tolist() == y.tolist()
    assert data.y.dtype.kind == "U"
    assert data.feature_names == ["p,q", "r"]


def test_load_csv_target_by_name_index_and_none(tmp_path):
    path = _write(tmp_path / "d.csv", "a,b,c\n1,2,3\n4,5,6\n")
    by_name = ds.load_csv(path, target="b")
    np.testing.assert_array_equal(by_name.X, [[1, 3], [4, 6]])
    np.testing.assert_array_equal(by_name.y, [2, 5])
    assert by_name.feature_names == ["a", "c"] and by_name.target_name == "b"
    by_index = ds.load_csv(path, target=0)
    np.testing.assert_array_equal(by_index.y, [1, 4])
    assert by_index.feature_names == ["b", "c"]
    by_negative = ds.load_csv(path, target=-2)
    assert by_negative.target_name == "b"
    default = ds.load_csv(path)
    assert default.target_name == "c"
    np.testing.assert_array_equal(default.X, [[1, 2], [4, 5]])
    none = ds.load_csv(path, target=None)
    np.testing.assert_array_equal(none.X, [[1, 2, 3], [4, 5, 6]])
    assert none.y is None and none.feature_names == ["a", "b", "c"]


def test_load_csv_text_target_whitespace_blank_lines_bom_and_delimiter(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffx ; y ;kind\n1.5; 2 ; setosa\n\n-3e2;4;virginica\n\n".encode("utf-8"))
    data = ds.load_csv(path, delimiter=";")
    assert data.feature_names == ["x", "y"] and data.target_name == "kind"
    np.testing.assert_array_equal(data.X, [[1.5, 2.0], [-300.0, 4.0]])
    assert data.y.tolist() == ["setosa", "virginica"]


def test_load_csv_mixed_numeric_and_text_target_is_text(tmp_path):
    path = _write(tmp_path / "d.csv", "a,label\n1,1\n2,two\n")
    assert ds.load_csv(path).y.tolist() == ["1", "two"]


@pytest.mark.parametrize("text, match", [
    ("", "empty file"),
    ("\n\n", "empty file"),
    ("a,b,c\n", "header but no data rows"),
    ("a,b,a\n1,2,3\n", r"line 1: duplicate column names: 'a'"),
    ("a,,c\n1,2,3\n", "line 1: column 2 has no name"),
    ("a,b,c\n1,2,3\n4,5\n", r"line 3: 2 fields but the header has 3 \(missing column 'c'\)"),
    ("a,b,c\n1,2,3,4\n", r"line 2: 4 fields but the header has 3 \(extra field\(s\) after column 'c'\)"),
    ("a,b,c\n1,2,3\n1,abc,3\n", r"line 3, column 'b': feature value 'abc' is not a number"),
    ("a,b,c\n1,2,3\n\n,2,3\n", r"line 4, column 'a': empty cell \(missing value\)"),
    ("a,b,c\n1,nan,3\n", r"line 2, column 'b': non-finite feature value 'nan'"),
    ("a,b,c\n1,2,3\n-inf,2,3\n", r"line 3, column 'a': non-finite feature value '-inf'"),
    ("a,b,c\n1,2,\n", r"line 2, column 'c': empty target value"),
    ("a,b,c\n1,2,3\n1,2,inf\n", r"line 3, column 'c': non-finite target value 'inf'"),
    ('a,b,c\n1,2,"x\ny"\n1,2,3\n4,q,3\n', r"line 5, column 'b'"),  # a 2-line field counts 2
    ('a,b,c\n1,2,"3\n', r"line 2: malformed CSV"),
    ("c\n1\n", "no feature columns"),
])
def test_load_csv_errors(tmp_path, text, match):
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=match):
        ds.load_csv(path)


def test_load_csv_multiline_feature_field_is_refused_with_its_line(tmp_path):
    path = _write(tmp_path / "bad.csv", 'a,b,c\n1,2,3\n"x\ny",2,3\n')
    with pytest.raises(ValueError, match=r"line 3, column 'a': feature value 'x\\ny' is not a number"):
        ds.load_csv(path)


def test_load_csv_target_errors_list_available_columns(tmp_path):
    path = _write(tmp_path / "d.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match=r"unknown target column 'z'; available columns: 'a', 'b', 'c'"):
        ds.load_csv(path, target="z")
    with pytest.raises(ValueError,
                       match=r"target index 3 is out of range for 3 columns; available columns: 'a', 'b', 'c'"):
        ds.load_csv(path, target=3)
    with pytest.raises(ValueError, match=r"target index -4 is out of range"):
        ds.load_csv(path, target=-4)
    with pytest.raises(ValueError, match="target must be a column name, an integer index or None"):
        ds.load_csv(path, target=1.0)


def test_load_csv_argument_errors(tmp_path):
    path = _write(tmp_path / "d.csv", "a,b\n1,2\n")
    with pytest.raises(ValueError, match="dtype must be a floating-point type, got int64"):
        ds.load_csv(path, dtype=np.int64)
    with pytest.raises(ValueError, match="delimiter must be a single character"):
        ds.load_csv(path, delimiter=",,")
    overflow = _write(tmp_path / "big.csv", "a,b\n1e300,2\n")
    with pytest.raises(ValueError, match=r"line 2, column 'a': value 1e\+300 does not fit in float32"):
        ds.load_csv(overflow, dtype=np.float32)


@pytest.mark.parametrize("call, match", [
    (lambda p: ds.save_csv(p, np.zeros(3)), r"X must be 2-D \(n_samples, n_features\), got shape \(3,\)"),
    (lambda p: ds.save_csv(p, np.array([["a"]])), "X must be numeric"),
    (lambda p: ds.save_csv(p, np.array([[np.nan]])), "X contains NaN or infinity"),
    (lambda p: ds.save_csv(p, np.zeros((2, 2)), feature_names=["a"]),
     "feature_names has 1 names but X has 2 features"),
    (lambda p: ds.save_csv(p, np.zeros((2, 2)), y=np.zeros(3)), r"y must have shape \(2,\)"),
    (lambda p: ds.save_csv(p, np.zeros((2, 2)), y=np.zeros(2), feature_names=["a", "target"]),
     "column names must be unique"),
])
def test_save_csv_errors(tmp_path, call, match):
    with pytest.raises(ValueError, match=match):
        call(tmp_path / "out.csv")


def test_save_csv_writes_a_header_and_integer_labels(tmp_path):
    path = tmp_path / "out.csv"
    ds.save_csv(path, np.array([[1, 2], [3, 4]]), y=np.array([[0], [1]]), target_name="t")
    with open(path, newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows == [["x0", "x1", "t"], ["1", "2", "0"], ["3", "4", "1"]]


# --------------------------------------------------------------------------- splitting

@pytest.mark.parametrize("n, test_size, train_size", [
    (100, None, None), (10, None, None), (10, 0.33, None), (10, None, 0.33), (7, 3, None),
    (7, None, 5), (20, 0.2, 0.5), (20, 4, 10), (9, 0.5, None), (11, 0.1, 0.9),
])
def test_split_sizes_match_scikit_learn(n, test_size, train_size):
    from sklearn.model_selection import train_test_split as sk_split

    X = np.arange(n)
    ours = ds.train_test_split(X, test_size=test_size, train_size=train_size, random_state=0)
    theirs = sk_split(X, test_size=test_size, train_size=train_size, random_state=0)
    assert [len(part) for part in ours] == [len(part) for part in theirs]


def test_split_return_order_alignment_and_partition():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20) * 10
    w = [f"s{i}" for i in range(20)]
    X_tr, X_te, y_tr, y_te, w_tr, w_te = ds.train_test_split(X, y, w, test_size=0.25,
                                                             random_state=0)
    assert X_tr.shape == (15, 2) and X_te.shape == (5, 2)
    np.testing.assert_array_equal(X_tr[:, 0] * 5, y_tr)
    np.testing.assert_array_equal(X_te[:, 0] * 5, y_te)
    assert [f"s{v // 10}" for v in y_te] == w_te.tolist()
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == y.tolist()
    assert not np.array_equal(np.sort(y_tr), y_tr)  # shuffled


def test_split_reproducible_by_seed():
    X = np.arange(50)
    a = ds.train_test_split(X, random_state=5)
    b = ds.train_test_split(X, random_state=5)
    c = ds.train_test_split(X, random_state=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_split_without_shuffle_takes_leading_rows():
    X = np.arange(10)
    train, test = ds.train_test_split(X, test_size=3, shuffle=False)
    np.testing.assert_array_equal(train, np.arange(7))
    np.testing.assert_array_equal(test, [7, 8, 9])
    train, test = ds.train_test_split(X, test_size=2, train_size=5, shuffle=False)
    np.testing.assert_array_equal(train, np.arange(5))
    np.testing.assert_array_equal(test, [5, 6])


@pytest.mark.parametrize("counts, test_size, expected_test", [
    ([60, 40], 0.25, [15, 10]),
    ([50, 30, 20], 0.1, [5, 3, 2]),
    ([40, 40, 20], 0.5, [20, 20, 10]),
    ([2, 2, 2, 94], 10, [1, 1, 1, 7]),   # small classes still appear in the test part
    ([1, 9, 10], 0.5, [0, 5, 5]),        # a single member stays in train
])
def test_stratified_split_exact_proportions(counts, test_size, expected_test):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(y.size)
    X_tr, X_te, y_tr, y_te = ds.train_test_split(X, y, test_size=test_size, stratify=y,
                                                 random_state=0)
    assert np.bincount(y_te, minlength=len(counts)).tolist() == expected_test
    assert (np.bincount(y_tr, minlength=len(counts)) + np.bincount(y_te, minlength=len(counts))
            ).tolist() == counts
    np.testing.assert_array_equal(y[X_te], y_te)
    assert len(set(X_tr.tolist()) | set(X_te.tolist())) == y.size


def test_stratified_split_each_class_gets_floor_or_ceiling_of_its_share():
    rng = np.random.default_rng(0)
    for trial in range(30):
        counts = rng.integers(2, 40, size=rng.integers(2, 6))
        y = rng.permutation(np.repeat(np.arange(counts.size), counts))
        n = y.size
        test_size = float(rng.uniform(0.2, 0.6))
        _, y_te = ds.train_test_split(y, test_size=test_size, stratify=y, random_state=trial)
        n_test = math.ceil(test_size * n)
        assert y_te.size == n_test
        share = counts * n_test / n
        got = np.bincount(y_te, minlength=counts.size)
        assert np.all(got >= np.maximum(np.floor(share), 1)), (counts, n_test, got)
        assert np.all(got <= np.ceil(share)), (counts, n_test, got)


def test_stratified_split_with_explicit_train_size_leaves_rest_out():
    y = np.repeat([0, 1], [50, 50])
    y_tr, y_te = ds.train_test_split(y, train_size=0.4, test_size=0.2, stratify=y,
                                     random_state=0)
    assert np.bincount(y_tr).tolist() == [20, 20]
    assert np.bincount(y_te).tolist() == [10, 10]


def test_stratified_split_string_labels_and_reproducible():
    y = np.array(["a"] * 6 + ["b"] * 3 + ["c"] * 3)
    first = ds.train_test_split(y, test_size=4, stratify=y, random_state=2)
    second = ds.train_test_split(y, test_size=4, stratify=y, random_state=2)
    np.testing.assert_array_equal(first[1], second[1])
    assert sorted(first[1].tolist()) == ["a", "a", "b", "c"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(test_size=1.5), r"test_size=1.5 must be a float in \(0, 1\)"),
    (dict(test_size=0.0), r"test_size=0.0 must be a float in \(0, 1\)"),
    (dict(test_size=10), r"test_size=10 must be in \[1, 9\] as a count \(there are 10 samples\)"),
    (dict(test_size=0), r"test_size=0 must be in \[1, 9\]"),
    (dict(train_size=-2), r"train_size=-2 must be in \[1, 9\]"),
    (dict(test_size="half"), "test_size must be a float in"),
    (dict(test_size=True), "test_size must be a float in"),
    (dict(test_size=6, train_size=5), r"train_size \+ test_size = 5 \+ 6 samples exceeds the 10"),
    (dict(test_size=0.6, train_size=0.6), "exceeds the 10 samples"),
    (dict(test_size=0.95), "the train set would be empty"),
    (dict(train_size=0.05, test_size=2), "the train set would be empty"),
    (dict(shuffle=False, stratify=np.zeros(10)), "stratify requires shuffle=True"),
    (dict(stratify=np.zeros(9)), "stratify has 9 labels but the arrays have 10 samples"),
    (dict(random_state="x"), "random_state"),
])
def test_split_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ds.train_test_split(np.arange(10), **kwargs)


def test_split_errors_on_arrays():
    with pytest.raises(ValueError, match="at least one array"):
        ds.train_test_split()
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[10, 9\]"):
        ds.train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="need at least 2 samples to split, got 1"):
        ds.train_test_split(np.arange(1))
    with pytest.raises(ValueError, match="array 0 must be an array of samples, got a scalar"):
        ds.train_test_split(np.float64(3.0))


def test_stratified_split_impossible_sizes():
    y = np.repeat(np.arange(5), 4)  # 5 classes of 4
    with pytest.raises(ValueError, match="cannot hold each of the 5 classes"):
        ds.train_test_split(y, test_size=3, stratify=y)
    y = np.array([0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="cannot put 5 samples in the test part"):
        ds.train_test_split(y, test_size=5, stratify=y)


# --------------------------------------------------------------------------- Standardizer

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


# --------------------------------------------------------------------------- mini-batches

def test_minibatches_sequential_views_and_sizes():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    batches = list(ds.iterate_minibatches(X, y, batch_size=4))
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    for i, (xb, yb) in enumerate(batches):
        assert np.shares_memory(xb, X) and np.shares_memory(yb, y)
        np.testing.assert_array_equal(yb, np.arange(4 * i, min(4 * i + 4, 10)))
        np.testing.assert_array_equal(xb, X[yb])
    dropped = list(ds.iterate_minibatches(X, batch_size=4, drop_last=True))
    assert [b.shape for b in dropped] == [(4, 2), (4, 2)]
    assert all(isinstance(b, np.ndarray) for b in dropped)  # no tuple without y
    assert [len(b) for b in ds.iterate_minibatches(X, batch_size=32)] == [10]


def test_minibatches_shuffled_every_row_once_aligned_and_reproducible():
    X = np.arange(103.0)[:, None] * np.array([1.0, -1.0])
    y = np.arange(103)
    first = list(ds.iterate_minibatches(X, y, batch_size=10, shuffle=True, random_state=4))
    again = list(ds.iterate_minibatches(X, y, batch_size=10, shuffle=True, random_state=4))
    other = list(ds.iterate_minibatches(X, y, batch_size=10, shuffle=True, random_state=5))
    assert [len(yb) for _, yb in first] == [10] * 10 + [3]
    seen = np.concatenate([yb for _, yb in first])
    assert sorted(seen.tolist()) == list(range(103))
    assert not np.array_equal(seen, np.sort(seen))
    for xb, yb in first:
        np.testing.assert_array_equal(xb[:, 0], yb)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, other))
    dropped = list(ds.iterate_minibatches(X, y, batch_size=10, shuffle=True, random_state=4,
                                          drop_last=True))
    assert [len(yb) for _, yb in dropped] == [10] * 10


def test_minibatches_generator_gives_new_order_each_epoch():
    rng = np.random.default_rng(0)
    X = np.arange(50)
    epoch1 = np.concatenate(list(ds.iterate_minibatches(X, batch_size=50, shuffle=True, random_state=rng)))
    epoch2 = np.concatenate(list(ds.iterate_minibatches(X, batch_size=7, shuffle=True, random_state=rng)))
    assert sorted(epoch1.tolist()) == sorted(epoch2.tolist()) == list(range(50))
    assert not np.array_equal(epoch1, epoch2)


def test_minibatches_block_shuffle_visits_whole_blocks():
    X = np.arange(50)
    batches = list(ds.iterate_minibatches(X, batch_size=10, shuffle=True, random_state=1,
                                          block_size=10))
    blocks = [int(b[0]) // 10 for b in batches]
    for b, block in zip(batches, blocks):
        np.testing.assert_array_equal(np.sort(b), np.arange(10 * block, 10 * block + 10))
    assert sorted(blocks) == [0, 1, 2, 3, 4]
    assert blocks != [0, 1, 2, 3, 4]  # blocks visited in a random order


def test_minibatches_in_memory_default_is_a_full_shuffle():
    X = np.arange(1000)
    rows = np.concatenate(list(ds.iterate_minibatches(X, batch_size=100, shuffle=True,
                                                      random_state=0)))
    # rows from both ends of the array meet in the first batch only with a global shuffle
    first = rows[:100]
    assert first.min() < 200 and first.max() > 800


def _write_memmap(path, n_rows, n_cols):
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, n_cols))
    step = 50_000
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        array[start:stop, 0] = np.arange(start, stop, dtype=np.float32)
        array[start:stop, 1:] = 1.0
    array.flush()
    del array
    return np.load(path, mmap_mode="r")


def test_minibatches_on_memmap_use_little_memory(tmp_path):
    n_rows, n_cols = 200_000, 40  # 32 MB on disk
    X = _write_memmap(tmp_path / "big.npy", n_rows, n_cols)
    y = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=np.int64, shape=(n_rows,))
    y[:] = np.arange(n_rows)
    y.flush()
    y = np.load(tmp_path / "y.npy", mmap_mode="r")
    array_bytes = X.nbytes + y.nbytes

    def one_pass(**kwargs):
        visits = np.zeros(n_rows, dtype=np.int64)
        tracemalloc.start()
        try:
            for xb, yb in ds.iterate_minibatches(X, y, batch_size=256, **kwargs):
                assert np.array_equal(xb[:, 0], yb)
                np.add.at(visits, yb, 1)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_array_equal(visits, 1)
        return peak

    assert one_pass(shuffle=False) < array_bytes / 100
    assert one_pass(shuffle=True, random_state=0, block_size=8192) < array_bytes / 100
    assert one_pass(shuffle=True, random_state=0) < array_bytes / 10

    # tracemalloc does see NumPy's allocations, so the bounds above are meaningful
    tracemalloc.start()
    try:
        copy = np.array(X[: n_rows // 2])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak >= copy.nbytes
    del copy

    unshuffled = next(iter(ds.iterate_minibatches(X, batch_size=256)))
    assert np.shares_memory(unshuffled, X)

    def order(seed):
        return np.concatenate([yb for _, yb in ds.iterate_minibatches(
            X, y, batch_size=4096, shuffle=True, random_state=seed, block_size=20_000)])

    np.testing.assert_array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))


def test_minibatches_errors():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        ds.iterate_minibatches(X, batch_size=0)
    with pytest.raises(ValueError, match="batch_size must be an integer"):
        ds.iterate_minibatches(X, batch_size=2.5)
    with pytest.raises(ValueError, match="X has 5 rows but y has 4"):
        ds.iterate_minibatches(X, np.zeros(4))
    with pytest.raises(ValueError, match="block_size must be >= 1"):
        ds.iterate_minibatches(X, shuffle=True, block_size=0)
    with pytest.raises(ValueError, match="random_state"):
        ds.iterate_minibatches(X, shuffle=True, random_state=-5)
    with pytest.raises(ValueError, match="X must be an array of samples, got a scalar"):
        ds.iterate_minibatches(3.0)
