"""model.save / fm.load: round trips, what the file holds, every refusal through the public
API, the golden check, atomic saving, pickling, and that nothing in a file ever runs."""

import json
import os
import pickle
import struct

import numpy as np
import pytest
import safetensors
import safetensors.numpy

import fastmlp as fm


def trained_model(dtype="float32", preprocessing=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, 4)) * [1.0, 10.0, 0.1, 100.0] + [0.0, 5.0, -1.0, 50.0]
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 5)
    model = fm.Sequential([fm.Dense(6, activation="leaky_relu", negative_slope=0.05, initializer="he_normal"),
                           fm.Dense(5, activation="tanh"),
                           fm.Dense(3, activation="softmax")], dtype=dtype, seed=seed, name="trial")
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3))
    if preprocessing:
        model.preprocessing = fm.datasets.Standardizer().fit(X)
    model.fit(X, y, epochs=3, verbose=0)
    return model, X, y


@pytest.fixture
def saved(tmp_path):
    model, X, _ = trained_model()
    path = tmp_path / "model.fmlp"
    model.save(path)
    return model, path, X


def read_file(path):
    """(description, tensors) read with safetensors itself, independently of fastmlp."""
    with safetensors.safe_open(str(path), framework="np") as handle:
        metadata = handle.metadata()
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    return json.loads(metadata["fastmlp"]), tensors


def write_file(path, description, tensors):
    safetensors.numpy.save_file({name: np.ascontiguousarray(array) for name, array in tensors.items()},
                                str(path), metadata={"fastmlp": json.dumps(description)})


def edited_copy(source, target, edit):
    description, tensors = read_file(source)
    edit(description, tensors)
    write_file(target, description, tensors)
    return target


def split_raw(path):
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def join_raw(header, payload):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("preprocessing", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_predicts_bit_identically(tmp_path, dtype, preprocessing):
    model, X, y = trained_model(dtype, preprocessing)
    path = tmp_path / "m.fmlp"
    model.save(path)
    loaded = fm.load(path)
    assert isinstance(loaded, fm.Sequential)
    assert loaded.dtype == model.dtype
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.get_parameters(), model.get_parameters())
    assert loaded.evaluate(X, y) == model.evaluate(X, y)
    assert (loaded.preprocessing is not None) == preprocessing
    if preprocessing:
        np.testing.assert_array_equal(loaded.preprocessing.mean_, model.preprocessing.mean_)
        np.testing.assert_array_equal(loaded.preprocessing.scale_, model.preprocessing.scale_)


def test_round_trip_keeps_architecture_compile_settings_and_summary(saved):
    model, path, _ = saved
    loaded = fm.load(path)
    assert loaded.summary() == model.summary()
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    assert loaded.layers[0].negative_slope == 0.05 and loaded.layers[0].initializer == "he_normal"
    assert loaded.loss == "cross_entropy"
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.seed == model.seed and loaded.name == "trial" and loaded.input_dim == 4


