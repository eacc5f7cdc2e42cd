"""The fastmlp command line, run as a user runs it: a subprocess in a fresh folder, on CSV files
written here. Data sets are small and epochs few so the whole file takes seconds."""
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import cli
from fastmlp.datasets import make_spirals, save_csv

CONSOLE_SCRIPT = Path(sys.executable).parent / ("fastmlp.exe" if os.name == "nt" else "fastmlp")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(cwd, *args, script=False, status=0):
    """Run `python -m fastmlp ARGS` (or the console script) in cwd; check and return the result."""
    command = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "fastmlp"]
    result = subprocess.run([*command, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == status, f"exit status {result.returncode}\nstdout:\n{result.stdout}\n" \
                                        f"stderr:\n{result.stderr}"
    return result


def read_rows(path_or_text):
    text = Path(path_or_text).read_text() if isinstance(path_or_text, Path) else path_or_text
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:]


def assert_one_line_error(result, *fragments):
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fastmlp: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# ----------------------------------------------------------------------------- data written by the tests

CLASS_NAMES = ("far, left", "middle", "right")   # a comma inside a label tests CSV quoting


def write_classification_csv(path, n_samples, seed):
    """Three bands along an offset, scaled feature; a second feature is noise."""
    rng = np.random.default_rng(seed)
    position = rng.uniform(-1, 1, n_samples)
    band = np.digitize(position, [-1 / 3, 1 / 3])
    X = np.column_stack([position * 500 + 2000, rng.normal(size=n_samples)])
    labels = np.array(CLASS_NAMES)[band]
    save_csv(path, X, labels, feature_names=["distance", "noise"], target_name="zone")
    return X, labels


def write_regression_csv(path, n_samples, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 3))
    y = 1000 + 200 * X[:, 0] - 50 * X[:, 1] + 30 * np.tanh(X[:, 2])
    save_csv(path, X, y, feature_names=["rooms", "age", "floor"], target_name="price")
    return X, y


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def classifier(workdir):
    X, labels = write_classification_csv(workdir / "zones.csv", 300, seed=1)
    result = run(workdir, "train", "zones.csv", "--target", "zone", "--hidden", "16", "--epochs", "40",
                 "--lr", "0.01", "--out", "zones.fmlp", "--quiet")
    return {"X": X, "labels": labels, "train": result, "model": workdir / "zones.fmlp"}


@pytest.fixture(scope="module")
def regressor(workdir):
    X, y = write_regression_csv(workdir / "houses.csv", 300, seed=2)
    result = run(workdir, "train", "houses.csv", "--target", "price", "--hidden", "16", "--epochs", "60",
                 "--lr", "0.01", "--out", "houses.fmlp", "--quiet")
    return {"X": X, "y": y, "train": result, "model": workdir / "houses.fmlp"}


# ----------------------------------------------------------------------------- demo

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return folder, run(folder, "demo", "--plot", "plots")


def test_demo_prints_test_accuracy_above_095_and_saves_a_working_model(demo):
    folder, result = demo
    accuracy = re.search(r"^test accuracy:\s+([0-9.]+)$", result.stdout, re.MULTILINE)
    assert accuracy, result.stdout
    assert float(accuracy.group(1)) > 0.95
    path = folder / "fastmlp-demo.fmlp"
    assert str(path.resolve()) in result.stdout          # says where
    model = fm.load(path)
    # Fresh spirals from another seed: the saved model is the trained one, not a stub.
    X, y = make_spirals(n_samples=600, n_classes=3, noise=0.2, random_state=123)
    assert model.evaluate(X, y)["accuracy"] > 0.95
    assert model.metadata["classes"] == [0, 1, 2]
    assert "fastmlp info" in result.stdout               # suggests the next command


def test_demo_shows_a_progress_bar_and_writes_the_plots(demo):
    folder, result = demo
    assert "epoch" in result.stderr                      # tqdm's bar goes to stderr
    for name in ("decision_boundary.png", "loss_curves.png"):
        assert (folder / "plots" / name).read_bytes()[:8] == PNG_SIGNATURE


