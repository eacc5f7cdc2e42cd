"""fastmlp.onnx.export of a Sequential, run in onnxruntime: every activation in both dtypes and
depths 0-3, the stored standardiser inside the graph, models loaded from .fmlp files, batch
sizes, the file itself (checker, opset, IR version, names, shapes) and refusals."""
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import fastmlp as fm  # noqa: E402
import fastmlp.onnx as fmx  # noqa: E402
from fastmlp.datasets import Standardizer  # noqa: E402
from fastmlp.layers import ACTIVATIONS  # noqa: E402
from onnx_helpers import assert_close, run  # noqa: E402

DTYPES = (np.float32, np.float64)


def _hidden_activations() -> tuple:
    """Every activation a hidden layer may have (new ones are tested as soon as they exist)."""
    def allowed(name):
        try:
            fm.Sequential([fm.Dense(2, activation=name), fm.Dense(1)])
        except ValueError:
            return False
        return True
    return tuple(name for name in ACTIVATIONS if allowed(name))


HIDDEN = _hidden_activations()
OUTPUT_ONLY = tuple(name for name in ACTIVATIONS if name not in HIDDEN)


def network(depth, hidden, output, dtype, n_features=5, n_outputs=3, seed=0):
    layers = [fm.Dense(7 + i, activation=hidden, negative_slope=0.2) for i in range(depth)]
    layers.append(fm.Dense(n_outputs, activation=output, negative_slope=0.2))
    return fm.Sequential(layers, input_dim=n_features, dtype=np.dtype(dtype).name, seed=seed)


def inputs(n_samples, n_features, dtype, seed=1, scale=2.0):
    return (scale * np.random.default_rng(seed).standard_normal((n_samples, n_features))).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("depth", [0, 1, 2, 3])