def test_a_loaded_model_trains_on_like_the_original(tmp_path):
    # Plain SGD has no state and shuffle=False draws nothing: one more epoch must agree exactly.
    model, X, y = trained_model("float64")
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.1))
    model.save(tmp_path / "m.fmlp")
    loaded = fm.load(tmp_path / "m.fmlp")
    for m in (model, loaded):
        m.fit(X, y, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(loaded.get_parameters(), model.get_parameters())


def test_an_uncompiled_regressor_round_trips(tmp_path):
    model = fm.Sequential([fm.Dense(2, activation="relu"), fm.Dense(2)], input_dim=3, dtype="float64", seed=7)
    model.save(tmp_path / "r.fmlp")
    loaded = fm.load(tmp_path / "r.fmlp")
    X = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.loss is None


def test_save_accepts_str_and_pathlike_and_overwrites(tmp_path):
    first, X, _ = trained_model(seed=1)
    second, _, _ = trained_model(seed=2)
    first.save(str(tmp_path / "m.fmlp"))
    second.save(tmp_path / "m.fmlp")
    np.testing.assert_array_equal(fm.load(str(tmp_path / "m.fmlp")).predict(X), second.predict(X))
    assert os.listdir(tmp_path) == ["m.fmlp"]         # no temporary file left behind


def test_saving_an_unbuilt_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        fm.Sequential([fm.Dense(1)]).save(tmp_path / "m.fmlp")
    assert not (tmp_path / "m.fmlp").exists()


# ---------------------------------------------------------------- what the file holds

def test_the_file_is_safetensors_with_the_described_contents(saved):
    model, path, _ = saved
    description, tensors = read_file(path)
    assert description["format"] == "fastmlp" and description["format_version"] == 2
    assert description["library_version"] == fm.__version__
    assert description["kind"] == "Sequential"
    assert description["dtype"] == "float32" and description["input_dim"] == 4
    assert description["loss"] == "cross_entropy" and description["seed"] == 0
    assert [layer["units"] for layer in description["layers"]] == [6, 5, 3]
    assert [layer["activation"] for layer in description["layers"]] == ["leaky_relu", "tanh", "softmax"]
    assert description["optimizer"]["name"] == "sgd" and description["optimizer"]["momentum"] == 0.9
    assert set(tensors) == {"layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b", "layers.2.W", "layers.2.b",
                            "golden.input", "golden.output"}
    for index, layer in enumerate(model.layers):
        np.testing.assert_array_equal(tensors[f"layers.{index}.W"], layer.W)
        np.testing.assert_array_equal(tensors[f"layers.{index}.b"], layer.b)
        assert tensors[f"layers.{index}.W"].dtype == np.float32
    golden = tensors["golden.input"]
    assert golden.ndim == 2 and golden.shape[1] == 4 and golden.shape[0] >= 1
    np.testing.assert_array_equal(tensors["golden.output"], model.predict(golden))


# ---------------------------------------------------------------- refusals through fm.load

def test_load_refuses_an_empty_file(tmp_path):
    (tmp_path / "empty.fmlp").write_bytes(b"")
    with pytest.raises(fm.FormatError, match="empty"):
        fm.load(tmp_path / "empty.fmlp")


@pytest.mark.parametrize("keep", [1, 7, 8, 20, 0.5, 0.9, -1])
def test_load_refuses_a_truncated_file(saved, tmp_path, keep):
    _, path, _ = saved
    data = path.read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else (len(data) + keep if keep < 0 else keep)
    cut = tmp_path / "cut.fmlp"
    cut.write_bytes(data[:size])
    with pytest.raises(fm.FormatError, match="cut.fmlp"):
        fm.load(cut)


@pytest.mark.parametrize("seed", range(5))
def test_load_refuses_random_bytes(tmp_path, seed):
    path = tmp_path / "noise.fmlp"
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, 300 + 97 * seed, dtype=np.uint8).tobytes())
    with pytest.raises(fm.FormatError):
        fm.load(path)


def test_load_refuses_random_bytes_behind_a_plausible_length(tmp_path):
    body = b"{" + np.random.default_rng(1).integers(0, 256, 200, dtype=np.uint8).tobytes()
    path = tmp_path / "noise.fmlp"
    path.write_bytes(struct.pack("<Q", len(body)) + body)
    with pytest.raises(fm.FormatError, match="header"):
        fm.load(path)


def test_load_refuses_a_header_whose_shapes_differ_from_the_description(saved, tmp_path):
    # Same number of bytes, transposed shape: only the description can tell.
    _, path, _ = saved
    header, payload = split_raw(path)
    header["layers.0.W"]["shape"] = header["layers.0.W"]["shape"][::-1]
    bad = tmp_path / "shape.fmlp"
    bad.write_bytes(join_raw(header, payload))
    with pytest.raises(fm.FormatError, match=r"tensor 'layers.0.W' has the wrong shape: expected \(4, 6\)"):
        fm.load(bad)


