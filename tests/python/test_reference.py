"""Checks of reference.py on its own, without the engine: central finite differences,
small cases worked by hand (arithmetic in the comments), numerical stability and a
short training run. If these pass, reference.py can be trusted as the yardstick for
the C++ engine."""

import math

import numpy as np
import pytest

import reference as ref

TOLERANCE = 1e-6          # largest relative error allowed against finite differences
KINK_CLEARANCE = 1e-3     # no pre-activation this close to a kink in a gradient check

OUTPUT_LOSS_PAIRS = (
    [("softmax", "cross_entropy"), ("sigmoid", "binary_cross_entropy"),
     ("identity", "hinge"), ("step", "perceptron")]
    + [(name, "mse") for name in ref.HIDDEN_ACTIVATIONS]
)
KINKED_HIDDEN = ("relu", "leaky_relu", "elu")


def pair_id(pair):
    return f"{pair[0]}-{pair[1]}"


# ------------------------------------------------------------------ test helpers

def make_targets(loss, m, k, rng):
    if loss == "cross_entropy":
        return ref.one_hot(rng.integers(0, k, size=m), k)
    if loss in ("binary_cross_entropy", "hinge", "perceptron"):
        return rng.integers(0, 2, size=(m, k)).astype(float)
    return rng.normal(size=(m, k))


def kink_distance(layers, X, Y, loss):
    """Smallest distance of any pre-activation from a point where the loss is not
    smooth: z = 0 for relu / leaky_relu / elu / step / perceptron, t·z = 1 for hinge."""
    caches = ref.forward(layers, X)
    distances = [np.inf]
    for layer, (Z, _) in zip(layers, caches):
        if layer.activation in KINKED_HIDDEN + ("step",):
            distances.append(np.abs(Z).min())
    Z_out = caches[-1][0]
    if loss == "hinge":
        distances.append(np.abs(1.0 - (2.0 * Y - 1.0) * Z_out).min())
    if loss == "perceptron":
        distances.append(np.abs(Z_out).min())
    return min(distances)


def gradient_check_case(hidden, output, loss, m=6, k=3, first_seed=0):
    """A 3-4-4-k network and a batch whose pre-activations all keep KINK_CLEARANCE
    from every kink: seeds are tried in turn until one does."""
    for seed in range(first_seed, first_seed + 100):
        rng = np.random.default_rng(seed)
        layers = ref.make_layers([3, 4, 4, k], [hidden, hidden, output], seed=seed,
                                 negative_slope=0.1)
        X = rng.normal(size=(m, 3))
        Y = make_targets(loss, m, k, rng)
        if kink_distance(layers, X, Y, loss) > KINK_CLEARANCE:
            return layers, X, Y, rng
    raise AssertionError("no seed gave inputs away from the kinks")


def flat(grads):
    return np.concatenate([np.ravel(part) for pair in grads for part in pair])


def assert_gradients_match(analytic, numeric):
    a, n = flat(analytic), flat(numeric)
    assert np.linalg.norm(a) > 1e-3, "gradient too small for the check to mean anything"
    relative = np.linalg.norm(a - n) / max(np.linalg.norm(a), np.linalg.norm(n))
    assert relative < TOLERANCE, f"relative error {relative:.2e}"
    # also array by array, so a small wrong array cannot hide behind a large right one
    for (dW, db), (nW, nb) in zip(analytic, numeric):
        for x, y in ((dW, nW), (db, nb)):
            assert np.linalg.norm(x - y) <= TOLERANCE * max(np.linalg.norm(x),
                                                            np.linalg.norm(y)) + 1e-9


# ------------------------------------------------- finite differences, every pair

@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
@pytest.mark.parametrize("hidden", ref.HIDDEN_ACTIVATIONS)
def test_backward_matches_finite_differences(hidden, pair):
    output, loss = pair
    layers, X, Y, _ = gradient_check_case(hidden, output, loss)
    assert kink_distance(layers, X, Y, loss) > KINK_CLEARANCE
    grads, value = ref.backward(layers, X, Y, loss)
    assert value == pytest.approx(ref.loss_value(layers, X, Y, loss), rel=1e-15)
    assert_gradients_match(grads, ref.numerical_gradients(layers, X, Y, loss))


@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
def test_weighted_backward_matches_finite_differences(pair):
    output, loss = pair
    layers, X, Y, rng = gradient_check_case("tanh", output, loss)
    weights = rng.uniform(0.2, 3.0, size=X.shape[0])
    weights[1] = 0.0
    grads, _ = ref.backward(layers, X, Y, loss, weights)
    assert_gradients_match(grads, ref.numerical_gradients(layers, X, Y, loss, weights))


