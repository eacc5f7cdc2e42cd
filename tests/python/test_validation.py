"""Bad input is refused before any work, with a ValueError that names the problem:
for fit, predict, evaluate, forward and gradients, and for the constructor and compile."""

import numpy as np
import pytest

import fastmlp as fm

N_FEATURES = 3


def data(n_samples=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_samples, N_FEATURES)), np.arange(n_samples) % 3


def built_classifier(dtype="float64"):
    model = fm.Sequential([fm.Dense(4, activation="relu"), fm.Dense(3, activation="softmax")],
                          input_dim=N_FEATURES, dtype=dtype, seed=0)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.1))
    return model


def fit(model, X, y, **kwargs):
    return model.fit(X, y, epochs=1, verbose=0, **kwargs)


# Every entry point that reads X (and y where it needs one).
ENTRY_POINTS = {
    "fit": lambda model, X, y: fit(model, X, y),
    "predict": lambda model, X, y: model.predict(X),
    "evaluate": lambda model, X, y: model.evaluate(X, y),
    "forward": lambda model, X, y: model.forward(X),
    "gradients": lambda model, X, y: model.gradients(X, y),
}
TAKES_Y = ("fit", "evaluate", "gradients")


def assert_untouched(model, parameters):
    np.testing.assert_array_equal(model.get_parameters(), parameters)


# ---------------------------------------------------------------- X

@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_X_is_refused(entry, bad_value):
    model = built_classifier()
    before = model.get_parameters()
    X, y = data()
    X[5, 1] = bad_value
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        ENTRY_POINTS[entry](model, X, y)
    assert_untouched(model, before)


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_wrong_number_of_features_is_refused(entry):
    model = built_classifier()
    X, y = data()
    with pytest.raises(ValueError, match="X has 2 features, but the model expects 3"):
        ENTRY_POINTS[entry](model, X[:, :2], y)
    with pytest.raises(ValueError, match="X has 4 features, but the model expects 3"):
        ENTRY_POINTS[entry](model, np.hstack([X, X[:, :1]]), y)


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_empty_X_is_refused(entry):
    model = built_classifier()
    with pytest.raises(ValueError, match="X is empty: it has 0 samples"):
        ENTRY_POINTS[entry](model, np.zeros((0, N_FEATURES)), np.zeros(0, dtype=int))


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_one_dimensional_X_is_refused_with_a_reshape_hint(entry):
    model = built_classifier()
    with pytest.raises(ValueError, match=r"X must be 2-D .* 1-D array of shape \(3,\).*reshape\(1, -1\)"):
        ENTRY_POINTS[entry](model, np.ones(N_FEATURES), np.array([0]))


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_three_dimensional_X_is_refused(entry):
    model = built_classifier()
    with pytest.raises(ValueError, match=r"X must be 2-D .* 3-D shape \(2, 4, 3\)"):
        ENTRY_POINTS[entry](model, np.ones((2, 4, N_FEATURES)), np.array([0, 1]))


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_non_numeric_X_is_refused(entry):
    model = built_classifier()
    X = np.array([["1", "2", "three"], ["4", "5", "6"]])
    with pytest.raises(ValueError, match="X must contain numbers"):
        ENTRY_POINTS[entry](model, X, np.array([0, 1]))


def test_complex_X_is_refused():
    with pytest.raises(ValueError, match="X must be real-valued"):
        built_classifier().predict(np.ones((2, N_FEATURES), dtype=complex))


def test_X_too_large_for_float32_is_refused_by_name():
    model = built_classifier(dtype="float32")
    X = np.ones((2, N_FEATURES))
    X[1, 2] = 1e300
    with pytest.raises(ValueError, match="too large for float32"):
        model.predict(X)


def test_numeric_strings_and_lists_are_accepted_as_numbers():
    model = built_classifier()
    X, _ = data(n_samples=2)
    as_text = X.astype(str)
    np.testing.assert_array_equal(model.predict(as_text), model.predict(X))
    np.testing.assert_array_equal(model.predict(X.tolist()), model.predict(X))


# ---------------------------------------------------------------- y

@pytest.mark.parametrize("entry", TAKES_Y)
def test_length_mismatch_between_X_and_y_is_refused(entry):
    model = built_classifier()
    X, y = data()
    with pytest.raises(ValueError, match="X has 12 samples but y has 11"):
        ENTRY_POINTS[entry](model, X, y[:-1])


