"""The whole training state travels with a model: pickles and .fmlp files carry the optimiser's
state (SGD's velocity, Adam's moments and step count) and the shuffling generator, so training
that stops, travels (to another Dask worker, say) and resumes gives bit for bit the weights of
training that never stopped. Files without that state (older ones) still load."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import fileformat, serialization

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402

N_FEATURES = 6


def block(index, n_rows=90):
    """One block of data from its own seed: 3 classes from a fixed linear rule, a real target."""
    rng = np.random.default_rng([11, index])
    X = rng.standard_normal((n_rows, N_FEATURES)).astype(np.float32)
    scores = X @ np.random.default_rng(5).standard_normal((N_FEATURES, 3))
    return X, np.argmax(scores, axis=1), scores[:, 0] - scores[:, 1]


# The last block is smaller: its weight decay differs (alpha / batch_size, C / n_samples),
# which must not reset the optimiser either.
BLOCKS = [block(i) for i in range(5)] + [block(5, n_rows=40)]

ESTIMATORS = {
    "mlp-adam": lambda: fm.MLPClassifier(hidden_layer_sizes=(7,), batch_size=32, learning_rate_init=1e-2,
                                         random_state=1),
    "mlp-sgd-nesterov": lambda: fm.MLPClassifier(hidden_layer_sizes=(7,), solver="sgd", batch_size=32,
                                                 learning_rate_init=0.05, momentum=0.9, random_state=2),
    "mlp-sgd-invscaling": lambda: fm.MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", batch_size=32,
                                                   learning_rate="invscaling", momentum=0.5, random_state=6),
    "regressor-adam": lambda: fm.MLPRegressor(hidden_layer_sizes=(5, 4), batch_size=16, learning_rate_init=1e-2,
                                              random_state=3, dtype="float64"),
    "logistic-sgd": lambda: fm.LogisticRegression(solver="sgd", batch_size=16, random_state=4),
    "logistic-adam": lambda: fm.LogisticRegression(solver="adam", batch_size=16, C=0.5, random_state=5),
}


def _train(model, blocks):
    regressor = isinstance(model, fm.MLPRegressor)
    for X, labels, target in blocks:
        if regressor:
            model.partial_fit(X, target)
        else:
            model.partial_fit(X, labels, classes=[0, 1, 2])
    return model


def _through_pickle(model, tmp_path):
    return pickle.loads(pickle.dumps(model))


def _through_file(model, tmp_path):
    model.save(tmp_path / "model.fmlp")
    return fm.load(tmp_path / "model.fmlp")


def _assert_same_training(found, expected):
    for a, b in zip(found.coefs_ + found.intercepts_, expected.coefs_ + expected.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert found.loss_curve_ == expected.loss_curve_
    assert (found.n_iter_, found.t_, found.n_features_in_) == (expected.n_iter_, expected.t_, expected.n_features_in_)
    if hasattr(expected, "classes_"):
        np.testing.assert_array_equal(found.classes_, expected.classes_)


@pytest.mark.parametrize("carry", [_through_pickle, _through_file], ids=["pickle", "file"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_partial_fit_resumes_bit_for_bit_after_a_pickle_or_a_file(name, carry, tmp_path):
    uninterrupted = _train(ESTIMATORS[name](), BLOCKS)
    halfway = _train(ESTIMATORS[name](), BLOCKS[:3])
    resumed = _train(carry(halfway, tmp_path), BLOCKS[3:])
    _assert_same_training(resumed, uninterrupted)


def test_a_restarted_optimiser_would_be_noticed():
    """The resumption test has teeth: forgetting Adam's moments and step count changes the weights."""
    uninterrupted = _train(ESTIMATORS["mlp-adam"](), BLOCKS)
    restarted = _train(ESTIMATORS["mlp-adam"](), BLOCKS[:3])
    restarted.model_.engine.reset_optimizer()
    _train(restarted, BLOCKS[3:])
    assert not np.array_equal(restarted.coefs_[0], uninterrupted.coefs_[0])


