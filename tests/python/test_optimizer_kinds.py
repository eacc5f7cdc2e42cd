"""RMSprop, AdamW and Keras's gradient clipping (on every optimiser) from Python, and Huber's δ.

Each optimiser is run for several full-batch steps and compared with the same steps written out
in NumPy from PyTorch's and Keras's published update rules, fed with the engine's own gradients
at the same weights (model.gradients), so the check is about the update alone. Weight decay
follows fastmlp's convention: weights only, never biases.
"""
import numpy as np
import pytest

import fastmlp as fm

STEPS = 4


def regression_data(m=12, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d))
    Y = np.column_stack([X @ np.array([1.0, -2.0, 0.5]), np.sin(X[:, 0])]) * 3.0
    return X, Y


def small_model(optimizer, loss="mse"):
    model = fm.Sequential([fm.Dense(4, activation="tanh"), fm.Dense(2)], input_dim=3, dtype="float64", seed=1)
    model.compile(loss=loss, optimizer=optimizer)
    return model


def tensors(model):
    """The flat [W0, b0, W1, b1] gradient, split into its tensors (views), and which are weights."""
    grads = model.gradients(*regression_data())
    parts = [part for grad in grads for part in (grad.dW.ravel(), grad.db)]
    return parts, [True, False] * len(grads)


def clipped(parts, clipnorm=None, global_clipnorm=None, clipvalue=None):
    # Keras: clip_by_value; clip_by_norm per tensor, g·c/max(‖g‖, c); clip_by_global_norm.
    if clipvalue is not None:
        return [np.clip(g, -clipvalue, clipvalue) for g in parts]
    if clipnorm is not None:
        return [g * clipnorm / max(np.linalg.norm(g), clipnorm) for g in parts]
    if global_clipnorm is not None:
        norm = np.sqrt(sum(float(np.sum(g * g)) for g in parts))
        return [g * global_clipnorm / max(norm, global_clipnorm) for g in parts]
    return parts


def rmsprop_steps(model, lr, rho, eps, momentum, weight_decay, clip):
    params = [p.copy() for p in flat_parameters(model)]
    s = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for _ in range(STEPS):
        parts, is_weight = tensors(model)
        parts = clipped(parts, **clip)
        for i, (p, g) in enumerate(zip(params, parts)):
            if is_weight[i]:
                g = g + weight_decay * p
            s[i] = rho * s[i] + (1 - rho) * g * g           # PyTorch's square_avg
            if momentum:
                v[i] = momentum * v[i] + g / (np.sqrt(s[i]) + eps)
                p -= lr * v[i]
            else:
                p -= lr * g / (np.sqrt(s[i]) + eps)
        full_batch_step(model)
        yield params


def adamw_steps(model, lr, beta1, beta2, eps, weight_decay, clip):
    params = [p.copy() for p in flat_parameters(model)]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    for t in range(1, STEPS + 1):
        parts, is_weight = tensors(model)
        parts = clipped(parts, **clip)
        for i, (p, g) in enumerate(zip(params, parts)):
            if is_weight[i]:
                p *= 1 - lr * weight_decay                   # decoupled: before the Adam step
            m1[i] = beta1 * m1[i] + (1 - beta1) * g
            m2[i] = beta2 * m2[i] + (1 - beta2) * g * g
            p -= lr * (m1[i] / (1 - beta1 ** t)) / (np.sqrt(m2[i] / (1 - beta2 ** t)) + eps)
        full_batch_step(model)
        yield params


def sgd_steps(model, lr, momentum, clip):
    params = [p.copy() for p in flat_parameters(model)]
    v = [np.zeros_like(p) for p in params]
    for _ in range(STEPS):
        parts, _ = tensors(model)
        for i, (p, g) in enumerate(zip(params, clipped(parts, **clip))):
            v[i] = momentum * v[i] + g
            p -= lr * v[i]
        full_batch_step(model)
        yield params


def flat_parameters(model):
    return [part for layer in model.layers for part in (layer.W.ravel().copy(), layer.b.copy())]


def full_batch_step(model):
    X, Y = regression_data()
    model.fit(X, Y, epochs=1, batch_size=len(X), shuffle=False, verbose=0)


def assert_follows(model, expected_steps):
    for step, expected in enumerate(expected_steps):
        found = flat_parameters(model)
        for part, want in zip(found, expected):
            np.testing.assert_allclose(part, want, rtol=1e-11, atol=1e-13, err_msg=f"step {step + 1}")
    assert model.engine.optimizer_steps == STEPS


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.5, 0.1)])
@pytest.mark.parametrize("clip", [{}, {"clipnorm": 0.5}, {"clipvalue": 0.05}, {"global_clipnorm": 0.3}])
def test_rmsprop_follows_pytorchs_rule(momentum, weight_decay, clip):
    optimizer = fm.RMSprop(learning_rate=0.01, rho=0.8, momentum=momentum, eps=1e-6, weight_decay=weight_decay,
                           **clip)
    model = small_model(optimizer)
    assert model.engine.optimizer_kind == "rmsprop"
    assert_follows(model, rmsprop_steps(model, 0.01, 0.8, 1e-6, momentum, weight_decay, clip))