@pytest.mark.parametrize("entry", TAKES_Y)
def test_labels_outside_the_output_classes_are_refused(entry):
    model = built_classifier()
    X, y = data()
    y[[2, 7]] = [3, 9]
    with pytest.raises(ValueError, match=r"y has labels 3, 9 outside the output layer's classes 0\.\.2"):
        ENTRY_POINTS[entry](model, X, y)
    y[[2, 7]] = -1
    with pytest.raises(ValueError, match="y has labels -1 outside"):
        ENTRY_POINTS[entry](model, X, y)


def test_labels_outside_a_single_sigmoid_output_are_refused():
    model = fm.Sequential([fm.Dense(1, activation="sigmoid")], input_dim=N_FEATURES)
    model.compile(loss="binary_cross_entropy")
    X, _ = data()
    with pytest.raises(ValueError, match=r"y has labels 2 outside the output layer's classes 0\.\.1 \(1 output unit\)"):
        fit(model, X, np.arange(12) % 3)


def test_huge_labels_are_refused_as_outside_the_classes():
    model = built_classifier()
    X, y = data()
    y = y.astype(float)
    y[0] = 1e20
    with pytest.raises(ValueError, match="outside the output layer's classes"):
        fit(model, X, y)


@pytest.mark.parametrize("entry", TAKES_Y)
def test_non_integer_labels_are_refused(entry):
    model = built_classifier()
    X, y = data()
    with pytest.raises(ValueError, match="class labels in y must be integers"):
        ENTRY_POINTS[entry](model, X, y + 0.5)


@pytest.mark.parametrize("entry", TAKES_Y)
def test_string_labels_are_refused(entry):
    model = built_classifier()
    X, _ = data()
    labels = np.array(["cat", "dog", "eel"] * 4)
    with pytest.raises(ValueError, match="y must be numeric .*encode class labels as integers"):
        ENTRY_POINTS[entry](model, X, labels)


