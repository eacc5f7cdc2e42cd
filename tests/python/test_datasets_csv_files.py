"""Tests for fastmlp.datasets.csv_files: load_csv and save_csv."""

import csv

import numpy as np
import pytest

from fastmlp import datasets as ds


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


@pytest.mark.parametrize("cell", ["1_000", "\u0661\u0662", "\uff11\uff12"])
def test_only_ascii_numbers_are_numbers(tmp_path, cell):
    # float() takes these; no CSV reader of the ecosystem does (pandas, pyarrow, numpy.loadtxt)
    path = tmp_path / "digits.csv"
    path.write_text(f"a,y\n{cell},1\n2,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"line 2, column 'a': feature value '{cell}' is not a number"):
        ds.load_csv(path)
