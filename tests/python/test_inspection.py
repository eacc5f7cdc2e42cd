"""Inspection: forward caches and gradients through the public API against reference.py,
fm.gradient_check, model.explain_step, layer diagnostics, model.diagnose and
fit(diagnostics=True)."""

import math
import re

import numpy as np
import pytest

import fastmlp as fm
import reference as ref
from fastmlp.inspection import Diagnosis, GradientCheckResult, layer_diagnostics


def make_model(sizes, activations, loss, dtype="float64", seed=0, negative_slope=0.01):
    """Sequential with layer sizes [d, n_1, ..., n_L] and one activation per layer."""
    layers = [fm.Dense(n, activation=a, negative_slope=negative_slope) for n, a in zip(sizes[1:], activations)]
    model = fm.Sequential(layers, input_dim=sizes[0], dtype=dtype, seed=seed)
    return model.compile(loss=loss, optimizer=fm.SGD(lr=0.1))


def reference_layers(model):
    return [ref.Layer(layer.W, layer.b, layer.activation, layer.negative_slope) for layer in model.layers]


def targets(loss, m, k, rng):
    """(y as the model takes it, Y as reference.py takes it)."""
    if loss == "cross_entropy":
        labels = rng.integers(0, k, size=m)
        return labels, ref.one_hot(labels, k)
    if loss in ("binary_cross_entropy", "hinge"):
        Y = rng.integers(0, 2, size=(m, k)).astype(float)
        return Y, Y
    Y = rng.normal(size=(m, k))
    return Y, Y


CASES = [  # hidden activations, output activation, loss, outputs
    (("tanh", "sigmoid"), "softmax", "cross_entropy", 3),
    (("relu", "leaky_relu"), "sigmoid", "binary_cross_entropy", 2),
    (("elu", "softplus"), "identity", "mse", 2),
    (("silu", "tanh"), "identity", "hinge", 1),
    (("sigmoid", "relu"), "tanh", "mse", 1),
]


def case_id(case):
    return f"{'-'.join(case[0])}-{case[1]}-{case[2]}"


# ------------------------------------------------------------------ forward and gradients