@pytest.mark.parametrize("clip", [{}, {"clipnorm": 0.5}, {"clipvalue": 0.05}])
def test_adamw_decays_weights_apart_from_the_moments(clip):
    model = small_model(fm.AdamW(lr=0.02, beta1=0.8, beta2=0.99, weight_decay=0.5, **clip))
    assert model.engine.optimizer_kind == "adamw"
    assert_follows(model, adamw_steps(model, 0.02, 0.8, 0.99, 1e-8, 0.5, clip))


@pytest.mark.parametrize("clip", [{"clipnorm": 0.2}, {"clipvalue": 0.01}, {"global_clipnorm": 0.25}])
def test_sgd_clips_as_keras_does(clip):
    model = small_model(fm.SGD(lr=0.1, momentum=0.5, **clip))
    assert_follows(model, sgd_steps(model, 0.1, 0.5, clip))


def test_clipping_changes_the_step_only_beyond_its_bound():
    X, Y = regression_data()
    loose, plain = small_model(fm.Adam(lr=0.01, clipnorm=1e6)), small_model(fm.Adam(lr=0.01))
    for model in (loose, plain):
        full_batch_step(model)
    np.testing.assert_array_equal(loose.get_parameters(), plain.get_parameters())
    tight = small_model(fm.Adam(lr=0.01, clipvalue=1e-4))
    full_batch_step(tight)
    assert tight.engine.optimizer_steps == 1


def test_the_new_optimizers_by_name_and_in_files(tmp_path):
    X, Y = regression_data()
    for name, kind in (("rmsprop", fm.RMSprop), ("adamw", fm.AdamW)):
        model = small_model(name)
        assert isinstance(model.optimizer, kind)
    model = small_model(fm.RMSprop(lr=0.01, momentum=0.5, clipnorm=0.5))
    full_batch_step(model)
    model.save(tmp_path / "r.fmlp", include_optimizer=True)
    loaded = fm.load(tmp_path / "r.fmlp")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    full_batch_step(loaded)
    full_batch_step(model)
    np.testing.assert_array_equal(loaded.get_parameters(), model.get_parameters())
    assert fm.AdamW().weight_decay == 0.01 and fm.RMSprop(epsilon=1e-7).eps == 1e-7


@pytest.mark.parametrize("make, message", [
    (lambda: fm.RMSprop(rho=1.0), r"rho must be in \[0, 1\)"),
    (lambda: fm.RMSprop(momentum=-0.1), r"momentum must be in \[0, 1\)"),
    (lambda: fm.AdamW(weight_decay=-1), r"weight_decay must be a finite number >= 0"),
    (lambda: fm.RMSprop(eps=1e-8, epsilon=1e-7), r"eps or epsilon"),
    (lambda: fm.SGD(clipnorm=1.0, clipvalue=1.0), r"only one of clipnorm, global_clipnorm and clipvalue"),
    (lambda: fm.Adam(clipnorm=0), r"clipnorm must be a positive finite number"),
])
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def huber(r, delta):
    return np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))


@pytest.mark.parametrize("delta", [0.3, 1.0, 4.0])
def test_hubers_delta_reaches_the_loss_and_its_gradient(delta):
    X, Y = regression_data()
    model = fm.Sequential([fm.Dense(2)], input_dim=3, dtype="float64", seed=2)
    model.compile(loss=fm.losses.Huber(delta=delta), optimizer="sgd")
    assert model.engine.huber_delta == delta
    r = model.predict(X) - Y
    assert model.evaluate(X, Y)["loss"] == pytest.approx(huber(r, delta).mean(), rel=1e-13)
    # dL/dZ = clip(r, −δ, δ)/(m·k) with the identity output; dW = Xᵀ·dZ.
    dZ = np.clip(r, -delta, delta) / r.size
    grads = model.gradients(X, Y)
    np.testing.assert_allclose(grads[0].dW, X.T @ dZ, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[0].db, dZ.sum(axis=0), rtol=1e-12, atol=1e-15)
    assert (np.abs(r) > delta).any() and (np.abs(r) <= delta).any()  # both sides of the kink


def test_huber_as_a_name_is_delta_one_and_delta_travels_in_files_and_pickles(tmp_path):
    import pickle

    X, Y = regression_data()
    model = small_model(fm.SGD(lr=0.01), loss=fm.losses.Huber(0.25))
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "h.fmlp")
    for restored in (fm.load(tmp_path / "h.fmlp"), pickle.loads(pickle.dumps(model))):
        assert restored.huber_delta == 0.25 and restored.engine.huber_delta == 0.25
        assert restored.evaluate(X, Y)["loss"] == model.evaluate(X, Y)["loss"]
    assert small_model("sgd", loss="huber").engine.huber_delta == 1.0
    with pytest.raises(ValueError, match="delta must be a positive finite number"):
        fm.losses.Huber(0)
    with pytest.raises(ValueError, match="loss must be a loss name"):
        small_model("sgd", loss=3)


def test_mlp_regressor_takes_hubers_delta():
    pytest.importorskip("sklearn")
    X, Y = regression_data(m=60)
    regressor = fm.MLPRegressor(hidden_layer_sizes=(5,), loss="huber", huber_delta=0.5, max_iter=3,
                                random_state=0, dtype="float64")
    with pytest.warns(Warning):
        regressor.fit(X, Y[:, 0])
    assert regressor.model_.engine.huber_delta == 0.5
    with pytest.raises(ValueError, match="delta must be a positive finite number"):
        fm.MLPRegressor(loss="huber", huber_delta=-1.0).fit(X, Y[:, 0])
