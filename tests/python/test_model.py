"""The public model API as DESIGN.md shows it: Sequential, Dense, compile, fit, predict,
evaluate, summary, layer parameters, History, progress output, labels, validation,
agreement with reference.py's training, threads and pickling."""

import copy
import pickle
import re

import numpy as np
import pytest

import fastmlp as fm
import reference as ref


def blobs(n_samples=90, n_features=4, n_classes=3, seed=0):
    """Separable-ish classes: features centred on a per-class mean, labels 0..k-1."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    centres = rng.standard_normal((n_classes, n_features)) * 2.0
    X = centres[y] + rng.standard_normal((n_samples, n_features))
    return X, y


def classifier(dtype="float32", seed=0, hidden=6, n_classes=3, optimizer=None, input_dim=None):
    model = fm.Sequential([fm.Dense(hidden, activation="tanh"), fm.Dense(n_classes, activation="softmax")],
                          input_dim=input_dim, dtype=dtype, seed=seed)
    model.compile(loss="cross_entropy", optimizer=optimizer or fm.SGD(lr=0.1, momentum=0.9))
    return model


def reference_layers(model):
    return [ref.Layer(layer.W, layer.b, layer.activation, layer.negative_slope) for layer in model.layers]


# ---------------------------------------------------------------- the DESIGN.md example

def test_design_example_runs_verbatim(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = blobs(n_samples=120)

    model = fm.Sequential([
        fm.Dense(64, activation="relu"),
        fm.Dense(3, activation="softmax"),
    ], input_dim=None, dtype="float32", seed=0)       # input_dim may be inferred at fit
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.1, momentum=0.9))
    history = model.fit(X, y, epochs=20, batch_size=32, validation_split=0.1,
                        shuffle=True, callbacks=[fm.EarlyStopping(patience=3)], verbose=1)
    history.history["loss"], history.history["val_loss"]     # one float per epoch
    P = model.predict(X)             # output-layer activations, shape (m, n_out)
    model.evaluate(X, y)             # dict: loss, and accuracy for classifiers
    model.summary()                  # text table: layer, shapes, activation, parameters
    model.layers[0].W, model.layers[0].b          # NumPy arrays, shapes as in Notation
    caches = model.forward(X)        # per layer: .Z and .A
    grads  = model.gradients(X, y)   # per layer: .dW and .db, no update made  # noqa: E221
    model.save("model.fmlp");  fm.load("model.fmlp")  # noqa: E702

    n_epochs = len(history.epoch)
    assert 1 <= n_epochs <= 20
    assert len(history.history["loss"]) == len(history.history["val_loss"]) == n_epochs
    assert P.shape == (120, 3) and P.dtype == np.float32
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)
    assert model.layers[0].W.shape == (4, 64) and model.layers[0].b.shape == (64,)
    assert [c.A.shape for c in caches] == [(120, 64), (120, 3)]
    assert [g.dW.shape for g in grads] == [(4, 64), (64, 3)]
    assert model.evaluate(X, y)["accuracy"] > 0.8


def test_design_example_inspection_lines():
    pytest.importorskip("fastmlp.inspection")
    X, y = blobs(n_samples=30)
    model = classifier(dtype="float64")
    model.fit(X, y, epochs=1, verbose=0)
    error = fm.gradient_check(model, X, y)   # largest relative error against finite differences
    assert error < 1e-5
    assert isinstance(model.explain_step(X[:4], y[:4]), str)
    assert "layer" in str(model.diagnose(X, y))


# ---------------------------------------------------------------- construction and compile

def test_input_dim_inferred_at_fit_and_fixed_after():
    X, y = blobs()
    model = classifier()
    assert not model.built and model.input_dim is None
    model.fit(X, y, epochs=1, verbose=0)
    assert model.built and model.input_dim == 4
    with pytest.raises(ValueError, match="X has 3 features, but the model expects 4"):
        model.fit(X[:, :3], y, verbose=0)


def test_explicit_input_dim_builds_immediately():
    model = classifier(input_dim=4)
    assert model.built
    assert model.layers[0].W.shape == (4, 6)
    assert model.layers[1].W.shape == (6, 3)
    assert model.count_params() == (4 + 1) * 6 + (6 + 1) * 3


def test_engine_is_none_before_build_then_the_read_only_network_behind_the_model():
    model = fm.Sequential([fm.Dense(3, activation="softmax")], dtype="float64")
    assert model.engine is None
    model.build(2)
    engine = model.engine
    assert isinstance(engine, fm._core.Network64)
    assert engine.input_dim == 2 and engine.num_layers == 1
    np.testing.assert_array_equal(engine.get_weights(0), model.layers[0].W)
    with pytest.raises(AttributeError):
        model.engine = None
    assert model.engine is engine


def test_same_seed_same_initial_weights_other_seed_different():
    first, second, other = classifier(seed=5, input_dim=4), classifier(seed=5, input_dim=4), \
        classifier(seed=6, input_dim=4)
    np.testing.assert_array_equal(first.layers[0].W, second.layers[0].W)
    assert not np.array_equal(first.layers[0].W, other.layers[0].W)


def test_biases_start_at_zero_and_weights_are_small():
    model = classifier(input_dim=4, hidden=50)
    np.testing.assert_array_equal(model.layers[0].b, np.zeros(50))
    # Glorot uniform for tanh: |w| <= sqrt(6 / (n_in + n_out))
    assert np.abs(model.layers[0].W).max() <= np.sqrt(6 / 54) + 1e-7
    assert model.layers[0].W.std() > 0.05


@pytest.mark.parametrize("dtype, expected", [("float32", np.float32), ("float64", np.float64),
                                             (np.float32, np.float32), (np.float64, np.float64)])
def test_dtype_flows_through_every_output(dtype, expected):
    X, y = blobs(n_samples=12)
    model = classifier(dtype=dtype)
    model.fit(X, y, epochs=1, verbose=0)
    assert model.predict(X).dtype == expected
    assert model.layers[0].W.dtype == expected and model.layers[0].b.dtype == expected
    assert all(c.Z.dtype == expected and c.A.dtype == expected for c in model.forward(X))
    assert all(g.dW.dtype == expected and g.db.dtype == expected for g in model.gradients(X, y))


def test_compile_accepts_optimizer_names_and_aliases():
    model = fm.Sequential([fm.Dense(2, activation="sigmoid")])
    model.compile(loss="log_loss", optimizer="adam")
    assert model.loss == "binary_cross_entropy"
    assert isinstance(model.optimizer, fm.Adam) and model.optimizer.lr == 1e-3
    model.compile(loss="mean_squared_error", optimizer="sgd")
    assert model.loss == "mse" and isinstance(model.optimizer, fm.SGD)


def test_a_refused_compile_keeps_the_previous_loss():
    model = fm.Sequential([fm.Dense(3, activation="softmax")])
    model.compile(loss="cross_entropy")
    with pytest.raises(ValueError, match="does not fit loss 'hinge'"):
        model.compile(loss="hinge")
    assert model.loss == "cross_entropy"


def test_optimizer_hyperparameters_reach_the_engine():
    # One SGD step from known weights: w1 = w0 - lr * dW, exactly as reference.py computes it.
    X, y = blobs(n_samples=8)
    model = classifier(dtype="float64", optimizer=fm.SGD(lr=0.37), input_dim=4)
    layers = reference_layers(model)
    grads, _ = ref.backward(layers, X, ref.one_hot(y, 3), "cross_entropy")
    ref.SGD(0.37).step(layers, grads)
    model.fit(X, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for layer, expected in zip(model.layers, layers):
        np.testing.assert_allclose(layer.W, expected.W, rtol=0, atol=1e-13)
        np.testing.assert_allclose(layer.b, expected.b, rtol=0, atol=1e-13)


# ---------------------------------------------------------------- predict, evaluate, summary

def test_predict_equals_numpy_forward():
    X, y = blobs(n_samples=25)
    model = classifier(dtype="float64")
    model.fit(X, y, epochs=2, verbose=0)
    np.testing.assert_allclose(model.predict(X), ref.predict(reference_layers(model), X), rtol=0, atol=1e-13)


def test_predict_accepts_lists_integers_and_fortran_order():
    X, _ = blobs(n_samples=10)
    model = classifier(dtype="float64", input_dim=4)
    expected = model.predict(X)
    np.testing.assert_array_equal(model.predict(X.tolist()), expected)
    np.testing.assert_array_equal(model.predict(np.asfortranarray(X)), expected)
    Xi = np.arange(40).reshape(10, 4) % 5
    np.testing.assert_array_equal(model.predict(Xi), model.predict(Xi.astype(np.float64)))


def test_predict_larger_than_one_chunk_equals_smaller_calls():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1300, 4))
    model = classifier(dtype="float64", input_dim=4)
    whole = model.predict(X)
    pieces = np.vstack([model.predict(X[i:i + 97]) for i in range(0, 1300, 97)])
    # Eigen's blocking may round a row differently inside another block size: ulps, no more.
    np.testing.assert_allclose(whole, pieces, rtol=1e-14, atol=1e-15)


def test_evaluate_matches_reference_loss_and_accuracy():
    X, y = blobs(n_samples=40)
    model = classifier(dtype="float64")
    model.fit(X, y, epochs=3, verbose=0)
    report = model.evaluate(X, y)
    assert set(report) == {"loss", "accuracy"}
    layers = reference_layers(model)
    assert report["loss"] == pytest.approx(ref.loss_value(layers, X, ref.one_hot(y, 3), "cross_entropy"),
                                           rel=1e-12)
    assert report["accuracy"] == np.mean(ref.predict(layers, X).argmax(axis=1) == y)


def test_evaluate_of_a_regressor_reports_only_loss():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    Y = X @ rng.standard_normal((3, 2))
    model = fm.Sequential([fm.Dense(2)], dtype="float64")
    model.compile(loss="mse", optimizer=fm.SGD(lr=0.05))
    history = model.fit(X, Y, epochs=3, verbose=0)
    assert set(history.history) == {"loss"}
    report = model.evaluate(X, Y)
    assert set(report) == {"loss"}
    assert report["loss"] == pytest.approx(np.mean((model.predict(X) - Y) ** 2), rel=1e-12)


def test_evaluate_binary_accuracy_thresholds_at_one_half():
    X = np.array([[1.0], [-1.0], [2.0], [-3.0]])
    y = np.array([1, 0, 0, 1])
    model = fm.Sequential([fm.Dense(1, activation="sigmoid")], input_dim=1, dtype="float64")
    model.compile(loss="binary_cross_entropy")
    model.layers[0].W = [[1.0]]
    model.layers[0].b = [0.0]
    # predictions 1, 0, 1, 0 against labels 1, 0, 0, 1: half right
    assert model.evaluate(X, y)["accuracy"] == 0.5
    p = 1 / (1 + np.exp(-X[:, 0]))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert model.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-12)


def test_summary_is_a_table_with_shapes_activations_and_parameter_counts():
    model = fm.Sequential([fm.Dense(64, activation="relu"), fm.Dense(3, activation="softmax")], input_dim=4)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.1, momentum=0.9))
    text = model.summary()
    assert isinstance(text, str)
    lines = text.splitlines()
    first = next(line for line in lines if line.startswith("0 "))
    second = next(line for line in lines if line.startswith("1 "))
    assert "(4, 64)" in first and "relu" in first and first.split()[-1] == "320"
    assert "(64, 3)" in second and "softmax" in second and second.split()[-1] == "195"
    assert "total parameters: 515" in text
    assert "cross_entropy" in text and "momentum=0.9" in text


def test_summary_before_build_says_unknown(capsys):
    model = fm.Sequential([fm.Dense(5, activation="relu"), fm.Dense(1)])
    text = model.summary()
    assert "not built" in text and "unknown until built" in text
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- layer parameters

def test_W_and_b_have_the_notation_shapes_and_are_copies():
    model = classifier(input_dim=4)
    W, b = model.layers[0].W, model.layers[0].b
    assert W.shape == (4, 6) and b.shape == (6,)
    W[:] = 123.0
    b[:] = 7.0
    assert not np.any(model.layers[0].W == 123.0)
    assert not np.any(model.layers[0].b == 7.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_assigned_W_and_b_are_used_by_predict(dtype):
    model = fm.Sequential([fm.Dense(2, activation="relu"), fm.Dense(1)], input_dim=3, dtype=dtype)
    W0 = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]])
    model.layers[0].W = W0
    model.layers[0].b = np.array([[0.25, -0.5]])          # the notes' 1 × n_out row is accepted
    model.layers[1].W = [[2.0], [-1.0]]
    model.layers[1].b = [0.5]
    np.testing.assert_array_equal(model.layers[0].W, W0.astype(dtype))
    np.testing.assert_array_equal(model.layers[0].b, np.array([0.25, -0.5], dtype=dtype))
    X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]])
    hidden = np.maximum(X @ W0 + [0.25, -0.5], 0)
    expected = hidden @ [[2.0], [-1.0]] + 0.5
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-6)


def test_assigning_float64_to_a_float32_model_rounds_like_float32():
    model = fm.Sequential([fm.Dense(1)], input_dim=2, dtype="float32")
    value = np.array([[0.1], [1 / 3]])
    model.layers[0].W = value
    np.testing.assert_array_equal(model.layers[0].W, value.astype(np.float32))
    assert model.layers[0].W.dtype == np.float32


# ---------------------------------------------------------------- fit: labels and History

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_integer_and_one_hot_labels_train_identically(dtype):
    X, y = blobs(n_samples=50)
    by_label, by_row = classifier(dtype=dtype), classifier(dtype=dtype)
    h1 = by_label.fit(X, y, epochs=3, batch_size=8, verbose=0)
    h2 = by_row.fit(X, np.eye(3)[y], epochs=3, batch_size=8, verbose=0)
    assert h1.history == h2.history
    for a, b in zip(by_label.layers, by_row.layers):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)


def test_binary_labels_as_column_or_vector_train_identically():
    X, y = blobs(n_samples=40, n_classes=2)
    models = []
    for labels in (y, y.reshape(-1, 1), y.astype(bool), y.astype(np.float32)):
        model = fm.Sequential([fm.Dense(3, activation="relu"), fm.Dense(1, activation="sigmoid")])
        model.compile(loss="binary_cross_entropy", optimizer="adam")
        model.fit(X, labels, epochs=2, verbose=0)
        models.append(model)
    for other in models[1:]:
        np.testing.assert_array_equal(other.layers[0].W, models[0].layers[0].W)


def test_history_has_one_entry_per_epoch_train_and_validation_side_by_side():
    X, y = blobs()
    model = classifier()
    history = model.fit(X, y, epochs=4, validation_split=0.2, verbose=0)
    assert isinstance(history, fm.History)
    assert model.history is history
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 4 for values in history.history.values())
    assert all(isinstance(v, float) for values in history.history.values() for v in values)
    assert history.epoch == [0, 1, 2, 3]
    assert history.params["epochs"] == 4 and history.params["samples"] == 72


def test_history_without_validation_has_no_val_keys():
    X, y = blobs()
    history = classifier().fit(X, y, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


def test_fit_continues_from_where_it_stopped():
    X, y = blobs()
    twice = classifier(dtype="float64")
    twice.fit(X, y, epochs=2, shuffle=False, verbose=0)
    twice.fit(X, y, epochs=2, shuffle=False, verbose=0)
    once = classifier(dtype="float64")
    once.fit(X, y, epochs=4, shuffle=False, verbose=0)
    np.testing.assert_array_equal(twice.layers[0].W, once.layers[0].W)


def test_training_loss_is_the_mean_over_the_epoch_before_each_update():
    # One batch holding everything: the epoch's loss is the loss at the start of the epoch.
    X, y = blobs(n_samples=30)
    model = classifier(dtype="float64")
    model.build(4)
    before = model.evaluate(X, y)
    history = model.fit(X, y, epochs=1, batch_size=30, verbose=0)
    assert history.history["loss"][0] == pytest.approx(before["loss"], rel=1e-12)
    assert history.history["accuracy"][0] == before["accuracy"]


def test_sample_weight_zero_equals_leaving_rows_out_of_the_gradient():
    # Weighted mean divides by m (DESIGN: loss averaged over the m samples), so a zero
    # weight removes a row's contribution but keeps m: compare with reference.py.
    X, y = blobs(n_samples=20)
    weights = np.where(np.arange(20) % 4 == 0, 0.0, 1.5)
    model = classifier(dtype="float64", optimizer=fm.SGD(lr=0.2))
    model.build(4)
    layers = reference_layers(model)
    expected = ref.train(layers, X, ref.one_hot(y, 3), "cross_entropy", ref.SGD(0.2), 5, 2, weights)
    history = model.fit(X, y, epochs=2, batch_size=5, shuffle=False, sample_weight=weights, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-12)
    for layer, expected_layer in zip(model.layers, layers):
        np.testing.assert_allclose(layer.W, expected_layer.W, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- agreement with reference.py

REFERENCE_CASES = {
    "softmax-sgd-momentum": (["tanh", "softmax"], "cross_entropy",
                             lambda: fm.SGD(lr=0.1, momentum=0.9), lambda: ref.SGD(0.1, momentum=0.9)),
    "softmax-adam": (["relu", "softmax"], "cross_entropy",
                     lambda: fm.Adam(lr=0.01), lambda: ref.Adam(0.01)),
    "mse-nesterov-decay": (["sigmoid", "identity"], "mse",
                           lambda: fm.SGD(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
                           lambda: ref.SGD(0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    "bce-adam-decay": (["leaky_relu", "sigmoid"], "binary_cross_entropy",
                       lambda: fm.Adam(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-7, weight_decay=0.05),
                       lambda: ref.Adam(0.02, beta1=0.8, beta2=0.99, eps=1e-7, weight_decay=0.05)),
}


@pytest.mark.parametrize("case", sorted(REFERENCE_CASES))
def test_fit_float64_equals_reference_training(case):
    activations, loss, make_optimizer, make_reference_optimizer = REFERENCE_CASES[case]
    rng = np.random.default_rng(11)
    X = rng.standard_normal((43, 5))
    n_out = 3 if loss != "binary_cross_entropy" else 1
    if loss == "cross_entropy":
        y = rng.integers(0, 3, 43)
        Y = ref.one_hot(y, 3)
    elif loss == "binary_cross_entropy":
        y = rng.integers(0, 2, 43)
        Y = y.reshape(-1, 1).astype(float)
    else:
        y = Y = rng.standard_normal((43, 3))
    model = fm.Sequential([fm.Dense(7, activation=activations[0]), fm.Dense(n_out, activation=activations[1])],
                          input_dim=5, dtype="float64", seed=4)
    model.compile(loss=loss, optimizer=make_optimizer())
    layers = reference_layers(model)
    expected_losses = ref.train(layers, X, Y, loss, make_reference_optimizer(), batch_size=8, epochs=4)
    history = model.fit(X, y, epochs=4, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected_losses, rtol=1e-10, atol=1e-12)
    for layer, expected in zip(model.layers, layers):
        np.testing.assert_allclose(layer.W, expected.W, rtol=0, atol=1e-10)
        np.testing.assert_allclose(layer.b, expected.b, rtol=0, atol=1e-10)


def test_shuffled_training_visits_every_sample_once_per_epoch():
    # With lr tiny, an epoch's loss is the plain mean of per-sample losses whatever the
    # order, so a shuffle that dropped or repeated rows would show.
    X, y = blobs(n_samples=41)
    model = classifier(dtype="float64", optimizer=fm.SGD(lr=1e-14))
    model.build(4)
    expected = model.evaluate(X, y)
    history = model.fit(X, y, epochs=2, batch_size=6, shuffle=True, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected["loss"], rtol=1e-10)
    assert history.history["accuracy"] == [expected["accuracy"]] * 2


def test_shuffle_changes_the_order_but_is_reproducible_from_the_seed():
    X, y = blobs(n_samples=60)
    ordered, shuffled, again = classifier(seed=2), classifier(seed=2), classifier(seed=2)
    ordered.fit(X, y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    shuffled.fit(X, y, epochs=2, batch_size=5, shuffle=True, verbose=0)
    again.fit(X, y, epochs=2, batch_size=5, shuffle=True, verbose=0)
    assert not np.array_equal(ordered.layers[0].W, shuffled.layers[0].W)
    np.testing.assert_array_equal(shuffled.layers[0].W, again.layers[0].W)


# ---------------------------------------------------------------- validation_split / validation_data

def constant_class_model(n_classes, predicted_class, dtype="float64"):
    """A softmax model that predicts `predicted_class` for any input and barely learns."""
    model = fm.Sequential([fm.Dense(n_classes, activation="softmax")], input_dim=2, dtype=dtype)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=1e-12))
    model.layers[0].W = np.zeros((2, n_classes))
    b = np.zeros(n_classes)
    b[predicted_class] = 20.0
    model.layers[0].b = b
    return model


def test_validation_split_is_stratified_for_classifiers():
    # Sorted labels: a split that took the last rows would hold only class 2.
    counts = np.array([50, 30, 20])
    y = np.repeat(np.arange(3), counts)
    X = np.random.default_rng(0).standard_normal((100, 2))
    for c in range(3):
        model = constant_class_model(3, c)
        history = model.fit(X, y, epochs=1, validation_split=0.2, verbose=0)
        # the model is right exactly on the rows of class c
        assert history.history["val_accuracy"][0] * 20 == pytest.approx(counts[c] * 0.2)
        assert history.history["accuracy"][0] * 80 == pytest.approx(counts[c] * 0.8)


def test_validation_split_rounds_class_shares_and_keeps_every_class_possible():
    counts = np.array([7, 5, 3])
    y = np.repeat(np.arange(3), counts)
    X = np.zeros((15, 2))
    held_out = []
    for c in range(3):
        history = constant_class_model(3, c).fit(X, y, epochs=1, validation_split=0.2, verbose=0)
        held_out.append(round(history.history["val_accuracy"][0] * 3))
    assert sum(held_out) == 3                                   # ceil(15 * 0.2)
    for count, share in zip(counts, held_out):
        assert np.floor(count * 0.2) <= share <= np.ceil(count * 0.2)


def test_validation_split_is_shuffled_for_regressors_and_partitions_the_data():
    # y = row index, a model that predicts 0: val_loss = mean of held-out y², loss = mean of
    # the rest; together they must cover every row once, and the held-out rows are not the tail.
    n = 50
    X = np.zeros((n, 2))
    y = np.arange(n, dtype=np.float64)
    model = fm.Sequential([fm.Dense(1)], input_dim=2, dtype="float64", seed=3)
    model.compile(loss="mse", optimizer=fm.SGD(lr=1e-18))
    model.layers[0].W = np.zeros((2, 1))
    model.layers[0].b = [0.0]
    history = model.fit(X, y, epochs=1, validation_split=0.2, verbose=0)
    train_sum = history.history["loss"][0] * 40
    val_sum = history.history["val_loss"][0] * 10
    assert train_sum + val_sum == pytest.approx(np.sum(y ** 2), rel=1e-12)
    assert val_sum != pytest.approx(np.sum(y[-10:] ** 2), rel=1e-6)
    assert val_sum != pytest.approx(np.sum(y[:10] ** 2), rel=1e-6)


def test_validation_split_is_the_same_for_the_same_seed():
    X, y = blobs(n_samples=60)
    first = classifier(seed=1).fit(X, y, epochs=1, validation_split=0.25, verbose=0)
    second = classifier(seed=1).fit(X, y, epochs=1, validation_split=0.25, verbose=0)
    assert first.history == second.history


def test_validation_data_is_evaluated_after_each_epoch():
    X, y = blobs(n_samples=60)
    X_val, y_val = blobs(n_samples=21, seed=1)
    model = classifier(dtype="float64")

    class EvaluateNow(fm.Callback):
        def __init__(self):
            self.reports = []

        def on_epoch_end(self, epoch, logs=None):
            self.reports.append(self.model.evaluate(X_val, y_val))

    spy = EvaluateNow()
    history = model.fit(X, y, epochs=3, validation_data=(X_val, y_val), callbacks=[spy], verbose=0)
    assert history.params["samples"] == 60                   # nothing held out of X
    assert history.history["val_loss"] == [r["loss"] for r in spy.reports]
    assert history.history["val_accuracy"] == [r["accuracy"] for r in spy.reports]


def test_validation_data_accepts_one_hot_and_sample_weight():
    X, y = blobs(n_samples=30)
    model = classifier(dtype="float64")
    weights = np.linspace(0.5, 2.0, 30)
    history = model.fit(X, y, epochs=1, validation_data=(X, np.eye(3)[y], weights), verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(X, y, sample_weight=weights)["loss"],
                                                           rel=1e-12)


# ---------------------------------------------------------------- progress output

def test_verbose_0_prints_nothing(capfd):
    X, y = blobs()
    classifier().fit(X, y, epochs=3, validation_split=0.1, verbose=0)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_verbose_1_shows_a_progress_bar_with_loss_and_speed(capfd):
    X, y = blobs()
    classifier().fit(X, y, epochs=3, validation_split=0.1, verbose=1)
    out, err = capfd.readouterr()
    shown = out + err
    assert "3/3" in shown
    assert "loss=" in shown and "val_loss=" in shown
    last = [frame for frame in re.split(r"[\r\n]", shown) if "val_loss=" in frame][-1]
    assert last.count("samples/s") == 1 and "/s" not in last.replace("samples/s", "")   # one throughput figure


def test_verbose_2_prints_one_line_per_epoch(capfd):
    X, y = blobs()
    classifier().fit(X, y, epochs=3, verbose=2)
    out, _ = capfd.readouterr()
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in lines] == ["epoch 1", "epoch 2", "epoch 3"]
    assert all("loss=" in line and "samples/s=" in line for line in lines)


# ---------------------------------------------------------------- no copy of X, one call per epoch

def recording_network(monkeypatch, dtype):
    """Replace the engine's network class by a subclass that records each train_epoch call."""
    import fastmlp._core as core

    name = "Network32" if dtype == "float32" else "Network64"
    base = getattr(core, name)
    calls = []

    class Recording(base):
        def train_epoch(self, X, Y, sample_weight=None, batch_size=32, shuffle=True, progress=None, *hooks):
            calls.append((X, base._input_address(X)))
            return super().train_epoch(X, Y, sample_weight, batch_size, shuffle, progress, *hooks)

    monkeypatch.setattr(core, name, Recording)
    return calls


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_does_not_copy_a_contiguous_X_of_the_model_dtype(monkeypatch, dtype):
    calls = recording_network(monkeypatch, dtype)
    X, y = blobs(n_samples=64)
    X = np.ascontiguousarray(X, dtype=dtype)
    model = classifier(dtype=dtype)
    model.fit(X, y, epochs=3, batch_size=4, verbose=0)
    assert len(calls) == 3                  # one crossing per epoch, not per batch (16 batches)
    for passed, address in calls:
        assert passed is X or np.shares_memory(passed, X)
        assert address == X.ctypes.data     # and the engine reads the caller's memory