@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_forward_caches_chain_layer_to_layer(case):
    hidden, output, loss, k = case
    model = make_model([3, 5, 4, k], [*hidden, output], loss, negative_slope=0.2)
    X = np.random.default_rng(1).normal(size=(7, 3))
    caches = model.forward(X)
    assert len(caches) == 3
    A_previous = X
    for layer, cache in zip(model.layers, caches):
        assert cache.Z.shape == cache.A.shape == (7, layer.units)
        np.testing.assert_allclose(cache.Z, A_previous @ layer.W + layer.b, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(cache.A, ref.activation(layer.activation, cache.Z, layer.negative_slope),
                                   rtol=1e-12, atol=1e-13)
        A_previous = cache.A
    for (Z, A), cache in zip(ref.forward(reference_layers(model), X), caches):
        np.testing.assert_allclose(cache.Z, Z, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(cache.A, A, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_equal_reference_backprop_and_change_nothing(case):
    hidden, output, loss, k = case
    model = make_model([3, 6, 4, k], [*hidden, output], loss, seed=2, negative_slope=0.2)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(9, 3))
    y, Y = targets(loss, 9, k, rng)
    weights = rng.uniform(0.2, 2.0, size=9)
    before = model.get_parameters()
    for sample_weight in (None, weights):
        grads = model.gradients(X, y, sample_weight=sample_weight)
        expected, _ = ref.backward(reference_layers(model), X, Y, loss, weights=sample_weight)
        assert len(grads) == len(expected) == 3
        for g, (dW, db) in zip(grads, expected):
            assert g.dW.shape == dW.shape and g.db.shape == db.shape
            np.testing.assert_allclose(g.dW, dW, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(g.db, db, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(model.get_parameters(), before)


# ------------------------------------------------------------------ gradient_check

@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradient_check_passes_a_correct_float64_model(case):
    hidden, output, loss, k = case
    model = make_model([3, 5, 4, k], [*hidden, output], loss, seed=4, negative_slope=0.2)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 3))
    y, _ = targets(loss, 8, k, rng)
    before = model.get_parameters()
    result = fm.gradient_check(model, X, y)
    assert isinstance(result, GradientCheckResult)
    assert result.max_relative_error < 1e-6
    assert result < 1e-6 and float(result) == result.max_relative_error
    assert result.passed
    assert result.n_checked == result.n_parameters == model.count_params()
    assert len(result.per_layer) == 3
    # the largest gap left is rounding, far below the gradients themselves
    assert result.max_difference < 1e-8
    # the check restores the parameters bit for bit
    np.testing.assert_array_equal(model.get_parameters(), before)


def test_gradient_check_catches_scaled_gradients_and_names_the_layer(monkeypatch):
    model = make_model([2, 4, 4, 3], ["tanh", "tanh", "softmax"], "cross_entropy", seed=6)
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(6, 2)), rng.integers(0, 3, size=6)
    true_gradients = model.gradients

    def wrong_gradients(X, y, sample_weight=None):
        grads = true_gradients(X, y, sample_weight=sample_weight)
        grads[1] = grads[1]._replace(dW=1.5 * grads[1].dW)   # a backward pass off by 50% in one layer
        return grads

    monkeypatch.setattr(model, "gradients", wrong_gradients)
    result = fm.gradient_check(model, X, y)
    # |1.5n − n| / 1.5|n| = 1/3 for every entry of that dW
    assert result.max_relative_error == pytest.approx(1 / 3, rel=1e-4)
    assert (result.worst_layer, result.worst_parameter) == (1, "W")
    assert result.per_layer[1].W == pytest.approx(1 / 3, rel=1e-4)
    assert result.per_layer[0].W < 1e-6 and result.per_layer[2].W < 1e-6
    assert all(check.b < 1e-6 for check in result.per_layer)
    assert not result.passed and result > 1e-6
    text = str(result)
    assert "layer 1, W[" in text and "disagree" in text


def test_gradient_check_resolves_a_relative_error_of_one_in_a_million(monkeypatch):
    model = make_model([3, 5, 3], ["sigmoid", "softmax"], "cross_entropy", seed=30)
    rng = np.random.default_rng(31)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 3, size=8)
    true_gradients = model.gradients
    monkeypatch.setattr(model, "gradients", lambda X, y, sample_weight=None: [
        g._replace(dW=g.dW * (1 + 1e-6)) for g in true_gradients(X, y)])
    # rounding in the finite differences (about 1e-10 here) must not hide a 1e-6 error
    assert fm.gradient_check(model, X, y).max_relative_error == pytest.approx(1e-6, rel=0.05)


def test_gradient_check_locates_a_single_wrong_entry(monkeypatch):
    model = make_model([3, 5, 1], ["relu", "sigmoid"], "binary_cross_entropy", seed=8)
    rng = np.random.default_rng(9)
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 2, size=10)
    true_gradients = model.gradients

    def one_wrong_bias(X, y, sample_weight=None):
        grads = true_gradients(X, y, sample_weight=sample_weight)
        db = grads[0].db.copy()
        db[3] += 1e-3
        grads[0] = grads[0]._replace(db=db)
        return grads

    monkeypatch.setattr(model, "gradients", one_wrong_bias)
    result = fm.gradient_check(model, X, y)
    assert (result.worst_layer, result.worst_parameter, result.worst_index) == (0, "b", (3,))
    assert result.worst_analytic - result.worst_numeric == pytest.approx(1e-3, rel=1e-4)
    assert result.max_relative_error > 1e-4


def test_gradient_check_with_sample_weights_and_in_float32():
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(12, 2)), rng.integers(0, 2, size=12)
    weights = rng.uniform(0.5, 3.0, size=12)
    model = make_model([2, 6, 2], ["tanh", "softmax"], "cross_entropy", seed=11)
    assert fm.gradient_check(model, X, y, sample_weight=weights) < 1e-6
    model32 = make_model([2, 6, 2], ["tanh", "softmax"], "cross_entropy", dtype="float32", seed=11)
    result = fm.gradient_check(model32, X, y)
    assert result.dtype == "float32" and result.eps == pytest.approx(np.finfo(np.float32).eps ** (1 / 3))
    assert result.passed


