"""The CSV reader (fastmlp.datasets.tables) and the fitted preprocessing (TableSchema): scikit-learn's
pipeline as the reference, the model file's "table" entry, the reader's rules for numbers and lines."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastmlp as fm
from fastmlp.datasets.preprocessing import Standardizer
from fastmlp.datasets.schema import TableSchema, infer_roles
from fastmlp.datasets.tables import read_table

pd = pytest.importorskip("pandas")


def write(path, text, encoding="utf-8"):
    Path(path).write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def mixed(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["size,color,city,weight"]
    for i in range(120):
        size = "" if i % 9 == 0 else ("NA" if i % 13 == 0 else repr(float(rng.normal(10, 3))))
        color = "?" if i % 11 == 0 else str(rng.choice(["red", "green", "blue", "blue"]))
        city = '"Paris, FR"' if i % 3 else '"Bern, CH"'
        lines.append(f"{size},{color},{city},{rng.normal(70, 9)!r}")
    return write(tmp_path / "mixed.csv", "\n".join(lines) + "\n")


def sklearn_pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return make_pipeline(ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median", add_indicator=True), ["size", "weight"]),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         ["color", "city"])]), StandardScaler())


def frame_of(path):
    frame = pd.read_csv(path, na_values=["", "NA", "?"], keep_default_na=False)
    return frame.astype({"color": object, "city": object}).where(frame.notna(), np.nan)


def test_schema_matches_sklearn_impute_one_hot_scale(mixed, tmp_path):
    pytest.importorskip("sklearn")
    table = read_table(mixed)
    roles = infer_roles(table)
    assert {name: role for name, (role, _) in roles.items()} == {
        "size": "numeric", "color": "categorical", "city": "categorical", "weight": "numeric"}
    schema = TableSchema.fit(table, roles)
    assert schema.feature_names == ["size", "weight", "size (missing)", "color=blue", "color=green", "color=red",
                                    "city=Bern, CH", "city=Paris, FR"]
    reference = sklearn_pipeline().fit(frame_of(mixed))
    np.testing.assert_allclose(schema.transform(table), reference.transform(frame_of(mixed)), rtol=1e-12, atol=1e-12)
    # New rows: an unseen color (all zeros, as handle_unknown="ignore"), missing cells of both kinds.
    new = write(tmp_path / "new.csv", 'size,color,city,weight\n,purple,"Bern, CH",60\n12.5,,"Oslo, NO",NA\n')
    encoded, unknown = schema.encode(read_table(new))
    assert dict(unknown["color"]) == {"purple": 1} and dict(unknown["city"]) == {"Oslo, NO": 1}
    np.testing.assert_allclose(schema.standardizer.transform(encoded), reference.transform(frame_of(new)),
                               rtol=1e-12, atol=1e-12)


def test_the_schema_is_stored_as_data_and_loads_back(mixed, tmp_path):
    table = read_table(mixed)
    schema = TableSchema.fit(table, infer_roles(table))
    model = fm.Sequential([fm.Dense(4, activation="tanh"), fm.Dense(1)], input_dim=schema.width, seed=1)
    model.preprocessing, model.table = schema.standardizer, schema
    model.save(tmp_path / "m.fmlp")
    loaded = fm.load(tmp_path / "m.fmlp")
    description, _ = fm.fileformat.load(tmp_path / "m.fmlp")
    assert description["table"] == schema.to_description()
    np.testing.assert_array_equal(loaded.table.transform(table), schema.transform(table))
    np.testing.assert_array_equal(loaded.predict(loaded.table.encode(table)[0]), model.predict(schema.encode(table)[0]))


@pytest.mark.parametrize("edit, fragment", [
    (lambda t: t.update(columns=[]), "non-empty list"),
    (lambda t: t.update(extra=1), "one field 'columns'"),
    (lambda t: t["columns"][0].update(fill="x"), "finite number"),
    (lambda t: t["columns"][0].update(indicator=1), "true or false"),
    (lambda t: t["columns"][0].update(kind="text"), "'numeric' or 'categorical'"),
    (lambda t: t["columns"][1].update(name=t["columns"][0]["name"]), "distinct"),
    (lambda t: t["columns"][-1].update(categories=["b", "a"]), "sorted list"),
    (lambda t: t["columns"][-1].update(fill="nowhere"), "one of its categories"),
    (lambda t: t["columns"].reverse(), "numeric after a categorical"),
    (lambda t: t["columns"].pop(), "encodes"),
])
def test_malformed_table_entries_raise_format_error(mixed, tmp_path, edit, fragment):
    table = read_table(mixed)
    schema = TableSchema.fit(table, infer_roles(table))
    model = fm.Sequential([fm.Dense(2)], input_dim=schema.width, seed=1)
    model.preprocessing, model.table = schema.standardizer, schema
    description, tensors = model._fmlp_payload()
    edit(description["table"])
    with pytest.raises(fm.FormatError, match="table|encodes") as error:
        fm.fileformat.save(tmp_path / "bad.fmlp", json.loads(json.dumps(description)), tensors)
    assert fragment in str(error.value)


def test_standardizer_does_not_overflow_above_1e154():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 9, (50, 2)) * [1e300, 1.0]
    scaler = Standardizer().fit(X)
    assert np.isfinite(scaler.mean_).all() and np.isfinite(scaler.scale_).all()
    scaled = X / 1e300
    assert scaler.scale_[0] == pytest.approx(scaled[:, 0].std() * 1e300, rel=1e-12)
    assert scaler.mean_[1] == pytest.approx(X[:, 1].mean(), rel=1e-14)
    np.testing.assert_allclose(scaler.transform(X).std(axis=0), 1.0, rtol=1e-12)


# ---------------------------------------------------------------- the reader

@pytest.mark.parametrize("text, delimiter", [
    ("a;b;y\n1,5;2;x\n3;4;y\n", ";"), ("a\tb\ty\n1\t2\tx\n", "\t"), ("a|b|y\n1|2|x\n", "|"),
    ('a,b,y\n"1;2",3,x\n4,5,y\n', ","),
])
def test_the_delimiter_is_found(tmp_path, text, delimiter):
    table = read_table(write(tmp_path / "d.csv", text))
    assert table.delimiter == delimiter and table.names == ["a", "b", "y"]


def test_bom_crlf_quotes_and_missing_markers(tmp_path):
    text = '\ufeffname,x,y\r\n"Smith, J",1.5,a\r\n"said ""hi""",NA,b\r\n?,N/A,\r\n'
    table = read_table(write(tmp_path / "t.csv", text))
    assert table.names == ["name", "x", "y"]
    assert table.columns["name"].tolist() == ["Smith, J", 'said "hi"', None]
    assert np.isnan(table.columns["x"][1:]).all() and table.columns["x"][0] == 1.5
    assert table.columns["y"].tolist() == ["a", "b", None]


