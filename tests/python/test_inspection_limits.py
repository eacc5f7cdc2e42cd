"""What gradient_check and diagnose say at their limits: float32 rounding, gradients too
small to check, and a dead layer that cuts the gradient everywhere."""

import numpy as np

import fastmlp as fm


def tanh_classifier(dtype):
    model = fm.Sequential([fm.Dense(8, activation="tanh"), fm.Dense(2, activation="softmax")], input_dim=2,
                          dtype=dtype, seed=0)
    return model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=0.05))


def moons():
    return fm.datasets.make_moons(64, noise=0.1, random_state=0)


def test_float32_table_shows_what_rounding_could_hide_instead_of_zero():
    X, y = moons()
    result = fm.gradient_check(tanh_classifier("float32"), X, y)
    text = str(result)
    assert "0.00e+00" not in text
    assert result.n_resolvable == result.n_checked
    assert 0 < result.detectable_error < result.tolerance and result.passed
    for check, floor in zip(result.per_layer, result.per_layer_floor):
        for error, hidden in ((check.W, floor.W), (check.b, floor.b)):
            assert error > 0 or f"< {hidden:.1e}" in text
    assert "resolves relative errors down to about" in text and not result.warnings


def test_a_trained_float32_model_is_inconclusive_and_points_to_float64():
    X, y = moons()
    model = tanh_classifier("float32")
    model.fit(X, y, epochs=300, verbose=0)
    result = fm.gradient_check(model, X, y)
    assert len(result.warnings) == 1 and "float32 cannot resolve this check" in result.warnings[0]
    assert "dtype='float64'" in result.warnings[0] and "warning: float32 cannot" in str(result)
    assert "warning: float32 cannot" in repr(result)
    assert result.max_relative_error < result.tolerance         # no error seen ...
    assert result.detectable_error > result.tolerance           # ... but none could have been
    assert not result.passed and "inconclusive" in str(result)
    # the same weights in float64 resolve the check some ten thousand times more finely
    model64 = tanh_classifier("float64")
    model64.set_parameters(model.get_parameters().astype(np.float64))
    sharp = fm.gradient_check(model64, X, y)
    assert sharp.detectable_error < 1e-4 * result.detectable_error
    assert not any("float32" in text for text in sharp.warnings)


def test_gradients_too_small_to_check_are_reported_not_passed():
    # a dead relu layer: every derivative is exactly 0, so no error could show
    model = fm.Sequential([fm.Dense(4, activation="relu"), fm.Dense(2, activation="softmax")], input_dim=2,
                          dtype="float64", seed=0).compile(loss="cross_entropy")
    model.layers[0].b = np.full(4, -100.0)
    model.layers[1].W = np.zeros((4, 2))
    model.layers[1].b = [30.0, -30.0]                 # P = Y for class 0 only: dZ = P − Y ≈ 0
    X, y = np.random.default_rng(0).normal(size=(10, 2)), np.zeros(10, dtype=int)
    result = fm.gradient_check(model, X, y)
    assert len(result.warnings) == 1 and "too small to check" in result.warnings[0]
    assert result.n_resolvable == 0 and not result.passed
    assert "nothing could be checked" in str(result) and "too small" in str(result)


def test_diagnose_traces_zero_gradients_to_the_dead_layer():
    layers = [fm.Dense(6, activation="relu") for _ in range(3)] + [fm.Dense(1, activation="sigmoid")]
    model = fm.Sequential(layers, input_dim=2, dtype="float64", seed=0).compile(loss="binary_cross_entropy")
    model.layers[1].b = np.full(6, -50.0)
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, size=40)
    diagnosis = model.diagnose(X, y)
    assert all(norm == 0.0 for norm in diagnosis.grad_norm)
    cut = [f for f in diagnosis.findings if f.kind == "no_gradient"]
    assert len(cut) == 1 and cut[0].layer == 1 and cut[0].severity == "problem"
    assert "layer 1 (relu) outputs 0 for every sample" in cut[0].message and "not flat" in cut[0].message
    assert "flat here" not in str(diagnosis)
    # layer 2 is dead only because it receives zeros: the cut explains it, no separate finding
    assert [f.layer for f in diagnosis.findings if f.kind == "dead"] == [1]


def test_a_truly_flat_loss_is_still_called_flat():
    model = fm.Sequential([fm.Dense(1, activation="identity")], input_dim=2, dtype="float64").compile(loss="hinge")
    model.layers[0].W = [[10.0], [0.0]]
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 1.0]])
    y = np.array([1, 0, 1])                            # every t·z >= 10: beyond the margin
    diagnosis = model.diagnose(X, y)
    assert [f.kind for f in diagnosis.findings] == ["no_gradient"]
    assert "flat here" in diagnosis.findings[0].message and diagnosis.findings[0].severity == "note"
