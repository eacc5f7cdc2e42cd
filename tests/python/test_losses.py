"""The regression losses added to the engine (mae, huber, poisson) seen from Python: values and
gradients against PyTorch's definitions, finite differences through fm.gradient_check, and the
Poisson loss against scikit-learn's deviance on the same weights."""
import numpy as np
import pytest

import fastmlp as fm


def data(m=20, seed=0, counts=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    if counts:
        return X, rng.poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5)).astype(float)
    return X, 2.0 * X[:, 0] - X[:, 2] + 0.5 * rng.normal(size=m)


def network(loss, output="identity"):
    model = fm.Sequential([fm.Dense(5, activation="tanh"), fm.Dense(1, activation=output)], input_dim=3,
                          dtype="float64", seed=4)
    model.compile(loss=loss, optimizer=fm.SGD(lr=0.01))
    return model


CASES = {"mae": ("identity", lambda torch: torch.nn.L1Loss()),
         "huber": ("identity", lambda torch: torch.nn.HuberLoss(delta=1.0)),
         "poisson": ("exp", None)}


@pytest.mark.parametrize("loss", sorted(CASES))
def test_value_and_gradients_match_pytorch(loss):
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    output, make_loss = CASES[loss]
    X, y = data(counts=loss == "poisson")
    model = network(loss, output)
    value, grads = model.evaluate(X, y)["loss"], model.gradients(X, y)
    W0, b0, W1, b1 = (torch.tensor(a, requires_grad=True) for a in model.get_weights())
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.reshape(-1, 1))
    Z = torch.tanh(Xt @ W0 + b0) @ W1 + b1
    if loss == "poisson":
        # PyTorch's PoissonNLLLoss(log_input=True) is mean(e^z − y·z); fastmlp's half deviance adds
        # mean(y·log y − y), a constant of the targets, so the gradients are the same.
        reference = torch.nn.PoissonNLLLoss(log_input=True, full=False)(Z, yt)
        constant = np.mean(np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0) - y)
        expected_value = reference.item() + constant
    else:
        reference = make_loss(torch)(Z, yt)
        expected_value = reference.item()
    reference.backward()
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    for ours, theirs in zip([a for g in grads for a in (g.dW, g.db)], (W0, b0, W1, b1)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss", sorted(CASES))
def test_gradients_match_finite_differences(loss):
    output, _ = CASES[loss]
    X, y = data(counts=loss == "poisson")
    result = fm.gradient_check(network(loss, output), X, y)
    assert result.max_relative_error < 1e-6, result


def test_huber_is_half_the_squared_error_within_delta_and_linear_beyond():
    # One identity unit with W = 0, b = 0: the prediction is 0, so residuals are −y.
    # y = 0.5 (inside δ = 1): ½·0.25 = 0.125; y = 1 (the kink): ½ = 1·(1 − ½); y = 3: 1·(3 − ½) = 2.5.
    model = fm.Sequential([fm.Dense(1, initializer="zeros")], input_dim=1, dtype="float64")
    model.compile(loss="huber")
    for target, expected in ((0.5, 0.125), (1.0, 0.5), (3.0, 2.5), (-3.0, 2.5)):
        assert model.evaluate(np.zeros((1, 1)), np.array([target]))["loss"] == pytest.approx(expected, abs=1e-15)
    # the slope is continuous at the kink and capped at δ beyond it: db = −clip(y, −1, 1)
    for target, slope in ((0.999, -0.999), (1.0, -1.0), (1.001, -1.0), (50.0, -1.0)):
        np.testing.assert_allclose(model.gradients(np.zeros((1, 1)), np.array([target]))[0].db, [slope], rtol=1e-12)


def test_poisson_loss_is_half_of_scikit_learns_mean_poisson_deviance_on_the_same_weights():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import PoissonRegressor
    from sklearn.metrics import mean_poisson_deviance

    assert sklearn
    X, y = data(200, counts=True)
    glm = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=10000).fit(X, y)
    model = fm.Sequential([fm.Dense(1, activation="exp")], input_dim=3, dtype="float64")
    model.compile(loss="poisson")
    model.set_weights([glm.coef_.reshape(3, 1), np.array([glm.intercept_])])
    np.testing.assert_allclose(model.predict(X)[:, 0], glm.predict(X), rtol=1e-12)
    np.testing.assert_allclose(model.evaluate(X, y)["loss"], mean_poisson_deviance(y, glm.predict(X)) / 2,
                               rtol=1e-12)
    # scikit-learn's solution is the minimum of the same objective: no gradient left
    for g in model.gradients(X, y):
        np.testing.assert_allclose(g.dW, 0.0, atol=1e-6)


def test_poisson_needs_the_exp_output_and_counts():
    model = fm.Sequential([fm.Dense(1)], input_dim=3)
    with pytest.raises(ValueError, match="poisson uses the log link, so the output must be exp"):
        model.compile(loss="poisson")
    X, y = data(counts=True)
    y[3] = -1.0
    with pytest.raises(ValueError, match="poisson loss needs targets y >= 0"):
        network("poisson", "exp").fit(X, y, epochs=1, verbose=0)


def test_scikit_learns_names_reach_the_same_losses():
    X, y = data()
    assert network("absolute_error").evaluate(X, y)["loss"] == network("mae").evaluate(X, y)["loss"]
    assert network("absolute_error").loss == "mae"


def test_exp_is_an_output_only_activation():
    with pytest.raises(ValueError, match="layer 0: exp belongs only at the output layer, with poisson"):
        fm.Sequential([fm.Dense(3, activation="exp"), fm.Dense(1, activation="exp")])