@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
def test_weights_scale_each_sample_and_divide_by_m(pair):
    # L(w) = Σ_i w_i·L(row i alone) / m, and the same for every gradient: the mean
    # divides by m, never by Σ w_i.
    output, loss = pair
    layers, X, Y, rng = gradient_check_case("leaky_relu", output, loss, m=4, first_seed=7)
    m = X.shape[0]
    weights = np.array([0.5, 2.0, 0.0, 1.5])
    grads, value = ref.backward(layers, X, Y, loss, weights)

    expected_value = 0.0
    expected = [[np.zeros_like(layer.W), np.zeros_like(layer.b)] for layer in layers]
    for i in range(m):
        row_grads, row_value = ref.backward(layers, X[i:i + 1], Y[i:i + 1], loss)
        expected_value += weights[i] * row_value / m
        for slot, (dW, db) in zip(expected, row_grads):
            slot[0] += weights[i] * dW / m
            slot[1] += weights[i] * db / m
    assert value == pytest.approx(expected_value, rel=1e-12)
    for (dW, db), (eW, eb) in zip(grads, expected):
        np.testing.assert_allclose(dW, eW, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(db, eb, rtol=1e-12, atol=1e-15)

    unit_grads, unit_value = ref.backward(layers, X, Y, loss, np.ones(m))
    plain_grads, plain_value = ref.backward(layers, X, Y, loss)
    assert unit_value == plain_value
    np.testing.assert_array_equal(flat(unit_grads), flat(plain_grads))


def test_soft_targets_for_cross_entropy_match_finite_differences():
    # Rows of Y that are distributions, not one-hot: dZ = (P − Y)/m still holds.
    layers, X, _, rng = gradient_check_case("sigmoid", "softmax", "cross_entropy")
    Y = rng.dirichlet(np.ones(3), size=X.shape[0])
    grads, _ = ref.backward(layers, X, Y, "cross_entropy")
    assert_gradients_match(grads, ref.numerical_gradients(layers, X, Y, "cross_entropy"))


def test_single_output_accepts_flat_targets():
    layers, X, Y, _ = gradient_check_case("tanh", "sigmoid", "binary_cross_entropy", k=1)
    grads_column, value_column = ref.backward(layers, X, Y, "binary_cross_entropy")
    grads_flat, value_flat = ref.backward(layers, X, Y.ravel(), "binary_cross_entropy")
    assert value_column == value_flat
    np.testing.assert_array_equal(flat(grads_column), flat(grads_flat))


# ---------------------------------------------------------- activations by hand

def test_activation_values_by_hand():
    z = np.array([[-2.0, 0.0, 3.0]])
    e = math.e
    cases = {
        "identity": [-2.0, 0.0, 3.0],
        "sigmoid": [1 / (1 + e ** 2), 0.5, 1 / (1 + e ** -3)],
        "tanh": [math.tanh(-2.0), 0.0, math.tanh(3.0)],
        "relu": [0.0, 0.0, 3.0],
        "leaky_relu": [-0.2, 0.0, 3.0],                       # slope 0.1: 0.1·(−2)
        "elu": [e ** -2 - 1, 0.0, 3.0],
        "softplus": [math.log(1 + e ** -2), math.log(2.0), math.log(1 + e ** 3)],
        "silu": [-2 / (1 + e ** 2), 0.0, 3 / (1 + e ** -3)],  # z·sigmoid(z)
        "step": [0.0, 0.0, 1.0],                              # step(0) = 0
    }
    for name, expected in cases.items():
        np.testing.assert_allclose(ref.activation(name, z, negative_slope=0.1),
                                   [expected], rtol=1e-14, atol=0, err_msg=name)


def test_activation_derivatives_by_hand():
    z = np.array([[-2.0, 0.0, 3.0]])
    e = math.e
    s = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    cases = {
        "identity": [1.0, 1.0, 1.0],
        "sigmoid": [s(-2) * s(2), 0.25, s(3) * s(-3)],      # s(z)·(1 − s(z))
        "tanh": [1 - math.tanh(2.0) ** 2, 1.0, 1 - math.tanh(3.0) ** 2],
        "relu": [0.0, 0.0, 1.0],                            # relu'(0) = 0
        "leaky_relu": [0.1, 0.1, 1.0],                      # left value at the kink
        "elu": [e ** -2, 1.0, 1.0],
        "softplus": [s(-2), 0.5, s(3)],
        "silu": [s(-2) - 2 * s(-2) * s(2), 0.5, s(3) + 3 * s(3) * s(-3)],
    }
    for name, expected in cases.items():
        np.testing.assert_allclose(ref.activation_derivative(name, z, negative_slope=0.1),
                                   [expected], rtol=1e-14, atol=0, err_msg=name)


@pytest.mark.parametrize("name", ref.HIDDEN_ACTIVATIONS)
def test_activation_derivative_matches_finite_differences(name):
    z = np.array([[-3.1, -0.7, -0.02, 0.03, 0.9, 2.5]])
    h = 1e-6
    numeric = (ref.activation(name, z + h, 0.1) - ref.activation(name, z - h, 0.1)) / (2 * h)
    np.testing.assert_allclose(ref.activation_derivative(name, z, 0.1), numeric,
                               rtol=1e-8, atol=1e-10)


def test_softmax_rows_sum_to_one_and_ignore_a_shift():
    Z = np.array([[0.0, math.log(3.0)], [5.0, 5.0]])
    # row 1: e^0 : e^{log 3} = 1 : 3 -> [1/4, 3/4]; row 2: equal -> [1/2, 1/2]
    np.testing.assert_allclose(ref.softmax(Z), [[0.25, 0.75], [0.5, 0.5]], rtol=1e-15)
    np.testing.assert_allclose(ref.softmax(Z + 100.0), ref.softmax(Z), rtol=1e-14)


# --------------------------------------------------------------- losses by hand

def test_cross_entropy_by_hand():
    # Z rows give P = [1/4, 3/4] and [1/2, 1/2]; targets class 1 and class 0:
    # l = [−log 3/4, −log 1/2], L = (log 4/3 + log 2)/2; dZ = (P − Y)/2.
    Z = np.array([[0.0, math.log(3.0)], [2.0, 2.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    value, dZ = ref.loss_and_output_delta("cross_entropy", Z, Y, "softmax")
    assert value == pytest.approx((math.log(4 / 3) + math.log(2)) / 2, rel=1e-14)
    np.testing.assert_allclose(dZ, [[0.125, -0.125], [-0.25, 0.25]], rtol=1e-14)


def test_binary_cross_entropy_sums_outputs_by_hand():
    # One sample, two outputs. z = 0, y = 1: softplus(0) − 0 = log 2;
    # z = log 3 (p = 3/4), y = 0: softplus(log 3) = log 4. Summed: l = log 8; m = 1.
    Z = np.array([[0.0, math.log(3.0)]])
    Y = np.array([[1.0, 0.0]])
    value, dZ = ref.loss_and_output_delta("binary_cross_entropy", Z, Y, "sigmoid")
    assert value == pytest.approx(math.log(8.0), rel=1e-14)
    np.testing.assert_allclose(dZ, [[0.5 - 1.0, 0.75]], rtol=1e-14)   # P − Y


def test_mse_means_over_samples_and_outputs_by_hand():
    # A − Y = [[1, 2], [3, 4]]: L = (1 + 4 + 9 + 16)/4 = 7.5 (no 1/2);
    # dZ = dA = 2(A − Y)/(m·k) = (A − Y)/2 for the identity output.
    Z = np.array([[1.0, 2.0], [3.0, 4.0]])
    value, dZ = ref.loss_and_output_delta("mse", Z, np.zeros((2, 2)), "identity")
    assert value == 7.5
    np.testing.assert_allclose(dZ, [[0.5, 1.0], [1.5, 2.0]], rtol=1e-15)
    # tanh output at z = 0: A = 0, f'(0) = 1; with Y = 1: L = 1, dZ = 2·(0 − 1)/1 · 1
    value, dZ = ref.loss_and_output_delta("mse", np.zeros((1, 1)), np.ones((1, 1)), "tanh")
    assert value == 1.0
    np.testing.assert_allclose(dZ, [[-2.0]], rtol=1e-15)


def test_mse_weighted_by_hand():
    # Per-sample l_i = Σ_j (a − y)²/k: l = [(1+4)/2, (9+16)/2] = [2.5, 12.5];
    # weights [2, 0]: L = (2·2.5 + 0)/2 = 2.5 (divided by m = 2, not Σw = 2 — see next).
    Z = np.array([[1.0, 2.0], [3.0, 4.0]])
    value, dZ = ref.loss_and_output_delta("mse", Z, np.zeros((2, 2)), "identity",
                                          weights=np.array([2.0, 0.0]))
    assert value == 2.5
    np.testing.assert_allclose(dZ, [[1.0, 2.0], [0.0, 0.0]], rtol=1e-15)
    # weights [3, 0]: L = 3·2.5/2 = 3.75, whereas dividing by Σw would give 2.5
    value, _ = ref.loss_and_output_delta("mse", Z, np.zeros((2, 2)), "identity",
                                         weights=np.array([3.0, 0.0]))
    assert value == 3.75


def test_hinge_one_vs_rest_by_hand():
    # Sample 1: z = [0.5, −2], y = [1, 0] -> t = [+1, −1], t·z = [0.5, 2]:
    #   l = max(0, 0.5) + max(0, −1) = 0.5; dZ row = [−1, 0]/m.
    # Sample 2: z = [3, 0.25], y = [1, 0] -> t·z = [3, −0.25]:
    #   l = 0 + 1.25; dZ row = [0, +1]/m. L = (0.5 + 1.25)/2 = 0.875.
    Z = np.array([[0.5, -2.0], [3.0, 0.25]])
    Y = np.array([[1.0, 0.0], [1.0, 0.0]])
    value, dZ = ref.loss_and_output_delta("hinge", Z, Y, "identity")
    assert value == 0.875
    np.testing.assert_array_equal(dZ, [[-0.5, 0.0], [0.0, 0.5]])


def test_perceptron_criterion_by_hand():
    # z = [−0.5, 2, 1.5, −3], y = [1, 0, 1, 0] -> ŷ = [0, 1, 1, 0]:
    #   l = (0−1)(−0.5) + (1−0)·2 + 0 + 0 = [0.5, 2, 0, 0]; L = 2.5/4 = 0.625.
    # dZ = (ŷ − y)/m = [−1, 1, 0, 0]/4.
    Z = np.array([[-0.5], [2.0], [1.5], [-3.0]])
    Y = np.array([1.0, 0.0, 1.0, 0.0])
    value, dZ = ref.loss_and_output_delta("perceptron", Z, Y, "step")
    assert value == 0.625
    np.testing.assert_array_equal(dZ, [[-0.25], [0.25], [0.0], [0.0]])


def test_one_sgd_step_on_one_sample_is_rosenblatts_rule():
    # w ← w + lr·(y − ŷ)·x for a misclassified sample; nothing moves otherwise.
    layers = [ref.Layer([[0.2], [-0.4]], [0.1], "step")]
    x, y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    # z = 0.2 − 0.8 + 0.1 = −0.5 -> ŷ = 0, y = 1: w += 0.5·[1, 2], b += 0.5
    grads, value = ref.backward(layers, x, y, "perceptron")
    assert value == pytest.approx(0.5, rel=1e-15)
    ref.SGD(lr=0.5).step(layers, grads)
    np.testing.assert_allclose(layers[0].W, [[0.7], [0.6]], rtol=1e-15)
    np.testing.assert_allclose(layers[0].b, [0.6], rtol=1e-15)
    # now z = 0.7 + 1.2 + 0.6 = 2.5 -> ŷ = 1 = y: zero loss, zero gradient
    grads, value = ref.backward(layers, x, y, "perceptron")
    assert value == 0.0
    assert not flat(grads).any()


# ------------------------------------------------ forward and backward by hand

def test_forward_and_backward_of_a_2_2_1_network_by_hand():
    # X = [1, 2]; layer 1 (relu): W1 = [[1, −1], [0.5, 1]], b1 = [0, −4]
    #   Z1 = [1 + 1, −1 + 2 − 4] = [2, −3], A1 = [2, 0]
    # layer 2 (identity): W2 = [[3], [5]], b2 = [1]: Z2 = 6 + 0 + 1 = 7
    # mse with Y = 5: L = (7 − 5)² = 4
    layers = [ref.Layer([[1.0, -1.0], [0.5, 1.0]], [0.0, -4.0], "relu"),
              ref.Layer([[3.0], [5.0]], [1.0], "identity")]
    X, Y = np.array([[1.0, 2.0]]), np.array([[5.0]])
    (Z1, A1), (Z2, A2) = ref.forward(layers, X)
    np.testing.assert_array_equal(Z1, [[2.0, -3.0]])
    np.testing.assert_array_equal(A1, [[2.0, 0.0]])
    np.testing.assert_array_equal(Z2, [[7.0]])
    np.testing.assert_array_equal(ref.predict(layers, X), [[7.0]])
    # dZ2 = 2(7 − 5)/(1·1) = 4; dW2 = A1ᵀ·4 = [[8], [0]]; db2 = [4]
    # dA1 = 4·W2ᵀ = [12, 20]; dZ1 = dA1 ⊙ relu'(Z1) = [12, 0]
    # dW1 = Xᵀ·dZ1 = [[12, 0], [24, 0]]; db1 = [12, 0]
    (dW1, db1), (dW2, db2) = ref.backward(layers, X, Y, "mse")[0]
    assert ref.backward(layers, X, Y, "mse")[1] == 4.0
    np.testing.assert_array_equal(dW2, [[8.0], [0.0]])
    np.testing.assert_array_equal(db2, [4.0])
    np.testing.assert_array_equal(dW1, [[12.0, 0.0], [24.0, 0.0]])
    np.testing.assert_array_equal(db1, [12.0, 0.0])


def test_dict_layers_are_read_and_updated_in_place():
    layers = [{"W": np.array([[0.5], [-0.5]]), "b": np.array([0.0]), "activation": "identity"}]
    X, Y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    grads, _ = ref.backward(layers, X, Y, "mse")
    ref.SGD(lr=0.1).step(layers, grads)
    np.testing.assert_allclose(layers[0]["W"], [[0.8], [0.1]], rtol=1e-15)
    np.testing.assert_allclose(layers[0]["b"], [0.3], rtol=1e-15)


# ------------------------------------------------------------- optimisers by hand

def one_unit(w=0.5, b=0.0):
    return [ref.Layer([[w]], [b], "identity")]


def test_one_sgd_step_by_hand():
    # X = [1, 2], W = [0.5, −0.5]ᵀ, b = 0, Y = 1, mse:
    #   z = 0.5 − 1 = −0.5; L = (−1.5)² = 2.25; dZ = 2(−1.5) = −3
    #   dW = Xᵀ·dZ = [−3, −6]ᵀ; db = −3
    # lr = 0.1: W = [0.5 + 0.3, −0.5 + 0.6] = [0.8, 0.1]; b = 0.3
    layers = [ref.Layer([[0.5], [-0.5]], [0.0], "identity")]
    X, Y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    grads, value = ref.backward(layers, X, Y, "mse")
    assert value == 2.25
    ref.SGD(lr=0.1).step(layers, grads)
    np.testing.assert_allclose(layers[0].W, [[0.8], [0.1]], rtol=1e-15)
    np.testing.assert_allclose(layers[0].b, [0.3], rtol=1e-15)


def test_one_sgd_step_with_weight_decay_by_hand():
    # Same as above with λ = 0.5: gW = [−3 + 0.25, −6 − 0.25] = [−2.75, −6.25]
    #   W = [0.5 + 0.275, −0.5 + 0.625] = [0.775, 0.125]; b is not decayed: 0.3.
    # The reported loss stays 2.25: the penalty λ/2·‖W‖² is not part of it.
    layers = [ref.Layer([[0.5], [-0.5]], [0.0], "identity")]
    X, Y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    grads, value = ref.backward(layers, X, Y, "mse")
    assert value == 2.25
    ref.SGD(lr=0.1, weight_decay=0.5).step(layers, grads)
    np.testing.assert_allclose(layers[0].W, [[0.775], [0.125]], rtol=1e-15)
    np.testing.assert_allclose(layers[0].b, [0.3], rtol=1e-15)


def test_weight_decay_is_the_gradient_of_half_lambda_w_squared():
    # One SGD step with lr and λ equals a step along the finite-difference gradient
    # of L + λ/2·‖W‖² (biases excluded from the penalty).
    layers, X, Y, _ = gradient_check_case("tanh", "softmax", "cross_entropy")
    lam, lr = 0.3, 0.05

    def penalised(probe):
        return (ref.loss_value(probe, X, Y, "cross_entropy")
                + lam / 2 * sum((layer.W ** 2).sum() for layer in probe))

    numeric = []
    probe = ref.copy_layers(layers)
    for layer in probe:
        parts = []
        for parameter in (layer.W, layer.b):
            gradient = np.zeros_like(parameter)
            for position in np.ndindex(parameter.shape):
                original = parameter[position]
                parameter[position] = original + 1e-6
                above = penalised(probe)
                parameter[position] = original - 1e-6
                below = penalised(probe)
                parameter[position] = original
                gradient[position] = (above - below) / 2e-6
            parts.append(gradient)
        numeric.append(parts)

    stepped = ref.copy_layers(layers)
    grads, _ = ref.backward(stepped, X, Y, "cross_entropy")
    ref.SGD(lr=lr, weight_decay=lam).step(stepped, grads)
    for before, after, (nW, nb) in zip(layers, stepped, numeric):
        np.testing.assert_allclose((before.W - after.W) / lr, nW, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose((before.b - after.b) / lr, nb, rtol=1e-6, atol=1e-9)


def run_steps(optimizer, gradients, w=1.0):
    """Feed hand-chosen gradients for a single weight; the bias gets the same ones."""
    layers = one_unit(w, w)
    for g in gradients:
        optimizer.step(layers, [(np.array([[g]]), np.array([g]))])
    return layers[0].W[0, 0], layers[0].b[0]


def test_momentum_and_nesterov_two_steps_by_hand():
    # μ = 0.9, lr = 0.1, w0 = 1, gradients g1 = 1, g2 = 0.5.
    # Momentum: v1 = 1, w1 = 1 − 0.1 = 0.9; v2 = 0.9·1 + 0.5 = 1.4, w2 = 0.9 − 0.14 = 0.76
    w, b = run_steps(ref.SGD(lr=0.1, momentum=0.9), [1.0, 0.5])
    assert w == pytest.approx(0.76, rel=1e-14) and b == pytest.approx(0.76, rel=1e-14)
    # Nesterov: v1 = 1, update g1 + μv1 = 1.9, w1 = 1 − 0.19 = 0.81;
    #   v2 = 1.4, update 0.5 + 0.9·1.4 = 1.76, w2 = 0.81 − 0.176 = 0.634
    w, b = run_steps(ref.SGD(lr=0.1, momentum=0.9, nesterov=True), [1.0, 0.5])
    assert w == pytest.approx(0.634, rel=1e-14) and b == pytest.approx(0.634, rel=1e-14)
    # Without momentum: w = 1 − 0.1 − 0.05 = 0.85
    w, _ = run_steps(ref.SGD(lr=0.1), [1.0, 0.5])
    assert w == pytest.approx(0.85, rel=1e-14)


def test_momentum_with_weight_decay_by_hand():
    # λ = 0.5 on W only. w0 = 1, g1 = 1: g = 1 + 0.5 = 1.5, v1 = 1.5, w1 = 1 − 0.15 = 0.85.
    #   g2 = 0.5 + 0.5·0.85 = 0.925, v2 = 0.9·1.5 + 0.925 = 2.275, w2 = 0.85 − 0.2275 = 0.6225
    # The bias (also starting at 1) sees the raw gradients: 0.76 as in the test above.
    w, b = run_steps(ref.SGD(lr=0.1, momentum=0.9, weight_decay=0.5), [1.0, 0.5])
    assert w == pytest.approx(0.6225, rel=1e-14)
    assert b == pytest.approx(0.76, rel=1e-14)


def test_two_adam_steps_by_hand():
    # lr = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8, w0 = 1, g1 = 0.5, g2 = −1.
    # t = 1: m = 0.1·0.5 = 0.05, v = 0.001·0.25 = 0.00025
    #        m̂ = 0.05/0.1 = 0.5, v̂ = 0.00025/0.001 = 0.25, √v̂ = 0.5
    #        w1 = 1 − 0.1·0.5/(0.5 + 1e-8)
    # t = 2: m = 0.9·0.05 + 0.1·(−1) = −0.055, v = 0.999·0.00025 + 0.001·1 = 0.00124975
    #        m̂ = −0.055/(1 − 0.81) = −0.055/0.19
    #        v̂ = 0.00124975/(1 − 0.998001) = 0.00124975/0.001999
    #        w2 = w1 − 0.1·m̂/(√v̂ + 1e-8)
    w1 = 1 - 0.1 * 0.5 / (0.5 + 1e-8)
    w2 = w1 - 0.1 * (-0.055 / 0.19) / (math.sqrt(0.00124975 / 0.001999) + 1e-8)
    assert w2 == pytest.approx(0.936610, abs=1e-6)          # ≈ 0.9 + 0.0366
    optimizer = ref.Adam(lr=0.1)
    w, b = run_steps(optimizer, [0.5])
    assert w == pytest.approx(w1, rel=1e-13)
    layers = one_unit(w, b)
    optimizer.step(layers, [(np.array([[-1.0]]), np.array([-1.0]))])
    assert optimizer.t == 2
    assert layers[0].W[0, 0] == pytest.approx(w2, rel=1e-13)
    assert layers[0].b[0] == pytest.approx(w2, rel=1e-13)


def test_adam_with_weight_decay_one_step_by_hand():
    # w0 = 2, λ = 0.25, g = 1 -> g + λw = 1.5 for W; b (also 2) keeps g = 1.
    # First Adam step moves by lr·g/(|g| + ε) whatever g's size: W = 2 − 0.1·1.5/(1.5 + 1e-8)
    layers = one_unit(2.0, 2.0)
    ref.Adam(lr=0.1, weight_decay=0.25).step(layers, [(np.array([[1.0]]), np.array([1.0]))])
    assert layers[0].W[0, 0] == pytest.approx(2 - 0.1 * 1.5 / (1.5 + 1e-8), rel=1e-14)
    assert layers[0].b[0] == pytest.approx(2 - 0.1 * 1.0 / (1.0 + 1e-8), rel=1e-14)


def test_adam_first_step_moves_every_parameter_by_lr():
    # m̂1 = g and v̂1 = g², so the first step is lr·g/(|g| + ε) ≈ lr·sign(g) for any
    # scale of g.
    layers, X, Y, _ = gradient_check_case("tanh", "identity", "mse")
    stepped = ref.copy_layers(layers)
    grads, _ = ref.backward(stepped, X, Y, "mse")
    ref.Adam(lr=0.01).step(stepped, grads)
    for before, after, (dW, db) in zip(layers, stepped, grads):
        np.testing.assert_allclose(before.W - after.W, 0.01 * dW / (np.abs(dW) + 1e-8),
                                   rtol=1e-12)
        np.testing.assert_allclose(before.b - after.b, 0.01 * db / (np.abs(db) + 1e-8),
                                   rtol=1e-12)


def test_nesterov_without_momentum_is_refused():
    with pytest.raises(ValueError, match="momentum"):
        ref.SGD(lr=0.1, nesterov=True)


# ----------------------------------------------------------------- training loop

def test_train_mini_batches_in_order_by_hand():
    # One identity unit, mse, W = 0, b = 0, X = [1, 2, 3], Y = X, lr = 0.1, B = 2.
    # Batch [0:2]: z = [0, 0], L = (1 + 4)/2 = 2.5; dZ = 2(A − Y)/2 = [−1, −2]
    #   dW = 1·(−1) + 2·(−2) = −5, db = −3 -> W = 0.5, b = 0.3
    # Batch [2:3]: z = 3·0.5 + 0.3 = 1.8, L = (1.8 − 3)² = 1.44; dZ = −2.4
    #   dW = 3·(−2.4) = −7.2, db = −2.4 -> W = 0.5 + 0.72 = 1.22, b = 0.3 + 0.24 = 0.54
    # Epoch loss = (2·2.5 + 1·1.44)/3 = 6.44/3
    layers = one_unit(0.0, 0.0)
    X = np.array([[1.0], [2.0], [3.0]])
    history = ref.train(layers, X, X.copy(), "mse", ref.SGD(lr=0.1), batch_size=2, epochs=1)
    assert history == [pytest.approx(6.44 / 3, rel=1e-14)]
    assert layers[0].W[0, 0] == pytest.approx(1.22, rel=1e-14)
    assert layers[0].b[0] == pytest.approx(0.54, rel=1e-14)


def test_train_perceptron_online_by_hand():
    # Rosenblatt, lr = 1, B = 1, W = 0, b = 0:
    # x1 = [1, 1], y = 1: z = 0 -> ŷ = 0, loss 0·... = 0; update w = [1, 1], b = 1
    # x2 = [2, −1], y = 0: z = 2 − 1 + 1 = 2 -> ŷ = 1, loss 2; w = [−1, 2], b = 0
    # x3 = [−1, 2], y = 1: z = 1 + 4 + 0 = 5 -> ŷ = 1, loss 0
    # Epoch 1 loss = (0 + 2 + 0)/3. Epoch 2: z = [1, −4, 5], all correct: loss 0.
    layers = [ref.Layer(np.zeros((2, 1)), [0.0], "step")]
    X = np.array([[1.0, 1.0], [2.0, -1.0], [-1.0, 2.0]])
    Y = np.array([1.0, 0.0, 1.0])
    history = ref.train(layers, X, Y, "perceptron", ref.SGD(lr=1.0), batch_size=1, epochs=2)
    assert history == [pytest.approx(2 / 3, rel=1e-15), 0.0]
    np.testing.assert_array_equal(layers[0].W, [[-1.0], [2.0]])
    np.testing.assert_array_equal(layers[0].b, [0.0])


@pytest.mark.parametrize("batch_size", [1, 2, 4, 5, 7])
def test_epoch_loss_is_the_mean_per_sample_loss(batch_size):
    # With lr = 0 nothing moves, so every batch-size-weighted epoch loss must equal
    # the loss over the whole data set, including a smaller last batch.
    layers, X, Y, rng = gradient_check_case("relu", "softmax", "cross_entropy", m=5)
    weights = rng.uniform(0.5, 2.0, size=5)
    expected = ref.loss_value(layers, X, Y, "cross_entropy", weights)
    history = ref.train(layers, X, Y, "cross_entropy", ref.SGD(lr=0.0),
                        batch_size=batch_size, epochs=2, weights=weights)
    assert history == [pytest.approx(expected, rel=1e-13)] * 2


@pytest.mark.parametrize("make_optimizer", [
    lambda: ref.SGD(lr=0.5, momentum=0.9),
    lambda: ref.Adam(lr=0.05),
], ids=["sgd-momentum", "adam"])
def test_short_training_run_learns_a_separable_problem(make_optimizer):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 20)
    X = rng.normal(scale=0.5, size=(40, 2)) + np.where(labels[:, None] == 1, 2.0, -2.0)
    Y = ref.one_hot(labels, 2)
    layers = ref.make_layers([2, 6, 2], ["tanh", "softmax"], seed=1)
    initial = ref.loss_value(layers, X, Y, "cross_entropy")
    history = ref.train(layers, X, Y, "cross_entropy", make_optimizer(),
                        batch_size=8, epochs=20)
    assert len(history) == 20
    assert history[-1] < 0.05 * initial
    assert ref.loss_value(layers, X, Y, "cross_entropy") < 0.05 * initial
    np.testing.assert_array_equal(ref.predict(layers, X).argmax(axis=1), labels)


def test_training_a_linear_svm_reaches_zero_hinge_loss():
    rng = np.random.default_rng(3)
    labels = np.repeat([0.0, 1.0], 15)
    X = rng.normal(scale=0.4, size=(30, 2)) + np.where(labels[:, None] == 1, 2.0, -2.0)
    layers = ref.make_layers([2, 1], ["identity"], seed=0)
    history = ref.train(layers, X, labels, "hinge", ref.SGD(lr=0.1), batch_size=10,
                        epochs=30)
    assert history[0] > 0.1 and history[-1] == 0.0


# --------------------------------------------------------------------- stability

EXTREMES = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]])


@pytest.mark.parametrize("name", ref.ACTIVATIONS)
def test_activations_are_finite_at_extremes(name):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = ref.activation(name, EXTREMES, 0.1)
        assert np.isfinite(A).all()
        if name in ref.HIDDEN_ACTIVATIONS:
            assert np.isfinite(ref.activation_derivative(name, EXTREMES, 0.1)).all()
    limits = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "elu": (-1.0, 1000.0),
              "softplus": (0.0, 1000.0), "silu": (0.0, 1000.0), "relu": (0.0, 1000.0),
              "step": (0.0, 1.0), "leaky_relu": (-100.0, 1000.0)}
    if name in limits:
        assert (A[0, 0], A[0, -1]) == pytest.approx(limits[name], abs=1e-12)