def test_the_file_holds_adams_moments_step_count_and_the_generator(tmp_path):
    model = _train(ESTIMATORS["mlp-adam"](), BLOCKS[:2])
    model.save(tmp_path / "model.fmlp")
    description, tensors = fileformat.load(tmp_path / "model.fmlp")
    n_parameters = sum(W.size + b.size for W, b in zip(model.coefs_, model.intercepts_))
    batches = sum(-(-X.shape[0] // 32) for X, _, _ in BLOCKS[:2])
    assert description["training"]["optimizer_steps"] == batches
    assert len(description["training"]["shuffle_state"]) == 4
    assert tensors["optimizer.first"].shape == tensors["optimizer.second"].shape == (n_parameters,)
    assert np.all(tensors["optimizer.second"] >= 0) and np.any(tensors["optimizer.second"] > 0)


def test_sgd_files_hold_the_velocity_only(tmp_path):
    model = _train(ESTIMATORS["mlp-sgd-nesterov"](), BLOCKS[:1])
    model.save(tmp_path / "model.fmlp")
    _, tensors = fileformat.load(tmp_path / "model.fmlp")
    assert "optimizer.second" not in tensors and np.any(tensors["optimizer.first"] != 0)


def test_an_lbfgs_model_has_no_optimiser_state(tmp_path):
    X, labels, _ = BLOCKS[0]
    model = fm.LogisticRegression(max_iter=50).fit(X, labels)
    model.save(tmp_path / "model.fmlp")
    _, tensors = fileformat.load(tmp_path / "model.fmlp")
    assert not any(name.startswith("optimizer.") for name in tensors)
    np.testing.assert_array_equal(fm.load(tmp_path / "model.fmlp").predict_proba(X), model.predict_proba(X))


def test_sequential_fit_resumes_after_save_and_load(tmp_path):
    X, labels, _ = BLOCKS[0]

    def make():
        model = fm.Sequential([fm.Dense(8, activation="tanh"), fm.Dense(3, activation="softmax")], seed=7)
        return model.compile(loss="cross_entropy", optimizer=fm.Adam(lr=0.01))

    uninterrupted = make()
    uninterrupted.fit(X, labels, epochs=4, batch_size=16, verbose=0)
    resumed = make()
    resumed.fit(X, labels, epochs=2, batch_size=16, verbose=0)
    resumed.save(tmp_path / "model.fmlp", include_optimizer=True)
    resumed = pickle.loads(pickle.dumps(fm.load(tmp_path / "model.fmlp")))
    resumed.fit(X, labels, epochs=2, batch_size=16, verbose=0)
    for a, b in zip(resumed.layers, uninterrupted.layers):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)


def test_a_sequential_file_holds_the_optimiser_only_when_asked(tmp_path):
    X, labels, _ = BLOCKS[0]
    model = fm.Sequential([fm.Dense(3, activation="softmax")], seed=1).compile(optimizer=fm.Adam())
    model.fit(X, labels, epochs=1, verbose=0)
    model.save(tmp_path / "plain.fmlp")
    model.save(tmp_path / "full.fmlp", include_optimizer=True)
    assert not any(name.startswith("optimizer.") for name in fileformat.load(tmp_path / "plain.fmlp")[1])
    assert fm.load(tmp_path / "plain.fmlp").engine.optimizer_steps == 0
    assert fm.load(tmp_path / "full.fmlp").engine.optimizer_steps == model.engine.optimizer_steps > 0
    assert pickle.loads(pickle.dumps(model)).engine.optimizer_steps == model.engine.optimizer_steps


def test_clone_carries_no_state():
    trained = _train(ESTIMATORS["mlp-adam"](), BLOCKS[:3])
    fresh = _train(clone(trained), BLOCKS[:2])
    _assert_same_training(fresh, _train(ESTIMATORS["mlp-adam"](), BLOCKS[:2]))


def test_classes_may_be_repeated_but_not_changed():
    model = ESTIMATORS["mlp-adam"]()
    X, labels, _ = BLOCKS[0]
    model.partial_fit(X, labels, classes=[0, 1, 2])
    model.partial_fit(X, labels, classes=np.array([2, 1, 0]))  # the same set, in any order
    model.partial_fit(X, labels)                               # or left out after the first call
    with pytest.raises(ValueError, match="classes=.*not the same as on the first call"):
        model.partial_fit(X, labels, classes=[0, 1, 2, 3])


# ---------------------------------------------------------------- the file format's side
def _payload(tmp_path):
    model = _train(ESTIMATORS["mlp-adam"](), BLOCKS[:1])
    model.save(tmp_path / "model.fmlp")
    return fileformat.load(tmp_path / "model.fmlp")


def test_a_file_without_the_training_state_loads_and_restarts_the_optimiser(tmp_path):
    description, tensors = _payload(tmp_path)
    del description["training"]
    del tensors["optimizer.first"], tensors["optimizer.second"]
    fileformat.save(tmp_path / "old.fmlp", description, tensors, with_digest=True)
    loaded = fm.load(tmp_path / "old.fmlp")
    assert loaded.model_.engine.optimizer_steps == 0
    X, labels, _ = BLOCKS[1]
    loaded.partial_fit(X, labels, classes=[0, 1, 2])  # and trains on


@pytest.mark.parametrize("edit, message", [
    (lambda d, t: d["training"].update(optimizer_steps=-1), "optimizer_steps must be an integer >= 0"),
    (lambda d, t: d["training"].update(optimizer_steps=True), "optimizer_steps must be an integer >= 0"),
    (lambda d, t: d["training"].update(shuffle_state=["0" * 16] * 4), "must not be all zero"),
    (lambda d, t: d["training"].update(shuffle_state=["xyz"] * 4), "16 lowercase hexadecimal digits"),
    (lambda d, t: d["training"].update(extra=1), "must have the fields .* and may have .dropout_state."),
    (lambda d, t: d.update(training=[1, 2]), "'training' must be a JSON object"),
    (lambda d, t: d.pop("training"), "need the description's 'training' entry"),
    (lambda d, t: t.pop("optimizer.first"), "'optimizer.second' needs 'optimizer.first'"),
    (lambda d, t: t.update({"optimizer.first": t["optimizer.first"][:-1]}), "optimizer.first' has the wrong shape"),
    (lambda d, t: t.update({"optimizer.second": -t["optimizer.second"] - 1}), "must be >= 0 everywhere"),
    (lambda d, t: t.update({"optimizer.first": t["optimizer.first"].astype(np.float64)}), "dtype float64"),
])
def test_a_malformed_training_state_is_a_format_error(tmp_path, edit, message):
    description, tensors = _payload(tmp_path)
    edit(description, tensors)
    data = _raw_file(description, tensors)
    with pytest.raises(fm.FormatError, match=message):
        fileformat.from_bytes(data)


def test_adams_state_under_an_sgd_description_is_a_format_error(tmp_path):
    description, tensors = _payload(tmp_path)
    description["optimizer"] = {"name": "sgd", "lr": 0.1, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
    data = _raw_file(description, tensors)  # well-formed: only loading into the network can tell
    with pytest.raises(fm.FormatError, match="optimiser state in the file does not fit"):
        serialization.model_from_bytes(data)


def _raw_file(description, tensors):
    """The bytes of a file holding exactly these (and their digest, which a file of format version 2
    must carry), written without fastmlp's checks."""
    import safetensors.numpy

    from fastmlp.fileformat import _digest
    tensors = {name: np.ascontiguousarray(array) for name, array in tensors.items()}
    return safetensors.numpy.save(tensors, metadata={"fastmlp": json.dumps(_digest.seal(description, tensors))})