def test_demo_plot_without_matplotlib_says_how_to_install_it(tmp_path):
    # None in sys.modules makes `import matplotlib` fail as if it were not installed.
    code = ("import sys; sys.modules['matplotlib'] = None; from fastmlp.cli import main; "
            "sys.exit(main(['demo', '--plot', 'plots']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert_one_line_error(result, "pip install 'fastmlp[plot]'")
    assert not (tmp_path / "fastmlp-demo.fmlp").exists()  # refused before training


# ----------------------------------------------------------------------------- classification

def test_train_classifier_reports_task_classes_and_validation(classifier):
    out = classifier["train"].stdout
    assert "task: classification (the target holds text labels), 3 classes: 'far, left', 'middle', 'right'" in out
    assert "validating on 60 (stratified)" in out
    validation = re.search(r"^validation: loss ([0-9.e-]+)\s+accuracy ([0-9.]+)$", out, re.MULTILINE)
    assert validation and float(validation.group(2)) > 0.85
    assert classifier["train"].stderr == ""              # --quiet: no progress bar


def test_classifier_file_stores_standardiser_and_metadata(classifier):
    model = fm.load(classifier["model"])
    assert model.metadata["task"] == "classification"
    assert model.metadata["target"] == "zone"
    assert model.metadata["features"] == ["distance", "noise"]
    assert model.metadata["classes"] == list(CLASS_NAMES)
    assert model.loss == "cross_entropy" and model.layers[-1].activation == "softmax"
    assert [layer.units for layer in model.layers] == [16, 3]
    # The standardiser was fitted on the 240 training rows: close to, not equal to, the full data's.
    assert model.preprocessing.mean_[0] == pytest.approx(classifier["X"][:, 0].mean(), rel=0.02)
    assert model.preprocessing.scale_[0] == pytest.approx(classifier["X"][:, 0].std(), rel=0.05)


def test_predict_writes_labels_and_probabilities(workdir, classifier):
    result = run(workdir, "predict", "zones.fmlp", "zones.csv", "--out", "zones-pred.csv")
    assert "300" in result.stdout and "zones-pred.csv" in result.stdout
    header, rows = read_rows(workdir / "zones-pred.csv")
    assert header == ["prediction", "p_far, left", "p_middle", "p_right"]
    assert len(rows) == 300
    probabilities = np.array([[float(v) for v in row[1:]] for row in rows])
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    predicted = np.array([row[0] for row in rows])
    # The label is the most probable class.
    np.testing.assert_array_equal(predicted, np.array(CLASS_NAMES)[probabilities.argmax(axis=1)])
    assert np.mean(predicted == classifier["labels"]) > 0.85


def test_predict_to_stdout_matches_the_file_and_columns_go_by_name(workdir, classifier):
    # Same features in another order, no target column, rows of a new sample.
    X, _ = write_classification_csv(workdir / "unused.csv", 50, seed=9)
    save_csv(workdir / "new.csv", X[:, ::-1], feature_names=["noise", "distance"])
    printed = run(workdir, "predict", "zones.fmlp", "new.csv").stdout
    header, rows = read_rows(printed)
    assert header == ["prediction", "p_far, left", "p_middle", "p_right"] and len(rows) == 50
    save_csv(workdir / "new-ordered.csv", X, feature_names=["distance", "noise"])
    run(workdir, "predict", "zones.fmlp", "new-ordered.csv", "--out", "ordered.csv")
    assert read_rows(workdir / "ordered.csv")[1] == rows
    model = fm.load(classifier["model"])
    np.testing.assert_allclose(np.array([[float(v) for v in row[1:]] for row in rows]), model.predict(X), rtol=1e-6)


def test_evaluate_classifier_agrees_with_the_predictions(workdir, classifier):
    run(workdir, "predict", "zones.fmlp", "zones.csv", "--out", "for-evaluate.csv")
    _, rows = read_rows(workdir / "for-evaluate.csv")
    correct = sum(row[0] == label for row, label in zip(rows, classifier["labels"]))
    out = run(workdir, "evaluate", "zones.fmlp", "zones.csv").stdout
    assert f"accuracy: {correct / 300:.4f} ({correct} of 300)" in out
    loss = float(re.search(r"^loss \(cross_entropy\): ([0-9.e-]+)$", out, re.MULTILINE).group(1))
    probabilities = np.array([[float(v) for v in row[1:]] for row in rows])
    true_index = np.searchsorted(CLASS_NAMES, classifier["labels"])
    expected_loss = -np.mean(np.log(probabilities[np.arange(300), true_index]))
    assert loss == pytest.approx(expected_loss, rel=1e-3)
    assert "true \\ predicted" in out                    # confusion matrix


def test_info_shows_architecture_parameters_and_metadata(workdir, classifier):
    out = run(workdir, "info", "zones.fmlp").stdout
    # 2 features -> 16 relu -> 3 softmax: (2 + 1)·16 + (16 + 1)·3 parameters.
    assert f"parameters: {3 * 16 + 17 * 3:,}" in out
    assert "dtype: float32" in out and "loss: cross_entropy" in out
    assert "0 Dense  (2, 16)" in out and "1 Dense  (16, 3)" in out
    assert "task: classification, target 'zone'" in out
    assert "classes (3): 'far, left', 'middle', 'right'" in out
    assert "features (2): distance, noise" in out
    assert f"{os.path.getsize(classifier['model']):,} bytes" in out
    assert f"written by fastmlp {fm.__version__}" in out


def test_evaluate_refuses_labels_the_model_does_not_know(workdir, classifier):
    save_csv(workdir / "unknown.csv", classifier["X"][:3], ["middle", "elsewhere", "right"],
             feature_names=["distance", "noise"], target_name="zone")
    result = run(workdir, "evaluate", "zones.fmlp", "unknown.csv", status=1)
    assert_one_line_error(result, "'elsewhere'", "unknown.csv")


def test_predict_refuses_missing_feature_columns(workdir, classifier):
    save_csv(workdir / "missing.csv", classifier["X"][:5, :1], feature_names=["distance"])
    result = run(workdir, "predict", "zones.fmlp", "missing.csv", status=1)
    assert_one_line_error(result, "missing feature column(s) 'noise'")


# ----------------------------------------------------------------------------- regression

def test_regression_predicts_in_the_targets_units(workdir, regressor):
    out = regressor["train"].stdout
    assert "task: regression (300 distinct real values in 300 rows)" in out
    model = fm.load(regressor["model"])
    assert model.metadata["task"] == "regression" and "classes" not in model.metadata
    assert model.loss == "mse" and model.layers[-1].activation == "identity"

    run(workdir, "predict", "houses.fmlp", "houses.csv", "--out", "houses-pred.csv")
    header, rows = read_rows(workdir / "houses-pred.csv")
    assert header == ["prediction"] and len(rows) == 300
    predicted = np.array([float(row[0]) for row in rows])
    y = regressor["y"]
    # Targets near 1000 with spread 200: a model that forgot to undo the target scaling is far off.
    r2 = 1 - np.sum((predicted - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 > 0.9
    assert abs(predicted.mean() - y.mean()) < 0.1 * y.std()

    evaluated = run(workdir, "evaluate", "houses.fmlp", "houses.csv").stdout
    assert float(re.search(r"^R2:\s+([0-9.-]+)$", evaluated, re.MULTILINE).group(1)) == pytest.approx(r2, abs=2e-4)
    mse = float(re.search(r"^MSE:\s+([0-9.e+-]+)$", evaluated, re.MULTILINE).group(1))
    assert mse == pytest.approx(np.mean((predicted - y) ** 2), rel=1e-3)

    info = run(workdir, "info", "houses.fmlp").stdout
    assert "task: regression, target 'price'" in info and "features (3): rooms, age, floor" in info


# ----------------------------------------------------------------------------- task rule

@pytest.mark.parametrize("values, task", [
    (np.array(["a", "b", "a", "b"]), "classification"),
    (np.tile(np.arange(20.0), 5), "classification"),          # 20 distinct integers in 100 rows
    (np.tile(np.arange(21.0), 5), "regression"),              # 21 distinct: too many classes
    (np.tile(np.arange(10.0), 2)[:19], "regression"),         # 10 distinct in 19 rows: not under half
    (np.tile([0.5, 1.5], 50), "regression"),                  # not integers
])
def test_auto_task_rule(values, task):
    assert cli.infer_task(values)[0] == task


def test_integer_labels_train_a_classifier_with_numeric_class_columns(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 2))
    save_csv(tmp_path / "ints.csv", X, (X[:, 0] > 0).astype(int), target_name="label")
    run(tmp_path, "train", "ints.csv", "--target", "label", "--epochs", "5", "--quiet")
    header, rows = read_rows(run(tmp_path, "predict", "model.fmlp", "ints.csv").stdout)
    assert header == ["prediction", "p_0", "p_1"] and len(rows) == 120
    assert {row[0] for row in rows} <= {"0", "1"}


# ----------------------------------------------------------------------------- errors and options

@pytest.fixture(scope="module")
def broken_files(workdir):
    (workdir / "ragged.csv").write_text("a,b,label\n1,2,x\n3,4\n5,6,y\n")
    (workdir / "random.fmlp").write_bytes(np.random.default_rng(0).bytes(256))
    return workdir


@pytest.mark.parametrize("args, fragments", [
    (["train", "absent.csv", "--target", "y"], ["absent.csv", "No such file"]),
    (["train", "ragged.csv", "--target", "label"], ["ragged.csv", "line 3"]),
    (["info", "random.fmlp"], ["random.fmlp", "not a fastmlp model file"]),
    (["predict", "random.fmlp", "ragged.csv"], ["random.fmlp"]),
    (["predict", "absent.fmlp", "ragged.csv"], ["absent.fmlp", "No such file"]),
    (["train", "ragged.csv", "--target", "nope"], ["'nope'", "a, b, label"]),
])
def test_errors_print_one_line_and_exit_1(broken_files, args, fragments):
    result = run(broken_files, *args, status=1)
    assert_one_line_error(result, *fragments)
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["info", "random.fmlp", "--debug"], ["--debug", "train", "ragged.csv",
                                                                       "--target", "label"]])
