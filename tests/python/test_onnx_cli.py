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