def test_load_refuses_a_header_whose_shape_disagrees_with_its_byte_count(saved, tmp_path):
    _, path, _ = saved
    header, payload = split_raw(path)
    header["layers.1.b"]["shape"] = [7]
    bad = tmp_path / "bytes.fmlp"
    bad.write_bytes(join_raw(header, payload))
    with pytest.raises(fm.FormatError):
        fm.load(bad)


def test_load_refuses_a_description_whose_sizes_differ_from_the_tensors(saved, tmp_path):
    _, path, _ = saved

    def wider_input(description, tensors):
        description["input_dim"] = 5

    bad = edited_copy(path, tmp_path / "dim.fmlp", wider_input)
    with pytest.raises(fm.FormatError, match=r"has (the wrong )?shape.*expected"):
        fm.load(bad)


def test_load_refuses_missing_tensors(saved, tmp_path):
    _, path, _ = saved
    bad = edited_copy(path, tmp_path / "missing.fmlp", lambda d, t: t.pop("layers.1.b"))
    with pytest.raises(fm.FormatError, match="missing tensor.*layers.1.b"):
        fm.load(bad)


def test_load_refuses_a_missing_golden_pair(saved, tmp_path):
    _, path, _ = saved

    def drop_golden(description, tensors):
        del tensors["golden.input"], tensors["golden.output"]

    bad = edited_copy(path, tmp_path / "nogolden.fmlp", drop_golden)
    with pytest.raises(fm.FormatError, match="no golden input and output"):
        fm.load(bad)


def test_load_refuses_extra_tensors(saved, tmp_path):
    _, path, _ = saved

    def add_layer(description, tensors):
        tensors["layers.3.W"] = np.zeros((3, 2), dtype=np.float32)

    bad = edited_copy(path, tmp_path / "extra.fmlp", add_layer)
    with pytest.raises(fm.FormatError, match="unexpected tensor.*layers.3.W"):
        fm.load(bad)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["layers.0.W", "layers.2.b"])
def test_load_refuses_non_finite_weights(saved, tmp_path, name, bad_value):
    _, path, _ = saved

    def poison(description, tensors):
        tensors[name] = tensors[name].copy()
        tensors[name].flat[0] = bad_value

    bad = edited_copy(path, tmp_path / "nan.fmlp", poison)
    with pytest.raises(fm.FormatError, match=f"tensor '{name}' holds .*only finite numbers"):
        fm.load(bad)


def test_load_refuses_tensors_of_another_dtype(saved, tmp_path):
    _, path, _ = saved

    def widen(description, tensors):
        tensors["layers.0.W"] = tensors["layers.0.W"].astype(np.float64)

    bad = edited_copy(path, tmp_path / "dtype.fmlp", widen)
    with pytest.raises(fm.FormatError, match="tensor 'layers.0.W' has dtype float64, expected float32"):
        fm.load(bad)


@pytest.mark.parametrize("version, message", [(3, "written by a newer fastmlp"), (99, "upgrade fastmlp"),
                                              (0, "format_version must be at least 1"),
                                              ("1", "format_version must be an integer")])
def test_load_refuses_unknown_format_versions(saved, tmp_path, version, message):
    _, path, _ = saved
    bad = edited_copy(path, tmp_path / "version.fmlp", lambda d, t: d.update(format_version=version))
    with pytest.raises(fm.FormatError, match=message):
        fm.load(bad)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format="keras"), "unknown format name 'keras'"),
    (lambda d: d.update(kind="Bogus"), "unknown model kind 'Bogus'"),
    (lambda d: d.update(loss="hinge"), "does not make a valid network"),
    (lambda d: d["layers"][0].update(activation="softmax"), "does not make a valid network"),
    (lambda d: d["layers"][1].update(activation="gelu"), "unknown activation 'gelu'"),
    (lambda d: d["optimizer"].update(lr=-1), "does not make a valid network"),
    (lambda d: d["optimizer"].update(name="rmsprop"), "does not make a valid network"),
    (lambda d: d.update(dtype="float16"), "dtype must be one of float32, float64"),
    (lambda d: d.pop("layers"), "lacks the field"),
])
def test_load_refuses_descriptions_that_do_not_make_a_model(saved, tmp_path, edit, message):
    _, path, _ = saved
    bad = edited_copy(path, tmp_path / "desc.fmlp", lambda d, t: edit(d))
    with pytest.raises(fm.FormatError, match=message):
        fm.load(bad)