def test_fit_converts_other_layouts_once(monkeypatch):
    calls = recording_network(monkeypatch, "float32")
    X, y = blobs(n_samples=20)
    model = classifier(dtype="float32")
    model.fit(np.asfortranarray(X), y, epochs=2, verbose=0)
    assert len(calls) == 2
    assert calls[0][1] == calls[1][1]          # the same converted copy serves every epoch


# ---------------------------------------------------------------- threads, pickling, repr

def test_set_and_get_num_threads():
    before = fm.get_num_threads()
    try:
        fm.set_num_threads(1)
        assert fm.get_num_threads() == 1
        fm.set_num_threads(0)                   # 0 = all cores
        assert fm.get_num_threads() >= 1
    finally:
        fm.set_num_threads(before)
    assert fm.get_num_threads() == before


@pytest.mark.parametrize("bad, message", [(-1, ">= 0"), (1.5, "integer"), (True, "integer"), ("2", "integer")])
def test_set_num_threads_refuses_bad_values(bad, message):
    with pytest.raises(ValueError, match=message):
        fm.set_num_threads(bad)


def test_single_thread_gives_the_same_training():
    X, y = blobs(n_samples=64)
    before = fm.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            fm.set_num_threads(threads)
            model = classifier(dtype="float64", hidden=32)
            model.fit(X, y, epochs=2, verbose=0)
            results.append(model.predict(X))
    finally:
        fm.set_num_threads(before)
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pickle_round_trip_predicts_identically(dtype):
    X, y = blobs()
    model = classifier(dtype=dtype, optimizer=fm.Adam(lr=0.01))
    model.fit(X, y, epochs=2, verbose=0)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.summary() == model.summary()
    # the restored model trains on its own, leaving the original alone
    W = model.layers[0].W
    restored.fit(X, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.layers[0].W, W)
    assert not np.array_equal(restored.layers[0].W, W)