def test_debug_shows_the_traceback(broken_files, args):
    result = run(broken_files, *args, status=1)
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("fastmlp: error: ")


def test_usage_errors_exit_2_and_version_prints(tmp_path):
    assert "--target" in run(tmp_path, "train", "data.csv", status=2).stderr
    assert "--hidden" in run(tmp_path, "train", "data.csv", "--target", "y", "--hidden", "8,x", status=2).stderr
    assert run(tmp_path, "--version").stdout.strip() == f"fastmlp {fm.__version__}"
    help_text = run(tmp_path, "train", "--help").stdout
    assert "examples:" in help_text and "fewer distinct values than half the rows" in help_text


def test_progress_bar_unless_quiet(tmp_path):
    write_classification_csv(tmp_path / "z.csv", 60, seed=4)
    noisy = run(tmp_path, "train", "z.csv", "--target", "zone", "--epochs", "3")
    assert "epoch" in noisy.stderr and "3/3" in noisy.stderr
    quiet = run(tmp_path, "train", "z.csv", "--target", "zone", "--epochs", "3", "-q")
    assert quiet.stderr == ""
    assert "validation: loss" in quiet.stdout           # results still printed


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="the fastmlp console script is not installed here")
def test_console_script_runs_like_python_m(workdir, classifier, broken_files):
    assert run(workdir, "info", "zones.fmlp", script=True).stdout == run(workdir, "info", "zones.fmlp").stdout
    result = run(workdir, "info", "random.fmlp", script=True, status=1)
    assert_one_line_error(result, "random.fmlp")


