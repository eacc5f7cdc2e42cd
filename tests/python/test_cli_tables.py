"""fastmlp train / predict / evaluate on the CSV files practitioners have, run as a subprocess: text
categories, missing cells, an id column, ';' separators, CRLF, a UTF-8 BOM, quoted fields with commas,
scikit-learn's bundled iris.csv; predictions checked against scikit-learn on the same data."""
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastmlp as fm

pytest.importorskip("pandas")
sklearn = pytest.importorskip("sklearn")
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

COLORS = ("red", "green", "blue")
CITIES = ("Paris, FR", "Lyon, FR", "Bern, CH")   # commas inside quoted fields
MISSING = ("", "NA", "?", "N/A")


def run(cwd, *args, status=0, env=None):
    result = subprocess.run([sys.executable, "-m", "fastmlp", *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, timeout=180, env={**os.environ, **(env or {})})
    assert result.returncode == status, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def customers(n, seed):
    """Columns of a customer table: an id, a text category, a quoted text with commas, numbers with gaps."""
    rng = np.random.default_rng(seed)
    color = rng.choice(COLORS, n)
    city = rng.choice(CITIES, n)
    size = rng.normal(10, 3, n)
    income = rng.normal(50_000, 15_000, n)
    effect = np.select([color == "red", color == "green"], [2.0, 0.0], -2.0) + (city == "Bern, CH") * 1.0
    score = effect + (size - 10) / 1.5 + rng.normal(0, 0.3, n)
    return {"customer_id": np.arange(1000, 1000 + n), "color": color, "city": city, "size": size,
            "income": income, "label": np.where(score > 0, "yes", "no"), "price": 100 + 10 * score}


def write(path, columns, names, delimiter=",", newline="\n", bom=False, gaps=0.0, seed=0):
    """Write the named columns; `gaps` of the size and color cells become missing markers."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as stream:
        writer = csv.writer(stream, delimiter=delimiter, lineterminator=newline)
        writer.writerow(names)
        for i in range(len(columns[names[0]])):
            row = []
            for name in names:
                value = columns[name][i]
                text = repr(float(value)) if isinstance(value, float) else str(value)
                if name in ("size", "color") and rng.random() < gaps:
                    text = MISSING[rng.integers(len(MISSING))]
                row.append(text)
            writer.writerow(row)


def read_predictions(path):
    with open(path, newline="") as stream:
        rows = list(csv.reader(stream))
    return rows[0], rows[1:]


def sklearn_reference(train, test, target, gaps):
    """scikit-learn's pipeline on the same cells: impute, one-hot, scale, then a linear model."""
    import pandas as pd

    def frame(path):
        return pd.read_csv(path, sep=None, engine="python", na_values=list(MISSING), keep_default_na=False)

    train_frame, test_frame = frame(train), frame(test)
    numeric, categorical = ["size", "income"], ["color", "city"]
    encode = ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median", add_indicator=True), numeric),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                      OneHotEncoder(handle_unknown="ignore")), categorical)])
    model = LogisticRegression() if target == "label" else Ridge(alpha=1e-3)
    pipeline = make_pipeline(encode, StandardScaler(), model).fit(train_frame[numeric + categorical],
                                                                  train_frame[target])
    return pipeline.predict(test_frame[numeric + categorical]), test_frame


KINDS = {
    "categorical": {},
    "missing": {"gaps": 0.15},
    "semicolon": {"delimiter": ";"},
    "crlf": {"newline": "\r\n"},
    "bom": {"bom": True},
    "tab": {"delimiter": "\t", "gaps": 0.05},
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_classifier_on_each_kind_of_file_carries_ids_and_matches_sklearn(tmp_path, kind):
    options = KINDS[kind]
    names = ["customer_id", "color", "city", "size", "income", "label"]
    write(tmp_path / "train.csv", customers(500, seed=1), names, seed=1, **options)
    write(tmp_path / "new.csv", customers(200, seed=2), names[:-1], seed=2, **options)
    write(tmp_path / "test.csv", customers(200, seed=2), names, seed=2, **options)
    out = run(tmp_path, "train", "train.csv", "--target", "label", "--hidden", "16", "--epochs", "60",
              "--lr", "0.01", "-q", "--test", "test.csv").stdout
    assert "numeric (2): size, income" in out
    assert "categorical (2): color, city" in out
    assert "id (1): customer_id" in out
    test_accuracy = float(re.search(r"^test \(200 rows\): accuracy ([0-9.]+)\s+macro-F1 ([0-9.]+)$", out,
                                    re.MULTILINE).group(1))
    run(tmp_path, "predict", "model.fmlp", "new.csv", "--out", "predictions.csv")
    header, rows = read_predictions(tmp_path / "predictions.csv")
    assert header == ["customer_id", "prediction", "p_no", "p_yes"]
    assert [row[0] for row in rows] == [str(i) for i in range(1000, 1200)]
    reference, test_frame = sklearn_reference(tmp_path / "train.csv", tmp_path / "test.csv", "label", options)
    truth = test_frame["label"].to_numpy()
    predicted = np.array([row[1] for row in rows])
    ours = np.mean(predicted == truth)
    assert ours == pytest.approx(test_accuracy, abs=1e-9)     # --test scores what predict writes
    # The labels follow a linear rule of the encoded columns: scikit-learn's logistic regression is the yardstick.
    assert ours >= np.mean(reference == truth) - 0.04 and ours > 0.85
    probabilities = np.array([[float(v) for v in row[2:]] for row in rows])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_regression_with_missing_cells_matches_sklearn_and_reports_rmse_mae_r2(tmp_path):
    names = ["customer_id", "color", "city", "size", "income", "price"]
    write(tmp_path / "train.csv", customers(600, seed=3), names, gaps=0.1, seed=3)
    write(tmp_path / "test.csv", customers(200, seed=4), names, gaps=0.1, seed=4)
    out = run(tmp_path, "train", "train.csv", "--target", "price", "--hidden", "none", "--epochs", "80",
              "--lr", "0.01", "-q", "--test", "test.csv").stdout
    scores = re.search(r"^test \(200 rows\): RMSE ([0-9.e+-]+)\s+MAE ([0-9.e+-]+)\s+R2 ([0-9.-]+)$", out,
                       re.MULTILINE)
    assert scores, out
    run(tmp_path, "predict", "model.fmlp", "test.csv", "--out", "p.csv")
    header, rows = read_predictions(tmp_path / "p.csv")
    assert header == ["customer_id", "prediction"]
    predicted = np.array([float(row[1]) for row in rows])
    reference, frame = sklearn_reference(tmp_path / "train.csv", tmp_path / "test.csv", "price", {})
    truth = frame["price"].to_numpy()
    r2 = 1 - np.sum((predicted - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    r2_reference = 1 - np.sum((reference - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert float(scores.group(3)) == pytest.approx(r2, abs=1e-3)
    # no hidden layer: the same linear model on the same encoded columns as Ridge
    assert r2 == pytest.approx(r2_reference, abs=0.02)


def test_missing_target_cells_are_left_out_with_a_warning_not_turned_into_classes(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=80).tolist()
    lines = ["x,y"] + [f"{a!r},{2 * a + 1!r}" for a in x]
    lines[17] = f"{x[16]!r},NA"
    lines[40] = f"{x[39]!r},?"
    (tmp_path / "reg.csv").write_text("\n".join(lines) + "\n")
    result = run(tmp_path, "train", "reg.csv", "--target", "y", "--epochs", "5", "-q", "--validation-split", "0")
    assert "task: regression (78 distinct real values in 78 rows)" in result.stdout
    assert "2 row(s) with a missing target 'y' (line(s) 18, 41) left out of training" in result.stderr
    ints = ["x,label"] + [f"{a!r},{int(a > 0)}" for a in x]
    ints[5] = f"{x[4]!r},NA"
    (tmp_path / "cls.csv").write_text("\n".join(ints) + "\n")
    out = run(tmp_path, "train", "cls.csv", "--target", "label", "--epochs", "2", "-q").stdout
    assert "2 classes: 0, 1" in out


def test_unknown_categories_are_zero_and_reported_once(tmp_path):
    names = ["color", "size", "label"]
    write(tmp_path / "train.csv", customers(300, seed=6), names, seed=6)
    (tmp_path / "new.csv").write_text("color,size\nred,10\npurple,10\npurple,11\nteal,9\n")
    run(tmp_path, "train", "train.csv", "--target", "label", "--epochs", "3", "-q")
    result = run(tmp_path, "predict", "model.fmlp", "new.csv", "--out", "p.csv")
    warnings = [line for line in result.stderr.splitlines() if "did not see" in line]
    assert len(warnings) == 1 and "color: 'purple' (2 rows), 'teal' (1 row)" in warnings[0]
    model = fm.load(tmp_path / "model.fmlp")
    encoded = model.table.encode(fm.datasets.tables.read_table(tmp_path / "new.csv"))[0]
    assert encoded[1:, 1:].sum() == 0 and encoded[0, 1:].tolist() == [0, 0, 1]   # blue, green, red


def test_sklearn_bundled_iris_csv_is_recognised(tmp_path):
    iris = Path(sklearn.__file__).parent / "datasets" / "data" / "iris.csv"
    assert iris.read_text().startswith("150,4,setosa,versicolor,virginica")
    result = run(tmp_path, "train", iris, "--target", "target", "--epochs", "150", "--lr", "0.01", "-q")
    assert "scikit-learn's data-set header" in result.stderr
    assert "150 rows" in result.stdout and "3 classes: 'setosa', 'versicolor', 'virginica'" in result.stdout
    assert "numeric (4): feature_0, feature_1, feature_2, feature_3" in result.stdout
    accuracy = float(re.search(r"^validation: loss [0-9.e-]+\s+accuracy ([0-9.]+)$", result.stdout,
                               re.MULTILINE).group(1))
    assert accuracy > 0.85


@pytest.mark.parametrize("content, fragment", [
    (b"", "empty file"),
    (b"a,b,y\n", "header but no data rows"),
    (b"a,a,y\n1,2,3\n4,5,6\n", "duplicate column names: 'a'"),
    (b"a,y\n1,k\n2,k\n3,k\n", "single class"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    (b"a,y\n1,0\n2_000,1\n3,0\n4,1\n", "line 3, column 'a': '2_000' is not a number"),
    ("a,y\n1,0\n\u0662,1\n3,0\n4,1\n".encode(), "line 3, column 'a'"),
    (b"a,b,y\n1,2,0\n3,4\n5,6,1\n", "line 3: 2 fields but the header has 3"),
    (b"a,y\n1,0\ninf,1\n3,0\n", "line 3, column 'a': infinite value"),
    (b"a;b;y\n1;2;0\n", "no column 'label'"),
])
def test_bad_files_get_one_line_and_exit_1(tmp_path, content, fragment):
    (tmp_path / "bad.csv").write_bytes(content)
    target = "label" if b";" in content else "y"
    result = run(tmp_path, "train", "bad.csv", "--target", target, "--epochs", "1", "-q", status=1)
    errors = [line for line in result.stderr.splitlines() if not line.startswith("fastmlp: warning")]
    assert len(errors) == 1 and errors[0].startswith("fastmlp: error: ") and fragment in errors[0], result.stderr


def test_values_beyond_1e154_train_and_save(tmp_path):
    rng = np.random.default_rng(7)
    big = (rng.uniform(1, 9, 120) * 1e200).tolist()
    small = rng.normal(size=120).tolist()
    lines = ["big,small,y"] + [f"{a!r},{b!r},{int(b > 0)}" for a, b in zip(big, small)]
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    run(tmp_path, "train", "big.csv", "--target", "y", "--epochs", "20", "-q")
    model = fm.load(tmp_path / "model.fmlp")
    assert model.preprocessing.scale_[0] == pytest.approx(np.std(np.array(big)[:96] / 1e200) * 1e200, rel=0.2)
    header, rows = read_predictions(Path(run(tmp_path, "predict", "model.fmlp", "big.csv", "--out", "p.csv")
                                         and tmp_path / "p.csv"))
    assert len(rows) == 120 and np.mean([row[0] == str(int(b > 0)) for row, b in zip(rows, small)]) > 0.8


def test_progress_line_fits_80_columns_with_one_throughput(tmp_path):
    write(tmp_path / "t.csv", customers(200, seed=8), ["color", "size", "income", "label"], seed=8)
    result = run(tmp_path, "train", "t.csv", "--target", "label", "--epochs", "4", env={"COLUMNS": "80"})
    frames = [frame for frame in re.split(r"[\r\n]", result.stderr) if frame.strip() and "epoch" in frame]
    assert frames, result.stderr
    for frame in frames:
        assert len(frame) <= 80, frame
        assert frame.count("/s") <= 1
    last = [frame for frame in frames if "loss" in frame][-1]
    assert re.search(r"\bloss=[0-9.e-]+ val_loss=[0-9.e-]+ val_acc(uracy)?=[0-9.]+ .*samples/s", last), last


def test_onnx_export_of_a_table_model_matches_fastmlp_predict(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    names = ["customer_id", "color", "city", "size", "income", "label"]
    write(tmp_path / "train.csv", customers(300, seed=9), names, gaps=0.1, seed=9)
    columns = customers(100, seed=10)
    columns["color"][:3] = "purple"                                # unseen in training
    write(tmp_path / "new.csv", columns, names[:-1], gaps=0.2, seed=10)
    run(tmp_path, "train", "train.csv", "--target", "label", "--hidden", "8", "--epochs", "10", "-q")
    run(tmp_path, "predict", "model.fmlp", "new.csv", "--out", "p.csv")
    run(tmp_path, "export", "model.fmlp", "model.onnx")
    header, rows = read_predictions(tmp_path / "p.csv")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["size", "income", "color", "city"]
    table = fm.datasets.tables.read_table(tmp_path / "new.csv")
    feeds = {}
    for name in ("size", "income"):
        feeds[name] = table.columns[name].reshape(-1, 1)
    for name in ("color", "city"):
        feeds[name] = np.array(["" if c is None else c for c in table.columns[name]], dtype=object).reshape(-1, 1)
    output, label = session.run(["output", "label"], feeds)
    np.testing.assert_allclose(output, np.array([[float(v) for v in row[2:]] for row in rows]), rtol=1e-5, atol=1e-6)
    assert label.tolist() == [row[1] for row in rows]
    # The markers the CLI reads as missing are missing in the graph too.
    markers = dict(feeds, color=np.where(feeds["color"] == "", "NA", feeds["color"]).astype(object))
    np.testing.assert_array_equal(session.run(["output"], markers)[0], output)


def test_without_pandas_train_names_the_pip_command(tmp_path):
    (tmp_path / "t.csv").write_text("a,y\n1,0\n2,1\n")
    code = ("import sys; sys.modules['pandas'] = None; from fastmlp.cli import main; "
            "sys.exit(main(['train', 't.csv', '--target', 'y']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == ("fastmlp: error: reading CSV files needs pandas, the csv extra: "
                             "pip install 'fastmlp[csv]'\n")


def test_a_wrong_delimiter_gets_a_hint(tmp_path):
    (tmp_path / "semi.csv").write_text("a;b;label\n1;2;x\n3;4;y\n")
    result = run(tmp_path, "train", "semi.csv", "--target", "label", "--delimiter", ",", status=1)
    assert "is the delimiter ';'? give --delimiter" in result.stderr