def test_deepcopy_of_a_built_and_of_an_unbuilt_model():
    X, y = blobs()
    unbuilt = classifier(seed=9)
    clone = copy.deepcopy(unbuilt)
    assert not clone.built and clone.loss == "cross_entropy"
    assert repr(clone.optimizer) == repr(unbuilt.optimizer)
    clone.fit(X, y, epochs=1, verbose=0)
    unbuilt.fit(X, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(clone.layers[0].W, unbuilt.layers[0].W)
    built_clone = copy.deepcopy(unbuilt)
    np.testing.assert_array_equal(built_clone.predict(X), unbuilt.predict(X))


def test_repr_names_the_layers():
    model = fm.Sequential([fm.Dense(4, activation="leaky_relu", negative_slope=0.2), fm.Dense(1)])
    text = repr(model)
    assert "Dense(4, activation='leaky_relu', negative_slope=0.2)" in text
    assert "Dense(1, activation='identity')" in text


def test_a_layer_cannot_join_two_models():
    layer = fm.Dense(3)
    fm.Sequential([layer])
    with pytest.raises(ValueError, match="already belongs to another model"):
        fm.Sequential([layer])


def test_errors_are_the_documented_classes():
    assert issubclass(fm.FormatError, ValueError)
    assert issubclass(fm.DivergenceError, FloatingPointError)


def test_hinge_with_one_output_takes_minus_one_plus_one_or_zero_one_labels():
    X, y = blobs(n_samples=40, n_classes=2)
    models = []
    for labels in (y, 2 * y - 1):
        model = fm.Sequential([fm.Dense(1)], dtype="float64", seed=0)
        model.compile(loss="hinge", optimizer=fm.SGD(lr=0.1))
        model.fit(X, labels, epochs=2, verbose=0)
        models.append(model)
    np.testing.assert_array_equal(models[0].get_parameters(), models[1].get_parameters())
    assert models[0].evaluate(X, 2 * y - 1) == models[0].evaluate(X, y)
    with pytest.raises(ValueError, match="labels -1 outside .*hinge takes 0/1 or -1/\\+1"):
        models[0].evaluate(X[:3], [-1, 0, 1])


def test_forward_and_gradients_match_the_reference_and_change_nothing():
    X, y = blobs(n_samples=15)
    model = classifier(dtype="float64", input_dim=4)
    before = model.get_parameters()
    layers = reference_layers(model)
    caches = model.forward(X)
    grads = model.gradients(X, y)
    np.testing.assert_array_equal(model.get_parameters(), before)
    for cache, (Z, A) in zip(caches, ref.forward(layers, X)):
        np.testing.assert_allclose(cache.Z, Z, rtol=0, atol=1e-13)
        np.testing.assert_allclose(cache.A, A, rtol=0, atol=1e-13)
    expected, _ = ref.backward(layers, X, ref.one_hot(y, 3), "cross_entropy")
    for grad, (dW, db) in zip(grads, expected):
        assert grad.dW.shape == dW.shape and grad.db.shape == db.shape
        np.testing.assert_allclose(grad.dW, dW, rtol=0, atol=1e-13)
        np.testing.assert_allclose(grad.db, db, rtol=0, atol=1e-13)