def test_losses_are_finite_at_extremes():
    Z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    Y = np.array([[0.0, 1.0], [0.0, 1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        # CE: row 1 has log p_1 = −2000, row 2 log p_1 = 0: L = 2000/2 = 1000
        value, dZ = ref.loss_and_output_delta("cross_entropy", Z, Y, "softmax")
        assert value == 1000.0
        np.testing.assert_array_equal(dZ, [[0.5, -0.5], [0.0, 0.0]])
        # BCE: softplus(1000) = 1000 for a 0 target, softplus(−1000) − 1·(−1000) = 1000,
        # the other two are 0 up to e^−1000: L = (1000 + 1000)/2
        value, dZ = ref.loss_and_output_delta("binary_cross_entropy", Z, Y, "sigmoid")
        assert value == 1000.0
        np.testing.assert_array_equal(dZ, [[0.5, -0.5], [0.0, 0.0]])
        for output, loss in OUTPUT_LOSS_PAIRS[2:]:
            value, dZ = ref.loss_and_output_delta(loss, Z, Y, output, negative_slope=0.1)
            assert math.isfinite(value) and np.isfinite(dZ).all(), (output, loss)


@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS, ids=pair_id)
def test_backward_is_finite_with_saturated_layers(pair):
    output, loss = pair
    layers, X, Y, _ = gradient_check_case("sigmoid", output, loss)
    X = X * 1e4         # pushes the first layer's pre-activations to about ±1000
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        grads, value = ref.backward(layers, X, Y, loss)
    assert math.isfinite(value) and np.isfinite(flat(grads)).all()


# ------------------------------------------------------------------------ refusals

@pytest.mark.parametrize("output, loss", [
    ("sigmoid", "cross_entropy"), ("softmax", "binary_cross_entropy"),
    ("softmax", "mse"), ("step", "mse"), ("sigmoid", "hinge"), ("identity", "perceptron"),
])
def test_mismatched_output_and_loss_are_refused(output, loss):
    layers = ref.make_layers([2, 2], [output])
    with pytest.raises(ValueError, match="cannot be used with output activation"):
        ref.backward(layers, np.zeros((1, 2)), np.zeros((1, 2)), loss)


@pytest.mark.parametrize("hidden", ["step", "softmax"])
def test_step_and_softmax_are_refused_in_hidden_layers(hidden):
    layers = ref.make_layers([2, 2, 1], [hidden, "identity"])
    with pytest.raises(ValueError, match="hidden layer 0"):
        ref.backward(layers, np.zeros((1, 2)), np.zeros((1, 1)), "mse")


def test_bad_shapes_are_refused():
    layers = ref.make_layers([2, 3], ["identity"])
    with pytest.raises(ValueError, match="Y must have shape"):
        ref.backward(layers, np.zeros((4, 2)), np.zeros((4, 2)), "mse")
    with pytest.raises(ValueError, match="weights must have shape"):
        ref.backward(layers, np.zeros((4, 2)), np.zeros((4, 3)), "mse", np.ones(3))
    with pytest.raises(ValueError, match="unknown loss"):
        ref.backward(layers, np.zeros((4, 2)), np.zeros((4, 3)), "l1")
    with pytest.raises(ValueError, match="b must have shape"):
        ref.Layer(np.zeros((2, 3)), np.zeros(2))