def test_keyboard_interrupt_exits_130_quietly(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "command_info", interrupted)
    assert cli.main(["info", "any.fmlp"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ----------------------------------------------------------------------------- models saved from Python

def _python_classifier(n_features=2, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, n_features))
    y = (X[:, 0] > 0).astype(int)
    model = fm.Sequential([fm.Dense(4, activation="tanh"), fm.Dense(2, activation="softmax")], seed=seed)
    model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=0.05))
    model.fit(X, y, epochs=20, batch_size=16, verbose=0)
    return model, X, y


def test_model_without_cli_metadata_uses_every_non_target_column(tmp_path):
    model, X, y = _python_classifier()
    model.save(tmp_path / "plain.fmlp")
    save_csv(tmp_path / "plain.csv", X, y, feature_names=["first", "second"], target_name="label")
    header, rows = read_rows(run(tmp_path, "predict", "plain.fmlp", "plain.csv", "--target", "label").stdout)
    assert header == ["prediction", "p_0", "p_1"] and len(rows) == 80
    np.testing.assert_array_equal([int(row[0]) for row in rows], model.predict(X).argmax(axis=1))
    out = run(tmp_path, "evaluate", "plain.fmlp", "plain.csv", "--target", "label").stdout
    assert f"accuracy: {model.evaluate(X, y)['accuracy']:.4f}" in out
    # Without --target nothing says which column to leave out: 3 columns for 2 inputs.
    assert_one_line_error(run(tmp_path, "predict", "plain.fmlp", "plain.csv", status=1), "3 feature column(s)")
    assert run(tmp_path, "evaluate", "plain.fmlp", "plain.csv", status=2).stderr.startswith("fastmlp: error: ")


@pytest.mark.parametrize("metadata, fragment", [
    ({"features": ["a", "a"]}, "'features'"),
    ({"features": ["a", "b", "c"]}, "names 3 feature(s) but the model takes 2"),
    ({"classes": ["x", 1]}, "'classes'"),
    ({"classes": ["x", "y", "z"]}, "names 3 classes"),
    ({"target": 7}, "'target'"),
])
def test_inconsistent_metadata_is_refused(tmp_path, metadata, fragment):
    model, X, y = _python_classifier()
    model.metadata = metadata
    model.save(tmp_path / "odd.fmlp")
    save_csv(tmp_path / "odd.csv", X, feature_names=["a", "b"])
    result = run(tmp_path, "predict", "odd.fmlp", "odd.csv", status=1)
    assert_one_line_error(result, "odd.fmlp", fragment)


def test_every_sub_command_of_the_parser_runs_its_command_function():
    # The registration contract of fastmlp.cli: each module in SUBCOMMANDS adds one sub-parser
    # and fastmlp.cli exports command_<name> for it, which main() runs.
    subparsers = next(action for action in cli.build_parser()._actions if action.dest == "command")
    names = list(subparsers.choices)
    assert names == ["demo", "train", "predict", "evaluate", "info", "export", "playground"]
    assert len(names) == len(cli.SUBCOMMANDS)
    for name in names:
        assert callable(getattr(cli, f"command_{name}"))