def test_load_refuses_a_safetensors_file_from_elsewhere(tmp_path):
    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"weight": np.ones((2, 2), dtype=np.float32)}, str(path))
    with pytest.raises(fm.FormatError, match="without fastmlp metadata"):
        fm.load(path)


@pytest.mark.parametrize("content, message", [
    (lambda: b"\x93NUMPY\x01\x00" + b" " * 120, "NumPy .npy"),
    (lambda: b"PK\x03\x04" + b"\x00" * 60, "zip archive"),
    (lambda: b"x1,x2,target\n1,2,0\n3,4,1\n", "text file"),
    (lambda: b"\x89HDF\r\n\x1a\n" + b"\x00" * 60, "HDF5"),
])
def test_load_names_other_formats(tmp_path, content, message):
    path = tmp_path / "thing.fmlp"
    path.write_bytes(content())
    with pytest.raises(fm.FormatError, match=message):
        fm.load(path)


def test_load_of_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        fm.load(tmp_path / "nowhere.fmlp")


# ---------------------------------------------------------------- nothing in a file ever runs

class LeavesAMark:
    """Unpickling this creates a file: proof that something in the data was executed."""

    def __init__(self, mark):
        self.mark = str(mark)

    def __reduce__(self):
        return (open, (self.mark, "w"))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_pickle_posing_as_a_model_file_is_refused_and_never_runs(tmp_path, protocol):
    mark = tmp_path / "executed"
    path = tmp_path / "model.fmlp"
    path.write_bytes(pickle.dumps(LeavesAMark(mark), protocol=protocol))
    # the payload is live: unpickling it really would leave the mark
    pickle.loads(path.read_bytes()).close()
    assert mark.exists()
    mark.unlink()
    with pytest.raises(fm.FormatError, match="not a fastmlp model file"):
        fm.load(path)
    assert not mark.exists()


def test_a_pickle_inside_the_metadata_is_only_text(saved, tmp_path):
    _, path, X = saved
    mark = tmp_path / "executed"
    payload = pickle.dumps(LeavesAMark(mark)).hex()
    model_path = edited_copy(path, tmp_path / "meta.fmlp", lambda d, t: d.update(note=payload))
    loaded = fm.load(model_path)
    np.testing.assert_array_equal(loaded.predict(X), saved[0].predict(X))
    assert not mark.exists()


# ---------------------------------------------------------------- the golden check

def test_a_file_with_an_edited_golden_output_is_refused(saved, tmp_path):
    _, path, _ = saved

    def nudge(description, tensors):
        tensors["golden.output"] = tensors["golden.output"] + np.float32(0.01)

    bad = edited_copy(path, tmp_path / "golden.fmlp", nudge)
    with pytest.raises(fm.FormatError, match="does not reproduce the prediction stored with it"):
        fm.load(bad)


def test_a_file_with_edited_weights_is_refused_by_the_golden_check(saved, tmp_path):
    _, path, _ = saved

    def nudge(description, tensors):
        tensors["layers.1.W"] = tensors["layers.1.W"] * np.float32(1.05)

    bad = edited_copy(path, tmp_path / "weights.fmlp", nudge)
    with pytest.raises(fm.FormatError, match="does not reproduce the prediction.*corrupt or was edited"):
        fm.load(bad)


def test_a_file_with_edited_preprocessing_is_refused_by_the_golden_check(tmp_path):
    model, _, _ = trained_model(preprocessing=True)
    model.save(tmp_path / "m.fmlp")

    def shift(description, tensors):
        tensors["preprocessing.mean"] = tensors["preprocessing.mean"] + 1.0

    bad = edited_copy(tmp_path / "m.fmlp", tmp_path / "pre.fmlp", shift)
    with pytest.raises(fm.FormatError, match="does not reproduce the prediction"):
        fm.load(bad)