@pytest.mark.parametrize("entry", TAKES_Y)
def test_non_finite_y_is_refused(entry):
    model = fm.Sequential([fm.Dense(1)], input_dim=N_FEATURES)
    model.compile(loss="mse")
    X, _ = data()
    y = np.ones(12)
    y[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        ENTRY_POINTS[entry](model, X, y)


@pytest.mark.parametrize("rows, message", [
    (np.full((12, 3), 0.5), "one-hot targets in y must contain only 0 and 1"),
    (np.ones((12, 3)), "exactly one 1"),
    (np.zeros((12, 3)), "exactly one 1"),
    (np.eye(4)[np.arange(12) % 4], r"y has 4 columns but the output layer has 3 units"),
])
@pytest.mark.parametrize("entry", TAKES_Y)
def test_bad_one_hot_rows_are_refused(entry, rows, message):
    model = built_classifier()
    X, _ = data()
    with pytest.raises(ValueError, match=message):
        ENTRY_POINTS[entry](model, X, rows)


def test_regression_targets_with_the_wrong_number_of_columns_are_refused():
    model = fm.Sequential([fm.Dense(2)], input_dim=N_FEATURES)
    model.compile(loss="mse")
    X, _ = data()
    with pytest.raises(ValueError, match="y has 1 target columns but the output layer has 2 units"):
        fit(model, X, np.ones(12))
    with pytest.raises(ValueError, match="y must be 1-D or 2-D"):
        fit(model, X, np.ones((12, 2, 1)))


def test_scalar_y_is_refused():
    with pytest.raises(ValueError, match="y must be an array with one entry per sample"):
        fit(built_classifier(), *data()[:1], 1)


# ---------------------------------------------------------------- sample_weight

@pytest.mark.parametrize("entry", ["fit", "evaluate", "gradients"])
@pytest.mark.parametrize("weights, message", [
    (np.ones(11), r"sample_weight must have shape \(12,\), got \(11,\)"),
    (np.ones((12, 1)), r"sample_weight must have shape \(12,\), got \(12, 1\)"),
    (-np.ones(12), "sample_weight must be non-negative"),
    (np.r_[np.ones(11), np.nan], "sample_weight contains NaN or infinity"),
    (np.r_[np.ones(11), np.inf], "sample_weight contains NaN or infinity"),
])
def test_bad_sample_weight_is_refused(entry, weights, message):
    model = built_classifier()
    X, y = data()
    call = {"fit": lambda: fit(model, X, y, sample_weight=weights),
            "evaluate": lambda: model.evaluate(X, y, sample_weight=weights),
            "gradients": lambda: model.gradients(X, y, sample_weight=weights)}[entry]
    before = model.get_parameters()
    with pytest.raises(ValueError, match=message):
        call()
    assert_untouched(model, before)


# ---------------------------------------------------------------- validation data and split

def test_bad_validation_data_is_named_as_such():
    model = built_classifier()
    X, y = data()
    with pytest.raises(ValueError, match="X_val has 2 features, but the model expects 3"):
        fit(model, X, y, validation_data=(X[:, :2], y))
    with pytest.raises(ValueError, match="y_val has labels 7 outside"):
        fit(model, X, y, validation_data=(X, y + 5 * (y == 2)))
    with pytest.raises(ValueError, match="X_val has 12 samples but y_val has 4"):
        fit(model, X, y, validation_data=(X, y[:4]))
    with pytest.raises(ValueError, match=r"validation_data must be a tuple \(X_val, y_val\)"):
        fit(model, X, y, validation_data=X)


@pytest.mark.parametrize("split", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_validation_split_is_refused(split):
    model = built_classifier()
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\)"):
        fit(model, *data(), validation_split=split)


def test_validation_split_that_leaves_nothing_is_refused():
    model = built_classifier()
    X, y = data(n_samples=2)
    with pytest.raises(ValueError, match="leaves no samples for training"):
        fit(model, X, y, validation_split=0.9)


def test_validation_split_and_validation_data_together_are_refused():
    X, y = data()
    with pytest.raises(ValueError, match="give validation_split or validation_data, not both"):
        fit(built_classifier(), X, y, validation_split=0.2, validation_data=(X, y))


# ---------------------------------------------------------------- nothing happens before the checks

def test_a_refused_first_fit_leaves_the_model_unbuilt():
    # A transposed X (features in rows) must not fix the model's input size.
    model = fm.Sequential([fm.Dense(3, activation="softmax")])
    model.compile(loss="cross_entropy")
    X, y = data()
    with pytest.raises(ValueError, match="X has 3 samples but y has 12"):
        fit(model, X.T, y)
    assert not model.built
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        fit(model, X, y, sample_weight=np.ones(3))
    assert not model.built
    fit(model, X, y)
    assert model.input_dim == N_FEATURES


def test_fit_refuses_before_training_when_callbacks_are_not_callbacks():
    model = built_classifier()
    before = model.get_parameters()
    with pytest.raises(ValueError, match="callbacks must be fm.Callback instances"):
        fit(model, *data(), callbacks=[lambda epoch: None])
    assert_untouched(model, before)


@pytest.mark.parametrize("name, value, message", [
    ("epochs", 0, "epochs must be a positive integer, got 0"),
    ("epochs", 2.5, "epochs must be a positive integer, got 2.5"),
    ("epochs", True, "epochs must be a positive integer, got True"),
    ("batch_size", 0, "batch_size must be a positive integer, got 0"),
    ("batch_size", -4, "batch_size must be a positive integer, got -4"),
    ("batch_size", "32", "batch_size must be a positive integer, got '32'"),
    ("verbose", 3, "verbose must be 0, 1 or 2, got 3"),
])
def test_bad_fit_arguments_are_refused(name, value, message):
    model = built_classifier()
    before = model.get_parameters()
    with pytest.raises(ValueError, match=message):
        model.fit(*data(), **{"epochs": 1, "verbose": 0, name: value})
    assert_untouched(model, before)


def test_fit_before_compile_is_refused():
    model = fm.Sequential([fm.Dense(1)])
    with pytest.raises(ValueError, match=r"no loss yet: call model.compile"):
        fit(model, *data())
    with pytest.raises(ValueError, match=r"no loss yet: call model.compile"):
        fm.Sequential([fm.Dense(1)], input_dim=3).evaluate(*data())


def test_predict_before_build_is_refused():
    with pytest.raises(ValueError, match="the model is not built yet"):
        fm.Sequential([fm.Dense(1)]).predict(np.ones((2, 3)))


# ---------------------------------------------------------------- layers and constructor

@pytest.mark.parametrize("units", [0, -3, 2.5, True, "8", None])
def test_bad_units_are_refused(units):
    with pytest.raises(ValueError, match="units must be a positive integer"):
        fm.Dense(units)


def test_unknown_activation_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'relu6'; expected one of identity, sigmoid, tanh, relu"):
        fm.Dense(3, activation="relu6")
    with pytest.raises(ValueError, match="activation must be a string"):
        fm.Dense(3, activation=len)


def test_activation_aliases_are_accepted():
    assert fm.Dense(2, activation="logistic").activation == "sigmoid"
    assert fm.Dense(2, activation="linear").activation == "identity"
    assert fm.Dense(2, activation="ReLU").activation == "relu"


@pytest.mark.parametrize("kwargs, message", [
    ({"negative_slope": float("nan")}, "negative_slope must be finite"),
    ({"initializer": "orthogonal"}, "unknown initializer 'orthogonal'"),
])
def test_bad_layer_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fm.Dense(3, activation="leaky_relu", **kwargs)


@pytest.mark.parametrize("hidden, message", [
    ("softmax", "layer 0: softmax belongs only at the output layer"),
    ("step", "layer 0: step has no useful derivative"),
])
def test_softmax_or_step_in_a_hidden_layer_is_refused_at_construction(hidden, message):
    with pytest.raises(ValueError, match=message):
        fm.Sequential([fm.Dense(4, activation=hidden), fm.Dense(2, activation="sigmoid")])


def test_step_hidden_added_layer_by_layer_is_refused_at_compile():
    model = fm.Sequential()
    model.add(fm.Dense(4, activation="step"))
    model.add(fm.Dense(1, activation="step"))
    with pytest.raises(ValueError, match="layer 0: step has no useful derivative"):
        model.compile(loss="perceptron")


@pytest.mark.parametrize("dtype", ["float16", "int32", None, "double precision", 3])
def test_bad_dtype_is_refused(dtype):
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        fm.Sequential([fm.Dense(1)], dtype=dtype)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", 2 ** 64])
def test_bad_seed_is_refused(seed):
    with pytest.raises(ValueError, match="seed must be"):
        fm.Sequential([fm.Dense(1)], input_dim=2, seed=seed)


@pytest.mark.parametrize("input_dim", [0, -2, 1.5])
def test_bad_input_dim_is_refused(input_dim):
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        fm.Sequential([fm.Dense(1)], input_dim=input_dim)


def test_a_model_without_layers_is_refused_at_compile():
    with pytest.raises(ValueError, match="the model has no layers"):
        fm.Sequential([]).compile(loss="mse")


def test_sequential_takes_only_a_list_of_dense_layers():
    with pytest.raises(ValueError, match="Sequential takes fm.Dense and fm.Dropout layers"):
        fm.Sequential([fm.Dense(2), "relu"])
    with pytest.raises(ValueError, match=r"Sequential takes a list of fm.Dense \(and fm.Dropout\) layers"):
        fm.Sequential(fm.Dense(2))
    with pytest.raises(ValueError, match=r"Sequential takes a list of fm.Dense \(and fm.Dropout\) layers"):
        fm.Sequential("relu")
    assert len(fm.Sequential((fm.Dense(2), fm.Dense(1))).layers) == 2


# ---------------------------------------------------------------- compile

def test_unknown_loss_is_refused_with_the_known_ones():
    model = fm.Sequential([fm.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match=r"unknown loss 'crossentropy'; expected one of cross_entropy, "
                                         r"binary_cross_entropy, mse, hinge, perceptron"):
        model.compile(loss="crossentropy")


@pytest.mark.parametrize("output, units, loss, message", [
    ("sigmoid", 3, "cross_entropy", "output activation 'sigmoid' does not fit loss 'cross_entropy'"),
    ("identity", 3, "cross_entropy", "cross_entropy needs a softmax output"),
    ("softmax", 1, "cross_entropy", "softmax over one output is always 1"),
    ("softmax", 3, "binary_cross_entropy", "binary_cross_entropy needs a sigmoid output"),
    ("step", 1, "mse", "output activation 'step' does not fit loss 'mse'"),
    ("sigmoid", 1, "perceptron", "the perceptron rule needs a step output"),
    ("softmax", 3, "hinge", "does not fit loss 'hinge'"),
])
def test_output_activation_and_loss_that_do_not_fit_are_refused(output, units, loss, message):
    model = fm.Sequential([fm.Dense(4, activation="relu"), fm.Dense(units, activation=output)])
    with pytest.raises(ValueError, match=message):
        model.compile(loss=loss)
    assert model.loss is None


@pytest.mark.parametrize("optimizer, message", [
    ("adagrad", "unknown optimizer 'adagrad'"),
    (0.1, "optimizer must be fm.SGD"),
])
def test_unknown_optimizer_is_refused(optimizer, message):
    with pytest.raises(ValueError, match=message):
        fm.Sequential([fm.Dense(1)]).compile(loss="mse", optimizer=optimizer)


@pytest.mark.parametrize("make, message", [
    (lambda: fm.SGD(lr=0), "lr must be a positive finite number"),
    (lambda: fm.SGD(lr=float("inf")), "lr must be a positive finite number"),
    (lambda: fm.SGD(lr=0.1, momentum=1.0), r"momentum must be in \[0, 1\)"),
    (lambda: fm.SGD(lr=0.1, momentum=-0.5), r"momentum must be in \[0, 1\)"),
    (lambda: fm.SGD(lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda: fm.SGD(lr=0.1, weight_decay=-1), "weight_decay must be a finite number >= 0"),
    (lambda: fm.Adam(lr=-1e-3), "lr must be a positive finite number"),
    (lambda: fm.Adam(beta1=1.0), r"beta1 must be in \[0, 1\)"),
    (lambda: fm.Adam(beta2=float("nan")), r"beta2 must be in \[0, 1\)"),
    (lambda: fm.Adam(eps=0), "eps must be a positive finite number"),
    (lambda: fm.SGD(lr="fast"), "lr must be a number, got .fast."),
    (lambda: fm.SGD(lr=0.1, momentum=None), "momentum must be a number, got None"),
    (lambda: fm.Adam(weight_decay=True), "weight_decay must be a number, got True"),
])
def test_bad_optimizer_settings_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---------------------------------------------------------------- assigning W and b

@pytest.mark.parametrize("value, message", [
    (np.zeros((3, 5)), r"W of layer 0 must have shape \(3, 4\), got \(3, 5\)"),
    (np.zeros((4, 3)), r"W of layer 0 must have shape \(3, 4\), got \(4, 3\)"),
    (np.zeros(12), r"W of layer 0 must have shape \(3, 4\), got \(12,\)"),
    (np.full((3, 4), np.nan), "W of layer 0 contains NaN or infinity"),
    (np.full((3, 4), "a"), "W must be a real numeric array"),
    (np.ones((3, 4), dtype=complex), "W must be a real numeric array"),
])
def test_bad_W_assignment_is_refused(value, message):
    model = built_classifier()
    before = model.layers[0].W
    with pytest.raises(ValueError, match=message):
        model.layers[0].W = value
    np.testing.assert_array_equal(model.layers[0].W, before)


@pytest.mark.parametrize("value, message", [
    (np.zeros(5), r"b of layer 0 must have shape \(4,\), got \(5,\)"),
    (np.zeros((4, 1)), r"b of layer 0 must have shape \(4,\), got \(4, 1\)"),
    (np.array([0, 0, np.inf, 0]), "b of layer 0 contains NaN or infinity"),
])
def test_bad_b_assignment_is_refused(value, message):
    model = built_classifier()
    with pytest.raises(ValueError, match=message):
        model.layers[0].b = value


def test_W_of_an_unbuilt_layer_is_refused():
    model = fm.Sequential([fm.Dense(2)])
    with pytest.raises(ValueError, match="the layer is not built yet"):
        model.layers[0].W  # noqa: B018  (reading the attribute is what raises)
    with pytest.raises(ValueError, match="the layer is not built yet"):
        model.layers[0].b = [0.0, 0.0]


def test_set_parameters_checks_size_and_values():
    model = built_classifier()
    n = model.count_params()
    with pytest.raises(ValueError, match=f"expected {n} parameters, got {n - 1}"):
        model.set_parameters(np.zeros(n - 1))
    with pytest.raises(ValueError, match="parameters contain NaN or infinity"):
        model.set_parameters(np.full(n, np.nan))


def test_sequential_accepts_any_iterable_of_layers():
    model = fm.Sequential(fm.Dense(n) for n in (4, 2))
    assert [layer.units for layer in model.layers] == [4, 2]
