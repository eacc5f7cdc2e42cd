"""What a Keras user types on the first day, each checked against what Keras's documentation
says it does: compile(metrics=), fit(class_weight=, initial_epoch=), predict(batch_size=),
get_weights()/set_weights(), model(X). Unknown keywords stay refused by name."""
import numpy as np
import pytest

import fastmlp as fm


def regression(m=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    return X, X @ np.array([1.0, -0.5, 2.0]) + 0.1 * rng.normal(size=m)


def regressor(metrics=None):
    model = fm.Sequential([fm.Dense(6, activation="tanh"), fm.Dense(1)], input_dim=3, dtype="float64", seed=2)
    model.compile(loss="mse", optimizer=fm.SGD(lr=0.05), metrics=metrics)
    return model


def classifier(dtype="float64"):
    model = fm.Sequential([fm.Dense(8, activation="relu"), fm.Dense(3, activation="softmax")], input_dim=2,
                          dtype=dtype, seed=0)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.1))
    return model


def blobs(m=60):
    return fm.datasets.make_blobs(n_samples=m, centers=3, random_state=0)


def test_compiled_metrics_are_logged_for_training_and_validation_at_the_epochs_end_weights():
    X, y = regression()
    Xv, yv = regression(12, seed=1)
    model = regressor(metrics=["mae", "mean_squared_error", "rmse"])
    history = model.fit(X, y, epochs=3, batch_size=8, validation_data=(Xv, yv), verbose=0)
    assert set(history.history) == {"loss", "mae", "mean_squared_error", "rmse", "val_loss", "val_mae",
                                    "val_mean_squared_error", "val_rmse"}
    assert all(len(values) == 3 for values in history.history.values())
    P, Pv = model.predict(X)[:, 0], model.predict(Xv)[:, 0]
    np.testing.assert_allclose(history.history["mae"][-1], np.mean(np.abs(P - y)), rtol=1e-12)
    np.testing.assert_allclose(history.history["val_mae"][-1], np.mean(np.abs(Pv - yv)), rtol=1e-12)
    np.testing.assert_allclose(history.history["rmse"][-1], np.sqrt(np.mean((P - y) ** 2)), rtol=1e-12)
    # mse as a metric is the mse loss of the same weights, which evaluate() reports
    np.testing.assert_allclose(history.history["val_mean_squared_error"][-1], model.evaluate(Xv, yv)["loss"],
                               rtol=1e-12)


def test_accuracy_as_a_metric_is_the_one_classifiers_log_and_is_refused_for_regression():
    X, y = blobs()
    model = classifier()
    model.compile(loss="cross_entropy", optimizer="sgd", metrics=["accuracy"])
    assert set(model.fit(X, y, epochs=1, verbose=0).history) == {"loss", "accuracy"}
    with pytest.raises(ValueError, match="metric 'accuracy' needs a classification loss"):
        regressor(metrics=["accuracy"])
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        regressor(metrics=["auc"])


def test_class_weight_multiplies_each_samples_weight_by_its_classs():
    # Keras: "class_weight: dictionary mapping class indices to a weight, used for weighting
    # the loss function (during training only)". So {0: 3, 2: 0.5} is sample_weight 3 for the
    # rows of class 0, 0.5 for class 2 and 1 for class 1, times any sample_weight given.
    X, y = blobs()
    by_class, by_sample = classifier(), classifier()
    base = np.linspace(0.5, 1.5, len(y))
    by_class.fit(X, y, epochs=3, batch_size=10, verbose=0, class_weight={0: 3.0, 2: 0.5}, sample_weight=base)
    by_sample.fit(X, y, epochs=3, batch_size=10, verbose=0, sample_weight=base * np.array([3.0, 1.0, 0.5])[y])
    np.testing.assert_array_equal(by_class.get_parameters(), by_sample.get_parameters())


@pytest.mark.parametrize("class_weight, message", [
    ({3: 1.0}, "class indices 0..2"), ({0: -1.0}, "class_weight\\[0\\] must be a finite number >= 0"),
    ([1.0, 2.0], "class_weight must be a dict"),
])
def test_bad_class_weights_are_refused(class_weight, message):
    X, y = blobs()
    with pytest.raises(ValueError, match=message):
        classifier().fit(X, y, epochs=1, verbose=0, class_weight=class_weight)
    with pytest.raises(ValueError, match="class_weight is for classification losses"):
        regressor().fit(*regression(), epochs=1, verbose=0, class_weight={0: 1.0})