def test_a_file_with_a_different_activation_is_refused_by_the_golden_check(saved, tmp_path):
    _, path, _ = saved
    bad = edited_copy(path, tmp_path / "act.fmlp", lambda d, t: d["layers"][1].update(activation="sigmoid"))
    with pytest.raises(fm.FormatError, match="does not reproduce the prediction"):
        fm.load(bad)


def test_rewriting_an_unchanged_file_still_loads(saved, tmp_path):
    # The edits above are refused for what they change, not for being rewritten.
    model, path, X = saved
    same = edited_copy(path, tmp_path / "same.fmlp", lambda d, t: None)
    np.testing.assert_array_equal(fm.load(same).predict(X), model.predict(X))


# ---------------------------------------------------------------- atomic save

def test_save_writes_a_complete_temporary_file_in_the_same_folder_then_renames(saved, monkeypatch, tmp_path):
    model, path, X = saved
    real_replace = os.replace
    renames = []

    def spy(source, target):
        # at the moment of the rename the temporary file is complete and loads on its own
        renames.append((os.fspath(source), os.fspath(target), fm.load(source).predict(X)))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    other, _, _ = trained_model(seed=4)
    other.save(path)
    [(source, target, predicted)] = renames
    assert os.path.dirname(os.path.abspath(source)) == str(tmp_path)
    assert os.path.abspath(target) == str(path) and source != target
    np.testing.assert_array_equal(predicted, other.predict(X))
    assert os.listdir(tmp_path) == ["model.fmlp"]


def test_a_failing_rename_leaves_the_previous_file_untouched(saved, monkeypatch, tmp_path):
    model, path, _ = saved
    before = path.read_bytes()
    other, _, _ = trained_model(seed=5)

    def refuse(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk on fire"):
        other.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.fmlp"]         # the temporary file is gone


def test_a_failing_write_leaves_the_previous_file_untouched(saved, monkeypatch, tmp_path):
    model, path, _ = saved
    before = path.read_bytes()
    real_write = os.write
    calls = []

    def write_half_then_fail(descriptor, data):
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError("no space left on device")
        return real_write(descriptor, bytes(data)[: len(data) // 2])

    monkeypatch.setattr(os, "write", write_half_then_fail)
    with pytest.raises(OSError, match="no space left"):
        trained_model(seed=6)[0].save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.fmlp"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_saving_into_an_unwritable_folder_fails_and_keeps_the_old_file(saved, tmp_path):
    model, path, _ = saved
    before = path.read_bytes()
    os.chmod(tmp_path, 0o500)
    try:
        with pytest.raises(PermissionError):
            trained_model(seed=3)[0].save(path)
    finally:
        os.chmod(tmp_path, 0o700)
    assert path.read_bytes() == before


def test_a_model_that_cannot_be_described_is_refused_before_writing(saved):
    model, path, _ = saved
    before = path.read_bytes()
    model.metadata = {"callback": print}                  # not JSON
    with pytest.raises(fm.FormatError, match="not JSON-serialisable"):
        model.save(path)
    assert path.read_bytes() == before


# ---------------------------------------------------------------- pickling goes through the same bytes

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pickle_uses_the_file_format(dtype):
    model, X, _ = trained_model(dtype, preprocessing=True)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.summary() == model.summary()


def test_a_pickle_holds_the_file_bytes_and_a_corrupted_one_is_refused(tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.fmlp")
    file_bytes = (tmp_path / "m.fmlp").read_bytes()
    pickled = pickle.dumps(model)
    assert file_bytes in pickled                                  # "through the same bytes"
    corrupted = bytearray(file_bytes)
    corrupted[-4:] = np.array([np.nan], dtype=np.float32).tobytes()  # the last stored float
    with pytest.raises(fm.FormatError, match="NaN"):
        pickle.loads(pickled.replace(file_bytes, bytes(corrupted)))