def test_gradient_check_samples_parameters_of_a_large_model(monkeypatch):
    model = make_model([4, 64, 64, 3], ["relu", "relu", "softmax"], "cross_entropy", seed=12)
    rng = np.random.default_rng(13)
    X, y = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)
    result = fm.gradient_check(model, X, y, max_parameters=120)
    assert result.n_parameters == model.count_params() > 4000
    assert 6 <= result.n_checked <= 120
    assert all(not math.isnan(check.W) and not math.isnan(check.b) for check in result.per_layer)
    assert result < 1e-6
    true_gradients = model.gradients
    monkeypatch.setattr(model, "gradients", lambda X, y, sample_weight=None: [
        g._replace(db=-g.db) if i == 2 else g for i, g in enumerate(true_gradients(X, y))])
    wrong = fm.gradient_check(model, X, y, max_parameters=120)
    assert (wrong.worst_layer, wrong.worst_parameter) == (2, "b") and wrong.max_relative_error > 0.9


def test_gradient_check_refuses_bad_arguments():
    model = make_model([2, 3, 2], ["tanh", "softmax"], "cross_entropy")
    X, y = np.zeros((3, 2)), np.array([0, 1, 0])
    with pytest.raises(ValueError, match="eps"):
        fm.gradient_check(model, X, y, eps=0.0)
    with pytest.raises(ValueError, match="max_parameters"):
        fm.gradient_check(model, X, y, max_parameters=0)
    uncompiled = fm.Sequential([fm.Dense(2, activation="softmax")], input_dim=2)
    with pytest.raises(ValueError, match="compile"):
        fm.gradient_check(uncompiled, X, y)


# ------------------------------------------------------------------ explain_step

def loss_in_report(text):
    return float(re.search(r"^  L = (\S+)$", text, re.MULTILINE).group(1))


def test_explain_step_writes_the_shapes_of_a_2_4_3_network():
    model = make_model([2, 4, 3], ["tanh", "softmax"], "cross_entropy", seed=14)
    rng = np.random.default_rng(15)
    X, y = rng.normal(size=(5, 2)), np.array([0, 1, 2, 1, 0])
    text = model.explain_step(X, y)
    assert text == fm.explain_step(model, X, y)
    for expected in [
        "model.layers[l-1]",                                   # the numbering, said once
        "A[0] = X", "Z[1] = A[0]·W[1] + b[1]", "(5×2)·(2×4) + (1×4) -> 5×4",
        "A[1] = tanh(Z[1])", "Z[2] = A[1]·W[2] + b[2]", "(5×4)·(4×3) + (1×3) -> 5×3",
        "A[2] = softmax(Z[2])",
        "dZ[2] = (P − Y)/m", "softmax + cross-entropy",
        "dW[2] = A[1]ᵀ·dZ[2]", "(4×5)·(5×3) -> 4×3", "db[2] = column sums of dZ[2]", "-> 1×3",
        "dA[1] = dZ[2]·W[2]ᵀ", "(5×3)·(3×4) -> 5×4",
        "dZ[1] = dA[1] ⊙ f'(Z[1])", "tanh'(z) = 1 − tanh²(z)",
        "dW[1] = A[0]ᵀ·dZ[1]", "(2×5)·(5×4) -> 2×4", "db[1] = column sums of dZ[1]", "-> 1×4",
        "reproduce the engine's dW and db",
    ]:
        assert expected in text, expected
    assert "do NOT" not in text
    assert loss_in_report(text) == pytest.approx(model.evaluate(X, y)["loss"], rel=1e-10)
    expected_loss = ref.loss_value(reference_layers(model), X, ref.one_hot(y, 3), "cross_entropy")
    assert loss_in_report(text) == pytest.approx(expected_loss, rel=1e-10)


def test_explain_step_shows_the_values_of_the_first_rows():
    model = make_model([2, 3, 1], ["relu", "identity"], "mse", seed=16)
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]])
    y = np.array([0.5, -1.0, 2.0])
    text = fm.explain_step(model, X, y, preview_rows=1)
    assert "dA[2] = 2·(A[2] − Y)/(m·k)" in text and "relu'(z) = 1 if z > 0 else 0" in text
    assert "[[1. 2.]]   (first 1 of 3 rows)" in text            # X's first row
    dW2 = model.gradients(X, y)[1].dW
    with np.printoptions(precision=4, suppress=True):
        assert np.array2string(dW2[:1]) in text
    assert "[[" not in fm.explain_step(model, X, y, preview_rows=0)