def test_initial_epoch_resumes_the_count_where_a_run_left_off():
    # Keras: "epochs: index of the final epoch ... the model is not trained for a number of
    # iterations given by epochs, but merely until the epoch of index epochs is reached";
    # "initial_epoch: epoch at which to start training (useful for resuming a previous run)".
    X, y = regression()
    seen = []
    resumed, straight = regressor(), regressor()
    schedule = fm.LearningRateScheduler(lambda epoch: 0.05 / (1 + epoch))
    straight.fit(X, y, epochs=5, batch_size=8, verbose=0, callbacks=[schedule])
    resumed.fit(X, y, epochs=3, batch_size=8, verbose=0, callbacks=[schedule])
    history = resumed.fit(X, y, epochs=5, initial_epoch=3, batch_size=8, verbose=0,
                          callbacks=[schedule, fm.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e))])
    assert history.epoch == [3, 4] and seen == [3, 4]
    assert history.history["learning_rate"] == [0.05 / 4, 0.05 / 5]
    np.testing.assert_array_equal(resumed.get_parameters(), straight.get_parameters())
    with pytest.raises(ValueError, match="initial_epoch must be an integer in \\[0, epochs\\)"):
        resumed.fit(X, y, epochs=3, initial_epoch=3, verbose=0)


def test_predict_batch_size_gives_the_same_predictions():
    X, _ = blobs(41)
    model = classifier()
    whole = model.predict(X)
    np.testing.assert_allclose(model.predict(X, batch_size=8), whole, rtol=1e-14, atol=0)
    assert model.predict(X, batch_size=100).shape == (41, 3)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.predict(X, batch_size=0)


def test_calling_the_model_predicts():
    X, _ = blobs(10)
    model = classifier()
    np.testing.assert_array_equal(model(X), model.predict(X))


def test_get_weights_lists_kernel_and_bias_of_every_layer_and_set_weights_takes_them_back():
    model = classifier()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(2, 8), (8,), (8, 3), (3,)]    # Keras's order: kernel, bias, ...
    np.testing.assert_array_equal(weights[2], model.layers[1].W)
    weights[0] = weights[0] + 1.0                                         # copies: the model is unchanged
    assert not np.array_equal(model.layers[0].W, weights[0])
    other = classifier()
    other.set_weights([w * 0.5 for w in model.get_weights()])
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b * 0.5)
    before = other.get_parameters()
    with pytest.raises(ValueError, match="set_weights needs 4 arrays"):
        other.set_weights(model.get_weights()[:3])
    with pytest.raises(ValueError, match=r"weights\[3\] \(b1\) must have shape \(3,\)"):
        other.set_weights(model.get_weights()[:3] + [np.zeros(4)])
    np.testing.assert_array_equal(other.get_parameters(), before)


def test_unknown_keywords_are_refused_by_name():
    X, y = regression()
    model = regressor()
    with pytest.raises(TypeError, match="steps_per_epoch"):
        model.fit(X, y, steps_per_epoch=3)
    with pytest.raises(TypeError, match="loss_weights"):
        model.compile(loss="mse", loss_weights=[1.0])
    with pytest.raises(TypeError, match="steps"):
        model.predict(X, steps=2)
    np.testing.assert_array_equal(model.predict(X, verbose=0), model.predict(X))    # Keras's habit, accepted


@pytest.mark.parametrize("keras_name,labels_as", [("sparse_categorical_crossentropy", "indices"),
                                                  ("categorical_crossentropy", "one_hot")])
def test_kerass_cross_entropy_names_train_as_cross_entropy(keras_name, labels_as):
    X, y = blobs()
    targets = y if labels_as == "indices" else np.eye(3)[y]  # what each Keras loss expects
    expected = classifier()
    expected.fit(X, y, epochs=3, batch_size=16, verbose=0)
    model = classifier().compile(loss=keras_name, optimizer=fm.SGD(lr=0.1))
    model.fit(X, targets, epochs=3, batch_size=16, verbose=0)
    assert model.loss == "cross_entropy"
    assert np.array_equal(model.get_parameters(), expected.get_parameters())


def test_kerass_binary_crossentropy_is_binary_cross_entropy():
    model = fm.Sequential([fm.Dense(1, activation="sigmoid")], input_dim=2).compile(loss="binary_crossentropy")
    assert model.loss == "binary_cross_entropy"
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'"):
        model.compile(loss="crossentropy")
