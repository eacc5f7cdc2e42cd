"""Models trained by the CLI (`fastmlp train`, a standardiser and class names stored in the model)
exported to ONNX: the graph standardises the raw columns and labels rows as `fastmlp predict` does."""
import csv
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import fastmlp as fm  # noqa: E402
import fastmlp.onnx as fmx  # noqa: E402
from fastmlp.datasets import save_csv  # noqa: E402
from onnx_helpers import assert_close, run  # noqa: E402

NAMES = np.array(["north", "south", "west"])


def cli(cwd, *args):
    result = subprocess.run([sys.executable, "-m", "fastmlp", *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def write_data(path, n_samples=300, seed=0, task="classification"):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(-1, 1, n_samples) * 500 + 2000, rng.normal(size=n_samples),
                         rng.normal(size=n_samples) * 0.01])
    if task == "classification":
        y = NAMES[np.digitize(X[:, 0], [1833, 2166])]
    else:
        y = 3.0 * X[:, 0] - 40.0 * X[:, 1]
    save_csv(path, X, y, feature_names=["distance", "noise", "tiny"], target_name="target")
    return X


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_cli_classifier_exports_its_standardiser_and_class_names(tmp_path, dtype):
    X = write_data(tmp_path / "train.csv")
    cli(tmp_path, "train", "train.csv", "--target", "target", "--out", "model.fmlp", "--epochs", "30",
        "--hidden", "8", "--dtype", dtype, "--quiet")
    cli(tmp_path, "predict", "model.fmlp", "train.csv", "--out", "predicted.csv", "--quiet")
    with open(tmp_path / "predicted.csv", newline="") as stream:
        predicted = [row["prediction"] for row in csv.DictReader(stream)]
    model = fm.load(tmp_path / "model.fmlp")
    rows = X.astype(dtype)
    outputs = run(fmx.export(model), rows)
    assert list(outputs) == ["output", "label"]
    assert outputs["label"].tolist() == predicted
    assert len(set(predicted)) == 3
    assert_close(outputs["output"], model.predict(rows), np.dtype(dtype))


def test_a_cli_regressor_exports_its_standardiser(tmp_path):
    X = write_data(tmp_path / "train.csv", task="regression")
    cli(tmp_path, "train", "train.csv", "--target", "target", "--out", "model.fmlp", "--epochs", "20",
        "--hidden", "8", "--quiet")
    model = fm.load(tmp_path / "model.fmlp")
    rows = X.astype(np.float32)
    outputs = run(fmx.export(model), rows)
    assert list(outputs) == ["output"]
    assert_close(outputs["output"], model.predict(rows), np.float32)


def cli_error(cwd, *args, env=None):
    result = subprocess.run([sys.executable, "-m", "fastmlp", *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp: error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx_cli")
    X = write_data(folder / "train.csv")
    cli(folder, "train", "train.csv", "--target", "target", "--out", "model.fmlp", "--epochs", "5", "--hidden",
        "6", "--quiet")
    return folder, X


def test_export_writes_a_file_onnxruntime_runs(trained):
    folder, X = trained
    result = cli(folder, "export", "model.fmlp", "model.onnx")
    assert "model.onnx" in result.stdout and "opset 17" in result.stdout
    assert "label" in result.stdout and "output" in result.stdout
    import onnx

    proto = onnx.load(folder / "model.onnx")
    onnx.checker.check_model(proto, full_check=True)
    model = fm.load(folder / "model.fmlp")
    rows = X.astype(np.float32)
    assert_close(run(proto, rows)["output"], model.predict(rows), np.float32)


def test_export_takes_an_opset(trained):
    import onnx

    folder, _ = trained
    cli(folder, "export", "model.fmlp", "model18.onnx", "--opset", "18")
    assert onnx.load(folder / "model18.onnx").opset_import[0].version == 18


def test_export_of_an_estimator_file(tmp_path):
    pytest.importorskip("sklearn")
    X, y = fm.datasets.make_blobs(90, n_features=3, centers=3, random_state=0)
    estimator = fm.LogisticRegression().fit(X, NAMES[y])
    estimator.save(tmp_path / "logistic.fmlp")
    cli(tmp_path, "export", "logistic.fmlp", "logistic.onnx")
    import onnx

    outputs = run(onnx.load(tmp_path / "logistic.onnx"), X)
    np.testing.assert_array_equal(outputs["label"], estimator.predict(X))


def test_info_says_what_an_onnx_file_holds(trained):
    folder, _ = trained
    cli(folder, "export", "model.fmlp", "info.onnx")
    text = cli(folder, "info", "info.onnx").stdout
    assert "ONNX export of a fastmlp Sequential" in text
    assert "3 -> 6 relu -> 3 softmax" in text
    assert "standardises the 3 input feature(s)" in text
    assert "classes: 3: north, south, west" in text
    assert "inputs: X float32 (N, 3)" in text
    assert "outputs: output float32 (N, 3); label string (N)" in text


def test_export_errors_are_one_line(trained, tmp_path):
    folder, _ = trained
    assert "missing.fmlp" in cli_error(folder, "export", "missing.fmlp", "out.onnx")
    assert "does not exist" in cli_error(folder, "export", "model.fmlp", "no/such/folder/out.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"\x00\xff garbage")
    assert "not an ONNX model file" in cli_error(folder, "info", str(tmp_path / "bad.onnx"))


def test_export_with_a_bad_opset_is_a_usage_error(trained):
    folder, _ = trained
    result = subprocess.run([sys.executable, "-m", "fastmlp", "export", "model.fmlp", "x.onnx", "--opset", "9"],
                            cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "opset" in result.stderr and "Traceback" not in result.stderr
    assert not (folder / "x.onnx").exists()


def test_export_without_the_onnx_package_names_the_extra(trained, tmp_path):
    import os

    folder, _ = trained
    fake = tmp_path / "fake" / "onnx"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named onnx (simulated)')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake")}
    assert "pip install 'fastmlp[onnx]'" in cli_error(folder, "export", "model.fmlp", "x.onnx", env=env)
