"""fastmlp.onnx.export of every estimator, run in onnxruntime: labels equal predict (strings too,
ties broken as predict breaks them), probabilities equal predict_proba (decision_function for
the models without it), regressors' variable is (n, n_outputs); models loaded from .fmlp files."""
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402

import fastmlp as fm  # noqa: E402
import fastmlp.onnx as fmx  # noqa: E402
from onnx_helpers import assert_close, blobs, run  # noqa: E402

DTYPES = (np.float32, np.float64)
CLASSIFIERS = ("Perceptron", "LogisticRegression", "LinearSVM", "MLPClassifier")
SETTINGS = {
    "Perceptron": {"max_iter": 20},
    "LogisticRegression": {"max_iter": 50},
    "LinearSVM": {"max_iter": 30, "random_state": 0},
    "MLPClassifier": {"hidden_layer_sizes": (8, 6), "max_iter": 100, "random_state": 0, "learning_rate_init": 0.01},
    "MLPRegressor": {"hidden_layer_sizes": (8,), "max_iter": 30, "random_state": 0, "learning_rate_init": 0.01},
}
LABELS = {"integers": np.array([3, 7, 11, 20]), "strings": np.array(["cat", "dog", "emu", "yak"])}


def fit(kind, X, y, dtype, **params):
    estimator = getattr(fm, kind)(dtype=np.dtype(dtype).name, **{**SETTINGS[kind], **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def expected_probabilities(estimator, X):
    """What `probabilities` holds: predict_proba, or decision_function as (n, columns) without it."""
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    scores = estimator.decision_function(X)
    return scores.reshape(len(X), -1)


def check_classifier(estimator, X, dtype):
    outputs = run(fmx.export(estimator), X)
    assert list(outputs) == ["label", "probabilities"]
    np.testing.assert_array_equal(outputs["label"], estimator.predict(X))
    assert outputs["label"].shape == (len(X),)
    assert outputs["probabilities"].dtype == dtype
    assert_close(outputs["probabilities"], expected_probabilities(estimator, X), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", sorted(LABELS))
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_classifiers_match_predict_and_predict_proba(kind, n_classes, labels, dtype):
    X, codes = blobs(160, 5, n_classes, seed=n_classes)
    y = LABELS[labels][codes]
    estimator = fit(kind, X, y, dtype)
    X = X.astype(dtype)
    assert len(set(estimator.predict(X))) == n_classes  # the comparison sees every class
    check_classifier(estimator, X, dtype)


def test_probabilities_columns_follow_skl2onnx():
    X, codes = blobs(80, 3, 2)
    for kind, columns in [("LogisticRegression", 2), ("MLPClassifier", 2), ("LinearSVM", 1), ("Perceptron", 1)]:
        proto = fmx.export(fit(kind, X, codes, np.float32))
        label, probabilities = proto.graph.output
        assert label.type.tensor_type.elem_type == onnx.TensorProto.INT64
        assert [d.dim_value for d in probabilities.type.tensor_type.shape.dim][1:] == [columns], kind


def test_string_labels_are_strings_in_the_graph():
    X, codes = blobs(90, 3, 3)
    estimator = fit("LogisticRegression", X, LABELS["strings"][codes], np.float64)
    label = fmx.export(estimator).graph.output[0]
    assert label.type.tensor_type.elem_type == onnx.TensorProto.STRING
    result = run(fmx.export(estimator), X[:5])["label"]
    assert result.dtype == object and set(result) <= {"cat", "dog", "emu"}


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel_mlp_classifier(dtype):
    X, codes = blobs(150, 4, 3, seed=5)
    Y = np.column_stack([codes == 0, codes != 1, X[:, 0] > 0]).astype(int)
    estimator = fit("MLPClassifier", X, Y, dtype)
    X = X.astype(dtype)
    outputs = run(fmx.export(estimator), X)
    np.testing.assert_array_equal(outputs["label"], estimator.predict(X))
    assert outputs["label"].shape == (150, 3)
    assert_close(outputs["probabilities"], estimator.predict_proba(X), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 2, 3])
def test_regressor_variable_is_n_by_n_outputs(n_outputs, dtype):
    rng = np.random.default_rng(n_outputs)
    X = rng.standard_normal((120, 4))
    Y = X @ rng.standard_normal((4, n_outputs)) + 1.0
    estimator = fit("MLPRegressor", X, Y[:, 0] if n_outputs == 1 else Y, dtype)
    X = X.astype(dtype)
    outputs = run(fmx.export(estimator), X)
    assert list(outputs) == ["variable"]
    assert outputs["variable"].shape == (120, n_outputs)  # also for several outputs (sklearn-onnx issue 474)
    assert_close(outputs["variable"], estimator.predict(X).reshape(120, n_outputs), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", [*CLASSIFIERS, "MLPRegressor"])
def test_estimators_loaded_from_fmlp_files(kind, dtype, tmp_path):
    X, codes = blobs(120, 4, 3, seed=2)
    y = codes.astype(float) + X[:, 0] if kind == "MLPRegressor" else LABELS["strings"][codes]
    fit(kind, X, y, dtype).save(tmp_path / "model.fmlp")
    loaded = fm.load(tmp_path / "model.fmlp")
    X = X.astype(dtype)
    if kind == "MLPRegressor":
        assert_close(run(fmx.export(loaded), X)["variable"][:, 0], loaded.predict(X), dtype)
    else:
        check_classifier(loaded, X, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_ties_are_broken_as_predict_breaks_them(kind, dtype):
    # several classes: every output equal, so argmax takes the first class, as np.argmax does
    X, codes = blobs(60, 3, 3)
    estimator = fit(kind, X, LABELS["strings"][codes], dtype)
    output = estimator.model_.layers[-1]
    output.W = np.repeat(output.W[:, :1], 3, axis=1)
    output.b = np.full(3, 0.25)
    X = X.astype(dtype)
    assert set(estimator.predict(X)) == {"cat"}
    np.testing.assert_array_equal(run(fmx.export(estimator), X)["label"], estimator.predict(X))
    # two classes: a score of exactly 0 (probability exactly 0.5) is not the positive class
    binary = fit(kind, X, LABELS["strings"][codes % 2], dtype)
    output = binary.model_.layers[-1]
    output.W = np.zeros_like(output.W)
    output.b = np.zeros(1)
    assert set(binary.predict(X)) == {"cat"}
    np.testing.assert_array_equal(run(fmx.export(binary), X)["label"], binary.predict(X))


@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_float32_estimators_take_batches_of_one_and_ten_thousand(kind):
    X, codes = blobs(10_000, 6, 3, seed=9)
    estimator = fit(kind, X[:300], codes[:300], np.float32)
    proto = fmx.export(estimator)
    for rows in (X[:1], X):
        rows = rows.astype(np.float32)
        outputs = run(proto, rows)
        np.testing.assert_array_equal(outputs["label"], estimator.predict(rows))
        assert_close(outputs["probabilities"], expected_probabilities(estimator, rows), np.float32)


def test_an_unfitted_estimator_is_refused():
    with pytest.raises(NotFittedError):
        fmx.export(fm.MLPClassifier())


def test_exported_estimator_files_pass_the_checker(tmp_path):
    X, codes = blobs(60, 3, 3)
    for kind in CLASSIFIERS:
        fmx.export(fit(kind, X, LABELS["strings"][codes], np.float32), tmp_path / f"{kind}.onnx")
        proto = onnx.load(tmp_path / f"{kind}.onnx")
        onnx.checker.check_model(proto, full_check=True)
        assert dict((p.key, p.value) for p in proto.metadata_props)["fastmlp.kind"] == kind


ESTIMATOR_ACTIVATIONS = ("identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("activation", ESTIMATOR_ACTIVATIONS)
@pytest.mark.parametrize("kind", ["MLPClassifier", "MLPRegressor"])
def test_every_hidden_activation_and_depth_of_the_mlps(kind, activation, depth, dtype):
    X, codes = blobs(150, 4, 3, seed=depth)
    y = X @ np.array([1.0, -0.5, 2.0, 0.0]) if kind == "MLPRegressor" else codes
    estimator = fit(kind, X, y, dtype, hidden_layer_sizes=(7, 5, 6)[:depth], activation=activation)
    assert [layer.activation for layer in estimator.model_.layers[:-1]] == \
        [fm.layers.canonical_activation(activation)] * depth
    X = X.astype(dtype)
    if kind == "MLPRegressor":
        assert_close(run(fmx.export(estimator), X)["variable"][:, 0], estimator.predict(X), dtype)
    else:
        check_classifier(estimator, X, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batches_of_one_and_ten_thousand_for_both_dtypes_and_the_regressor(dtype):
    X, codes = blobs(10_000, 6, 3, seed=4)
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] * 0.5])
    models = {"MLPClassifier": fit("MLPClassifier", X[:300], codes[:300], dtype),
              "MLPRegressor": fit("MLPRegressor", X[:300], Y[:300], dtype)}
    for kind, estimator in models.items():
        proto = fmx.export(estimator)
        for rows in (X[:1], X):
            rows = rows.astype(dtype)
            outputs = run(proto, rows)
            if kind == "MLPRegressor":
                assert outputs["variable"].shape == (len(rows), 2)
                assert_close(outputs["variable"], estimator.predict(rows), dtype)
            else:
                check_classifier(estimator, rows, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_output_regressor_loaded_from_a_file(dtype, tmp_path):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((100, 3))
    fit("MLPRegressor", X, X @ rng.standard_normal((3, 3)), dtype).save(tmp_path / "regressor.fmlp")
    loaded = fm.load(tmp_path / "regressor.fmlp")
    path = tmp_path / "regressor.onnx"
    fmx.export(loaded, path)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    X = X.astype(dtype)
    variable = run(proto, X)["variable"]
    assert variable.shape == (100, 3)
    assert_close(variable, loaded.predict(X), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exported_files_of_every_kind_and_dtype_pass_the_full_checker(dtype, tmp_path):
    X, codes = blobs(60, 3, 3)
    estimators = [fit(kind, X, LABELS["strings"][codes], dtype) for kind in CLASSIFIERS]
    estimators += [fit("MLPRegressor", X, np.column_stack([X[:, 0], X[:, 1]]), dtype),
                   fit("MLPClassifier", X, np.column_stack([codes == 0, X[:, 0] > 0]).astype(int), dtype)]
    for index, estimator in enumerate(estimators):
        path = tmp_path / f"{index}.onnx"
        fmx.export(estimator, path)
        onnx.checker.check_model(onnx.load(path), full_check=True)