@pytest.mark.parametrize("activation", HIDDEN)
def test_every_activation_matches_predict(activation, depth, dtype):
    # the activation in every hidden layer and at the output
    assert set(HIDDEN) >= {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu"}
    model = network(depth, activation, activation, dtype)
    X = inputs(200, 5, dtype)
    outputs = run(fmx.export(model), X)
    assert list(outputs) == ["output"]
    assert outputs["output"].dtype == dtype
    assert_close(outputs["output"], model.predict(X), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("depth", [0, 1, 2, 3])
@pytest.mark.parametrize("output", [*OUTPUT_ONLY, "sigmoid"])
def test_output_activations_match_predict(output, depth, dtype):
    model = network(depth, "tanh", output, dtype)
    X = inputs(200, 5, dtype)
    result = run(fmx.export(model), X)["output"]
    expected = model.predict(X)
    if output == "step":
        np.testing.assert_array_equal(result, expected)
        assert 0 < expected.mean() < 1  # both sides of the step occur
    else:
        assert_close(result, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_leaky_relu_uses_the_layers_own_slope(dtype):
    model = fm.Sequential([fm.Dense(4, activation="leaky_relu", negative_slope=0.3)], input_dim=3,
                          dtype=np.dtype(dtype).name)
    model.layers[0].W = -np.eye(3, 4)
    model.layers[0].b = np.zeros(4)
    X = np.array([[1.0, 2.0, -4.0]], dtype=dtype)
    # Z = [-1, -2, 4, 0]: slope 0.3 below zero, identity above
    np.testing.assert_allclose(run(fmx.export(model), X)["output"], [[-0.3, -0.6, 4.0, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_stored_standardiser_runs_inside_the_graph(dtype, tmp_path):
    rng = np.random.default_rng(3)
    raw = rng.standard_normal((300, 4)) * [1.0, 10.0, 100.0, 0.1] + [5.0, -50.0, 1000.0, 0.0]
    model = network(2, "relu", "softmax", dtype, n_features=4)
    model.preprocessing = Standardizer().fit(raw)
    model.save(tmp_path / "scaled.fmlp")
    loaded = fm.load(tmp_path / "scaled.fmlp")
    X = raw.astype(dtype)
    result = run(fmx.export(loaded), X)["output"]
    assert_close(result, model.predict(X), dtype)
    # without the standardiser the outputs would be far off: the graph really applies it
    model.preprocessing = None
    assert np.max(np.abs(result - model.predict(X))) > 1e-2


@pytest.mark.parametrize("dtype", DTYPES)
def test_models_loaded_from_fmlp_files(dtype, tmp_path):
    model = network(3, "elu", "identity", dtype, n_features=6, n_outputs=2)
    model.save(tmp_path / "model.fmlp")
    loaded = fm.load(tmp_path / "model.fmlp")
    X = inputs(100, 6, dtype)
    assert_close(run(fmx.export(loaded), X)["output"], model.predict(X), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batches_of_one_and_ten_thousand_rows(dtype):
    model = network(2, "relu", "softmax", dtype, n_features=20, n_outputs=4)
    proto = fmx.export(model)
    for n in (1, 10_000):
        X = inputs(n, 20, dtype, seed=n)
        result = run(proto, X)["output"]
        assert result.shape == (n, 4)
        assert_close(result, model.predict(X), dtype)


def test_the_file_passes_the_full_checker_with_opset_17_and_ir_8(tmp_path):
    model = network(1, "relu", "softmax", np.float32)
    path = tmp_path / "model.onnx"
    returned = fmx.export(model, path)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto == returned
    assert proto.ir_version == 8
    assert [(entry.domain, entry.version) for entry in proto.opset_import] == [("", 17)]
    assert proto.producer_name == "fastmlp"
    (x,) = proto.graph.input
    assert x.name == "X"
    assert x.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    batch, features = x.type.tensor_type.shape.dim
    assert batch.dim_param and not batch.HasField("dim_value")  # dynamic batch dimension
    assert features.dim_value == 5
    (output,) = proto.graph.output
    assert output.name == "output"
    assert [d.dim_value for d in output.type.tensor_type.shape.dim][1:] == [3]
    ops = {node.op_type for node in proto.graph.node}
    assert ops == {"Gemm", "Relu", "Softmax"}


def test_every_op_is_a_standard_onnx_op():
    model = network(3, "silu", "softmax", np.float64)
    proto = fmx.export(model)
    assert all(node.domain == "" for node in proto.graph.node)
    silu = [node.op_type for node in proto.graph.node][:3]
    assert silu == ["Gemm", "Sigmoid", "Mul"]  # SiLU as Z · sigmoid(Z)


def test_a_higher_opset_can_be_asked_for():
    import onnxruntime as ort

    model = network(1, "tanh", "sigmoid", np.float32)
    # the newest opset both the installed onnx and onnxruntime know
    newest = min(onnx.defs.onnx_opset_version(), 21)
    proto = fmx.export(model, opset=newest)
    assert proto.opset_import[0].version == newest
    assert proto.ir_version >= 8
    X = inputs(10, 5, np.float32)
    assert ort.get_version_string()
    assert_close(run(proto, X)["output"], model.predict(X), np.float32)


@pytest.mark.parametrize("opset", [12, 0, 10_000, True, 17.0, "17"])
def test_an_unusable_opset_is_refused(opset):
    with pytest.raises(ValueError, match="opset"):
        fmx.export(network(0, "relu", "relu", np.float32), opset=opset)


def test_an_unbuilt_model_is_refused():
    with pytest.raises(ValueError, match="not built"):
        fmx.export(fm.Sequential([fm.Dense(2)]))


def test_other_objects_are_refused():
    with pytest.raises(ValueError, match="fm.Sequential or a fastmlp estimator"):
        fmx.export(object())


def test_a_refused_export_leaves_an_existing_file_alone(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous")
    with pytest.raises(ValueError):
        fmx.export(fm.Sequential([fm.Dense(2)]), path)
    assert path.read_bytes() == b"previous"


def test_describe_says_what_an_exported_file_holds(tmp_path):
    model = network(2, "relu", "softmax", np.float64, n_features=4)
    model.preprocessing = Standardizer().fit(inputs(50, 4, np.float64))
    fmx.export(model, tmp_path / "model.onnx")
    text = fmx.describe(tmp_path / "model.onnx")
    assert "fastmlp Sequential" in text
    assert "4 -> 7 relu -> 8 relu -> 3 softmax" in text
    assert "dtype: float64" in text
    assert "standardises the 4 input feature(s)" in text
    assert "inputs: X float64 (N, 4)" in text
    assert "outputs: output float64 (N, 3)" in text
    assert "opset ai.onnx 17" in text


def test_describe_refuses_a_file_that_is_not_onnx(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\xff\x00 not a protobuf")
    with pytest.raises(ValueError, match="not an ONNX model file"):
        fmx.describe(path)


def test_import_fastmlp_needs_no_onnx_package():
    code = ("import sys, fastmlp; m = fastmlp.Sequential([fastmlp.Dense(2)], input_dim=3); m.predict([[1, 2, 3]]); "
            "print(sorted(n for n in ('onnx', 'onnxruntime', 'skl2onnx') if n in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_missing_onnx_package_is_named_with_the_extra():
    code = "import sys; sys.modules['onnx'] = None; import fastmlp.onnx"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "pip install 'fastmlp[onnx]'" in result.stderr


def test_fm_onnx_is_reachable_from_the_package():
    model = network(0, "sigmoid", "sigmoid", np.float32)
    assert fm.onnx.export is fmx.export
    assert fm.onnx.export(model).graph.output[0].name == "output"


def test_the_python_examples_of_docs_deploy_run(tmp_path, monkeypatch):
    import pathlib
    import re

    text = (pathlib.Path(__file__).parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile("\n".join(blocks), "docs/deploy.md", "exec"), namespace)  # the asserts in the text are checked
    assert (tmp_path / "moons.onnx").exists()
    assert [output.name for output in namespace["onx"].graph.output] == ["label", "probabilities"]