@pytest.mark.parametrize("cell", ["1_000", "\u0661\u0662\u0663", "\uff11\uff12\uff13", "0x10", "1d5"])
def test_only_ascii_numbers_are_numbers(tmp_path, cell):
    table = read_table(write(tmp_path / "n.csv", f"a,b\n{cell},1\n"))
    assert table.columns["a"].tolist() == [cell] and table.columns["b"].tolist() == [1.0]


def test_lines_are_counted_across_blank_lines_and_quoted_line_breaks(tmp_path):
    text = 'a,b\n1,"two\nlines"\n\n3,x\n4,y\n5,z_000\n'
    table = read_table(write(tmp_path / "l.csv", text))
    assert [table.line(row) for row in range(4)] == [2, 5, 6, 7]
    assert table.take(np.array([3, 1])).line(0) == 7


def test_no_header(tmp_path):
    table = read_table(write(tmp_path / "h.csv", "1,2,x\n3,4,y\n"), header=False)
    assert table.names == ["column_1", "column_2", "column_3"] and table.n_rows == 2


def test_sklearn_iris_csv(tmp_path):
    sklearn = pytest.importorskip("sklearn")
    table = read_table(Path(sklearn.__file__).parent / "datasets" / "data" / "iris.csv")
    assert table.names == ["feature_0", "feature_1", "feature_2", "feature_3", "target"] and table.n_rows == 150
    assert sorted(set(table.columns["target"])) == ["setosa", "versicolor", "virginica"]
    from sklearn.datasets import load_iris
    np.testing.assert_array_equal(np.column_stack([table.columns[f"feature_{j}"] for j in range(4)]), load_iris().data)


def test_without_pandas_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'fastmlp\[csv\]'"):
        read_table(write(tmp_path / "p.csv", "a,b\n1,2\n"))


def test_import_fastmlp_does_not_import_pandas():
    code = "import sys, fastmlp, fastmlp.cli; print('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