def test_explain_step_refuses_a_large_batch():
    model = make_model([2, 3, 2], ["tanh", "softmax"], "cross_entropy")
    X, y = np.zeros((65, 2)), np.zeros(65, dtype=int)
    with pytest.raises(ValueError, match=r"65 rows.*X\[:8\]"):
        model.explain_step(X, y)
    assert "m = 64 samples" in model.explain_step(X[:64], y[:64])


# ------------------------------------------------------------------ diagnostics

def deep_network(activation, depth=10, width=16):
    return make_model([4] + [width] * depth + [2], [activation] * depth + ["softmax"], "cross_entropy", seed=0)


def test_vanishing_gradient_sigmoid_against_relu_at_initialisation():
    rng = np.random.default_rng(17)
    X, y = rng.normal(size=(64, 4)), rng.integers(0, 2, size=64)
    ratio, diagnoses = {}, {}
    for activation in ("sigmoid", "relu"):
        model = deep_network(activation)
        diagnosis = model.diagnose(X, y)
        norms = [np.linalg.norm(g.dW) for g in model.gradients(X, y)]
        np.testing.assert_allclose(diagnosis.grad_norm, norms, rtol=1e-12)
        assert len(norms) == 11
        ratio[activation] = norms[0] / norms[-1]
        diagnoses[activation] = diagnosis
    assert ratio["relu"] / ratio["sigmoid"] >= 100
    assert "vanishing" in diagnoses["sigmoid"].kinds and not diagnoses["sigmoid"].ok
    assert "vanishing" not in diagnoses["relu"].kinds
    assert "vanishing gradients" in str(diagnoses["sigmoid"]) and "relu" in str(diagnoses["sigmoid"])


def test_dead_relu_units_are_found():
    model = make_model([2, 8, 8, 2], ["relu", "relu", "softmax"], "cross_entropy", seed=18)
    bias = np.zeros(8)
    bias[:6] = -50.0           # z = x·W − 50 < 0 for every sample: six units never fire
    model.layers[0].b = bias
    rng = np.random.default_rng(19)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, size=40)
    diagnosis = model.diagnose(X, y)
    assert diagnosis.dead_fraction[0] == 6 / 8
    assert math.isnan(diagnosis.dead_fraction[2])                      # softmax: does not apply
    assert all(math.isnan(v) for v in diagnosis.saturated_fraction)    # no sigmoid/tanh layer
    dead = [f for f in diagnosis.findings if f.kind == "dead"]
    assert dead and dead[0].layer == 0 and dead[0].severity == "problem"
    report = str(diagnosis)
    assert "6 of 8 units" in report and "leaky_relu" in report

    leaky = make_model([2, 8, 8, 2], ["leaky_relu", "leaky_relu", "softmax"], "cross_entropy", seed=18)
    leaky.layers[0].b = bias   # a leaky unit keeps the slope α: never dead
    assert math.isnan(leaky.diagnose(X, y).dead_fraction[0])
    model.layers[0].b = np.full(8, 50.0)
    assert model.diagnose(X, y).dead_fraction[0] == 0.0


@pytest.mark.parametrize("activation, biases", [
    ("tanh", [10.0, -10.0, 0.1, 0.0]),     # tanh'(±10) ≈ 8e-9 is below 1% of tanh'(0) = 1
    ("sigmoid", [7.0, -7.0, 5.0, 0.0]),    # σ'(±7) ≈ 9e-4 < 0.0025 = 1% of σ'(0); σ'(5) ≈ 6.6e-3 is not
])
def test_saturation_is_measured_against_the_peak_derivative(activation, biases):
    model = make_model([3, 4, 1], [activation, "identity"], "mse", seed=20)
    model.layers[0].W = np.zeros((3, 4))    # z = b for every sample
    model.layers[0].b = biases
    X, Y = np.random.default_rng(21).normal(size=(10, 3)), np.zeros((10, 1))
    measures = layer_diagnostics(model, X, Y)
    assert measures["saturated_fraction"][0] == 0.5
    assert math.isnan(measures["saturated_fraction"][1]) and math.isnan(measures["dead_fraction"][0])


