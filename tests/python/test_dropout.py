"""Dropout from Python: fm.Dropout in a Sequential and dropout= on the MLP estimators. A training
step's gradients against the NumPy reference given the engine's masks, and against central
differences with those masks fixed; inference never drops; seeds; rate 0; the shuffling left
alone; model files, pickles and ONNX; explain_step and forward showing the masks; refusals."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

import fastmlp as fm
import reference as ref
from fastmlp import fileformat
from fastmlp.fileformat._schema import check_description


def data(n=40, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int), X[:, :2] @ np.array([[1.0, -0.5], [0.25, 2.0]])


def regression_model(rates=(0.4, 0.25), dtype="float64", seed=3):
    model = fm.Sequential([fm.Dense(6, activation="tanh"), fm.Dropout(rates[0]),
                           fm.Dense(5, activation="sigmoid"), fm.Dropout(rates[1]),
                           fm.Dense(2)], input_dim=4, dtype=dtype, seed=seed)
    model.compile(loss="mse", optimizer=fm.SGD(lr=0.05))
    return model


def reference_layers(model):
    return [ref.Layer(layer.W.astype(np.float64), layer.b.astype(np.float64), layer.activation, layer.negative_slope)
            for layer in model.layers]


def test_dropout_folds_into_the_dense_layer_before_it():
    model = regression_model()
    assert len(model.layers) == 3
    assert [layer.dropout for layer in model.layers] == [0.4, 0.25, 0.0]
    assert [model.engine.layer_dropout(index) for index in range(3)] == [0.4, 0.25, 0.0]
    assert "dropout" not in fm.Dense(3).get_config()
    assert fm.Dense(3, dropout=0.5).get_config()["dropout"] == 0.5


def test_a_training_steps_gradients_equal_the_reference_given_the_engines_masks():
    X, _, Y = data()
    model = regression_model()
    loss, grads, masks = model._loss_and_gradients(X, Y, training=True, masks=True)
    assert masks[2] is None and masks[0].shape == (40, 6) and masks[1].shape == (40, 5)
    assert set(np.unique(masks[0])) == {0.0, 1.0} and set(np.unique(masks[1])) == {0.0, 1.0}
    dropout = [(masks[0], 0.4), (masks[1], 0.25), None]
    expected, expected_loss = ref.backward(reference_layers(model), X, Y, "mse", dropout=dropout)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for (dW, db), (dW_ref, db_ref) in zip(grads, expected):
        np.testing.assert_allclose(dW, dW_ref, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(db, db_ref, rtol=1e-10, atol=1e-13)
    # The masks matter: the reference without them disagrees.
    plain, _ = ref.backward(reference_layers(model), X, Y, "mse")
    assert not np.allclose(plain[0][0], grads[0][0], rtol=1e-3)


def test_the_reference_gradients_with_dropout_match_central_differences():
    X, _, Y = data(n=8)
    model = regression_model()
    _, grads, masks = model._loss_and_gradients(X, Y, training=True, masks=True)
    dropout = [(masks[0], 0.4), (masks[1], 0.25), None]
    numeric = ref.numerical_gradients(reference_layers(model), X, Y, "mse", dropout=dropout)
    for (dW, db), (dW_num, db_num) in zip(grads, numeric):
        np.testing.assert_allclose(dW, dW_num, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(db, db_num, rtol=1e-6, atol=1e-9)


def test_a_training_step_updates_by_the_dropped_gradient():
    X, _, Y = data(n=16)
    model = regression_model()
    before = reference_layers(model)
    state = model.engine.get_dropout_state()
    _, _, masks = model._loss_and_gradients(X, Y, training=True, masks=True)
    model.engine.set_dropout_state(state)  # the step below draws the same masks
    model.engine.train_batch(X, Y)
    expected, _ = ref.backward(before, X, Y, "mse", dropout=[(masks[0], 0.4), (masks[1], 0.25), None])
    for layer, old, (dW, db) in zip(model.layers, before, expected):
        np.testing.assert_allclose(layer.W, old.W - 0.05 * dW, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.b, old.b - 0.05 * db, rtol=1e-12, atol=1e-14)


def test_forward_shows_the_masks_of_a_training_pass_and_inference_never_drops():
    X, _, _ = data()
    model = regression_model()
    layers = reference_layers(model)
    caches = model.forward(X, training=True)
    assert caches[0].M is not None and caches[2].M is None
    expected = ref.forward(layers, X, [(caches[0].M, 0.4), (caches[1].M, 0.25), None])
    for cache, (Z, A) in zip(caches, expected):
        np.testing.assert_allclose(cache.Z, Z, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(cache.A, A, rtol=1e-12, atol=1e-14)
    plain = model.forward(X)
    assert all(cache.M is None for cache in plain)
    np.testing.assert_allclose(model.predict(X), ref.predict(layers, X), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(model.predict(X), plain[-1].A)
    np.testing.assert_array_equal(model.predict(X), model.predict(X))


def test_rate_zero_is_no_dropout_bit_for_bit_and_dropout_leaves_the_shuffling_alone():
    X, y, _ = data(n=100)

    def fitted(rate):
        layers = [fm.Dense(8, activation="relu")] + ([fm.Dropout(rate)] if rate is not None else []) + \
                 [fm.Dense(2, activation="softmax")]
        model = fm.Sequential(layers, seed=5)
        model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=0.01))
        model.fit(X, y, epochs=3, batch_size=16, verbose=0)
        return model

    none, zero, half = fitted(None), fitted(0.0), fitted(0.5)
    np.testing.assert_array_equal(zero.get_parameters(), none.get_parameters())
    assert half.engine.get_shuffle_state() == none.engine.get_shuffle_state()
    assert not np.array_equal(half.get_parameters(), none.get_parameters())


def test_the_seed_decides_the_masks():
    X, y, _ = data(n=100)

    def fitted(seed):
        model = fm.Sequential([fm.Dense(8, activation="relu"), fm.Dropout(0.5), fm.Dense(2, activation="softmax")],
                              seed=seed)
        model.compile(loss="cross_entropy", optimizer="adam")
        model.fit(X, y, epochs=2, batch_size=16, verbose=0)
        return model.get_parameters()

    np.testing.assert_array_equal(fitted(1), fitted(1))
    assert not np.array_equal(fitted(1), fitted(2))


def test_refusals_name_the_problem():
    with pytest.raises(ValueError, match=r"must follow a Dense layer"):
        fm.Sequential([fm.Dropout(0.5), fm.Dense(2)])
    with pytest.raises(ValueError, match=r"two dropouts after layer 0"):
        fm.Sequential([fm.Dense(3), fm.Dropout(0.5), fm.Dropout(0.2), fm.Dense(1)])
    with pytest.raises(ValueError, match=r"output layer \(layer 1\) cannot drop"):
        fm.Sequential([fm.Dense(3), fm.Dense(1), fm.Dropout(0.5)], input_dim=2)
    for rate in (1.0, -0.1, 1.5, float("nan"), "0.5", True, None):
        with pytest.raises(ValueError, match=r"rate must be .*\[0, 1\)"):
            fm.Dropout(rate)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        fm.Dense(3, dropout=1.0)


def test_model_files_and_pickles_keep_the_rates_and_resume_exactly(tmp_path):
    X, _, Y = data(n=60)
    model = regression_model(dtype="float32")
    model.compile(loss="mse", optimizer=fm.Adam(lr=0.01))
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.fmlp", include_optimizer=True)
    description = fileformat.read_payload(tmp_path / "m.fmlp").description
    assert [layer.get("dropout") for layer in description["layers"]] == [0.4, 0.25, None]
    assert len(description["training"]["dropout_state"]) == 4
    for restored in (fm.load(tmp_path / "m.fmlp"), pickle.loads(pickle.dumps(model))):
        assert [layer.dropout for layer in restored.layers] == [0.4, 0.25, 0.0]
        np.testing.assert_array_equal(restored.predict(X), model.predict(X))
        restored.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(restored.get_parameters(), model.get_parameters())
    np.testing.assert_array_equal(fm.load(tmp_path / "m.fmlp").get_parameters().shape, model.get_parameters().shape)


def test_files_of_models_without_dropout_are_as_before(tmp_path):
    model = fm.Sequential([fm.Dense(3, activation="relu"), fm.Dense(1)], input_dim=2)
    model.compile(loss="mse")
    model.save(tmp_path / "plain.fmlp")
    description = fileformat.read_payload(tmp_path / "plain.fmlp").description
    assert all("dropout" not in layer for layer in description["layers"])
    assert "dropout_state" not in description["training"]


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["layers"][0].update(dropout=1.5), r"layer 0: dropout must be a number in \[0, 1\)"),
    (lambda d: d["layers"][0].update(dropout="half"), r"layer 0: dropout must be a number"),
    (lambda d: d["layers"][-1].update(dropout=0.5), r"output layer, which cannot drop"),
    (lambda d: d["training"].update(dropout_state=["0" * 16] * 4), r"dropout_state must not be all zero"),
    (lambda d: d["training"].update(dropout_state=[1, 2]), r"dropout_state must be a list of 4"),
])
def test_a_malformed_rate_or_generator_is_a_format_error(edit, message):
    description = {"format": "fastmlp", "format_version": 1, "library_version": "0", "kind": "Sequential",
                   "dtype": "float32", "input_dim": 2, "layers": [{"units": 3, "activation": "relu", "dropout": 0.5},
                                                                  {"units": 1, "activation": "identity"}],
                   "loss": "mse", "seed": 0,
                   "training": {"optimizer_steps": 0, "shuffle_state": ["0" * 15 + "1"] * 4}}
    check_description(json.loads(json.dumps(description)), "test")
    edit(description)
    with pytest.raises(fm.FormatError, match=message):
        check_description(description, "test")


def test_explain_step_shows_the_masks_when_asked_and_changes_nothing():
    X, _, Y = data(n=5)
    model = regression_model()
    state = model.engine.get_dropout_state()
    report = model.explain_step(X, Y, training=True)
    assert "M[1] (dropout mask)" in report and "M[2] (dropout mask)" in report
    assert "Ã[1] = A[1] ⊙ M[1]/(1 − p)" in report and "dW[2] = Ã[1]ᵀ·dZ[2]" in report
    assert "reproduce the engine's dW" in report and "do NOT" not in report
    assert model.engine.get_dropout_state() == state
    # The report's masks are those the next training step draws.
    _, _, masks = model._loss_and_gradients(X, Y, training=True, masks=True)
    kept = int(masks[0].sum())
    assert f"{kept} of {masks[0].size} kept, p = 0.4" in report
    assert "dropout mask" not in model.explain_step(X, Y)


def test_onnx_export_has_no_dropout_and_predicts_as_the_model():
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    import fastmlp.onnx as fmx
    from onnx_helpers import assert_close, run

    X, _, Y = data()
    model = regression_model(dtype="float32")
    model.fit(X, Y, epochs=2, verbose=0)
    proto = fmx.export(model)
    assert all(node.op_type != "Dropout" for node in proto.graph.node)
    outputs = run(proto, X.astype(np.float32))
    assert_close(next(iter(outputs.values())), model.predict(X), np.float32)


def test_estimators_take_one_rate_or_one_per_hidden_layer():
    pytest.importorskip("sklearn")
    from sklearn.base import clone

    X, y, Y = data(n=80)
    classifier = fm.MLPClassifier(hidden_layer_sizes=(8, 6), dropout=[0.3, 0.1], max_iter=5, random_state=0)
    with pytest.warns(Warning):
        classifier.fit(X, y)
    assert [layer.dropout for layer in classifier.model_.layers] == [0.3, 0.1, 0.0]
    assert clone(classifier).get_params()["dropout"] == [0.3, 0.1]
    regressor = fm.MLPRegressor(hidden_layer_sizes=(8,), dropout=0.2, max_iter=3, random_state=0)
    with pytest.warns(Warning):
        regressor.fit(X, Y[:, 0])
    assert regressor.model_.layers[0].dropout == 0.2
    np.testing.assert_array_equal(regressor.predict(X), regressor.predict(X))
    refusals = [
        (dict(hidden_layer_sizes=(8, 6), dropout=[0.3]), r"dropout lists 1 rates but there are 2 hidden layers"),
        (dict(dropout=1.0), r"dropout must be in \[0, 1\)"),
        (dict(dropout="0.5"), r"dropout must be a number"),
        (dict(dropout=0.5, solver="lbfgs"), r"needs solver 'sgd' or 'adam', not 'lbfgs'"),
    ]
    for params, message in refusals:
        with pytest.raises(ValueError, match=message):
            fm.MLPClassifier(max_iter=2, **params).fit(X, y)


def test_a_dropout_step_against_pytorchs_autograd_with_the_same_masks():
    torch = pytest.importorskip("torch")
    X, _, Y = data(n=10)
    model = regression_model()
    loss, grads, masks = model._loss_and_gradients(X, Y, training=True, masks=True)
    params = [(torch.tensor(layer.W, requires_grad=True), torch.tensor(layer.b, requires_grad=True))
              for layer in model.layers]
    A = torch.tensor(X)
    for (W, b), f, mask, layer in zip(params, (torch.tanh, torch.sigmoid, lambda z: z), masks, model.layers):
        A = f(A @ W + b)
        if mask is not None:
            A = A * torch.tensor(mask) / (1.0 - layer.dropout)   # what torch.nn.Dropout does with this mask
    expected = ((A - torch.tensor(Y)) ** 2).mean()
    expected.backward()
    assert loss == pytest.approx(expected.detach().item(), rel=1e-12)
    for (W, b), grad in zip(params, grads):
        np.testing.assert_allclose(grad.dW, W.grad.numpy(), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(grad.db, b.grad.numpy(), rtol=1e-10, atol=1e-13)
