"""fastmlp's estimators registered with skl2onnx: pipelines that end in one of them convert with
skl2onnx.to_onnx and match the pipeline's predict / predict_proba in onnxruntime."""
import warnings

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fastmlp as fm  # noqa: E402
import fastmlp.onnx as fmx  # noqa: E402
from onnx_helpers import assert_close, blobs, run  # noqa: E402

DTYPES = (np.float32, np.float64)


def pipeline(estimator, X, y):
    pipe = Pipeline([("scale", StandardScaler()), ("model", estimator)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return pipe.fit(X, y)


def raw_features(n_samples, n_classes=3, seed=0):
    X, codes = blobs(n_samples, 5, n_classes, seed=seed)
    return X * [1.0, 10.0, 100.0, 0.5, 3.0] + [0.0, 20.0, -300.0, 1.0, 7.0], codes


@pytest.mark.parametrize("dtype", DTYPES)
def test_scaler_and_mlp_classifier_pipeline_matches_predict_proba(dtype):
    X, codes = raw_features(300)
    y = np.array(["low", "mid", "high"])[codes]
    pipe = pipeline(fm.MLPClassifier(hidden_layer_sizes=(16,), max_iter=40, random_state=0,
                                     dtype=np.dtype(dtype).name), X, y)
    X = X.astype(dtype)
    proto = skl2onnx.to_onnx(pipe, X[:1], options={fm.MLPClassifier: {"zipmap": False}})
    outputs = run(proto, X)
    assert list(outputs) == ["label", "probabilities"]
    np.testing.assert_array_equal(outputs["label"], pipe.predict(X))
    assert_close(outputs["probabilities"], pipe.predict_proba(X), dtype)


def test_the_default_zipmap_gives_one_dictionary_per_row():
    X, codes = raw_features(200, n_classes=2)
    pipe = pipeline(fm.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0), X, codes)
    X = X.astype(np.float32)
    outputs = run(skl2onnx.to_onnx(pipe, X[:1]), X)
    assert list(outputs) == ["output_label", "output_probability"]
    np.testing.assert_array_equal(outputs["output_label"], pipe.predict(X))
    zipped = np.array([[row[0], row[1]] for row in outputs["output_probability"]])
    assert_close(zipped, pipe.predict_proba(X), np.float32)


def test_a_float64_input_feeds_a_float32_model_as_predict_does():
    X, codes = raw_features(200)
    pipe = pipeline(fm.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0), X, codes)
    proto = skl2onnx.to_onnx(pipe, X[:1], options={fm.MLPClassifier: {"zipmap": False}})
    outputs = run(proto, X)
    assert outputs["probabilities"].dtype == np.float64
    np.testing.assert_array_equal(outputs["label"], pipe.predict(X))
    assert_close(outputs["probabilities"], pipe.predict_proba(X), np.float32)


@pytest.mark.parametrize("kind", ["Perceptron", "LogisticRegression", "LinearSVM"])
def test_linear_models_in_a_pipeline(kind):
    X, codes = raw_features(200)
    estimator = getattr(fm, kind)()
    pipe = pipeline(estimator, X, codes)
    proto = skl2onnx.to_onnx(pipe, X[:1], options={type(estimator): {"zipmap": False}})
    outputs = run(proto, X)
    np.testing.assert_array_equal(outputs["label"], pipe.predict(X))
    expected = pipe.predict_proba(X) if kind == "LogisticRegression" else pipe.decision_function(X)
    assert_close(outputs["probabilities"], expected, np.float64)


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor_pipeline_variable_is_n_by_n_outputs(n_outputs):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((150, 4)) * 10.0 + 3.0
    Y = X @ rng.standard_normal((4, n_outputs)) / 10.0
    pipe = pipeline(fm.MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
                    X, Y[:, 0] if n_outputs == 1 else Y)
    X = X.astype(np.float32)
    outputs = run(skl2onnx.to_onnx(pipe, X[:1]), X)
    assert outputs["variable"].shape == (150, n_outputs)  # skl2onnx's MLPRegressor gives (2n, 1) here
    assert_close(outputs["variable"], pipe.predict(X).reshape(150, n_outputs), np.float32)


def test_registration_is_idempotent():
    assert fmx.register_skl2onnx() is True
    assert fmx.register_skl2onnx() is True


def test_integer_features_are_cast_to_float():
    X, codes = raw_features(120)
    X = np.round(X).astype(np.int64)
    estimator = fm.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(StandardScaler().fit_transform(X), codes)
    proto = skl2onnx.to_onnx(estimator, X[:1], options={fm.MLPClassifier: {"zipmap": False}})
    outputs = run(proto, X)
    np.testing.assert_array_equal(outputs["label"], estimator.predict(X))
    assert_close(outputs["probabilities"], estimator.predict_proba(X), np.float32)


def test_describe_names_a_file_fastmlp_did_not_export():
    from sklearn.linear_model import LogisticRegression

    X, codes = raw_features(60)
    X = StandardScaler().fit_transform(X)
    proto = skl2onnx.to_onnx(LogisticRegression().fit(X, codes), X[:1].astype(np.float32))
    text = fmx.describe(proto)
    assert "(not exported by fastmlp)" in text
    assert "skl2onnx" in text
    assert "inputs: X float32 (?, 5)" in text or "inputs: X float32 (N, 5)" in text
    assert "output_probability sequence" in text  # ZipMap's sequence of maps, named by its kind