def test_huge_weights_saturate_tanh_units():
    model = make_model([3, 16, 16, 1], ["tanh", "tanh", "sigmoid"], "binary_cross_entropy", seed=22)
    rng = np.random.default_rng(23)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 2, size=50)
    healthy = model.diagnose(X, y)
    assert healthy.saturated_fraction[0] < 0.1 and "saturated" not in healthy.kinds
    # the sigmoid output is fused with binary cross-entropy: its saturation stops no gradient
    assert math.isnan(healthy.saturated_fraction[2])
    model.layers[0].W = 200.0 * model.layers[0].W
    saturated = model.diagnose(X, y)
    assert saturated.saturated_fraction[0] > 0.9
    finding = next(f for f in saturated.findings if f.kind == "saturated" and f.layer == 0)
    assert finding.severity == "problem"
    assert "standardise" in str(saturated)


def test_diagnose_says_when_nothing_looks_wrong():
    model = make_model([2, 8, 2], ["tanh", "softmax"], "cross_entropy", seed=24)
    rng = np.random.default_rng(25)
    diagnosis = fm.diagnose(model, rng.normal(size=(30, 2)), rng.integers(0, 2, size=30))
    assert isinstance(diagnosis, Diagnosis) and diagnosis.ok and diagnosis.findings == []
    assert "Nothing looks wrong" in str(diagnosis) and repr(diagnosis) == str(diagnosis)


def test_diagnose_flags_exploding_gradients():
    model = make_model([2, 8, 8, 1], ["identity", "identity", "identity"], "mse", seed=26)
    model.layers[0].W = 30.0 * model.layers[0].W      # every layer below the output amplifies
    model.layers[1].W = 30.0 * model.layers[1].W
    rng = np.random.default_rng(27)
    diagnosis = model.diagnose(rng.normal(size=(20, 2)), rng.normal(size=20))
    assert "exploding" in diagnosis.kinds and not diagnosis.ok
    assert "smaller learning rate" in str(diagnosis)


def test_fit_records_diagnostics_every_epoch_for_every_layer():
    rng = np.random.default_rng(28)
    X, y = rng.normal(size=(100, 3)), rng.integers(0, 2, size=100)
    model = make_model([3, 6, 5, 2], ["relu", "tanh", "softmax"], "cross_entropy", dtype="float32", seed=29)
    history = model.fit(X, y, epochs=4, batch_size=16, verbose=0, diagnostics=True)
    assert set(history.diagnostics) == {"grad_norm", "saturated_fraction", "dead_fraction"}
    for values in history.diagnostics.values():
        assert len(values) == 4 and all(len(epoch) == 3 for epoch in values)
    assert all(v > 0 for epoch in history.diagnostics["grad_norm"] for v in epoch)
    assert all(math.isnan(epoch[0]) and 0 <= epoch[1] <= 1 for epoch in history.diagnostics["saturated_fraction"])
    assert all(0 <= epoch[0] <= 1 and math.isnan(epoch[1]) for epoch in history.diagnostics["dead_fraction"])
    # the last entry describes the trained model on the training rows (all 100 fit in the probe)
    norms = [np.linalg.norm(g.dW.astype(np.float64)) for g in model.gradients(X, y)]
    np.testing.assert_allclose(history.diagnostics["grad_norm"][-1], norms, rtol=1e-6)
    assert model.fit(X, y, epochs=1, verbose=0).diagnostics == {}


@pytest.mark.parametrize("loss, output", [("mae", "identity"), ("huber", "tanh"), ("poisson", "exp")])
def test_explain_step_writes_out_the_regression_losses(loss, output):
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((5, 3)), rng.random((5, 2)) * 3.0
    model = fm.Sequential([fm.Dense(4, activation="sigmoid"), fm.Dense(2, activation=output)], input_dim=3,
                          dtype="float64", seed=2)
    model.compile(loss=fm.losses.Huber(0.5) if loss == "huber" else loss)
    report = model.explain_step(X, Y)
    assert "reproduce the engine's dW" in report and "do NOT" not in report
    assert f"L = {model.evaluate(X, Y)['loss']:.12g}" in report
    assert ("δ = 0.5" in report) == (loss == "huber")
