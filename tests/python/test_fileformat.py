"""Tests of the .fmlp reader/writer: round trips, atomic saves, and refusals."""

import copy
import errno
import json
import os
import pathlib
import pickle
import re
import struct

import numpy as np
import pytest
import safetensors
import safetensors.numpy

from fastmlp import fileformat
from fastmlp.errors import FormatError


def make_model(dtype="float32", golden=True, preprocessing=True, seed=0):
    """A 3-4-2 network with extra pass-through keys; returns (description, tensors)."""
    rng = np.random.default_rng(seed)
    description = {
        "format": "fastmlp",
        "format_version": 1,
        "library_version": "0.1.0",
        "kind": "MLPClassifier",
        "dtype": dtype,
        "input_dim": 3,
        "layers": [
            {"units": 4, "activation": "leaky_relu", "negative_slope": 0.01},
            {"units": 2, "activation": "softmax"},
        ],
        "loss": "cross_entropy",
        "seed": 7,
        "classes": ["cat", "dog"],
        "optimizer": {"name": "adam", "lr": 0.001},
    }
    tensors = {
        "layers.0.W": rng.normal(size=(3, 4)).astype(dtype),
        "layers.0.b": rng.normal(size=4).astype(dtype),
        "layers.1.W": rng.normal(size=(4, 2)).astype(dtype),
        "layers.1.b": rng.normal(size=2).astype(dtype),
    }
    if golden:
        tensors["golden.input"] = rng.normal(size=(5, 3)).astype(dtype)
        tensors["golden.output"] = rng.uniform(size=(5, 2)).astype(dtype)
    if preprocessing:
        tensors["preprocessing.mean"] = rng.normal(size=3)
        tensors["preprocessing.scale"] = rng.uniform(0.5, 2.0, size=3)
    return description, tensors


def safetensors_bytes(description, tensors):
    """A safetensors file built without fastmlp's writer (so no fastmlp checks)."""
    text = description if isinstance(description, str) else json.dumps(description)
    return safetensors.numpy.save(tensors, metadata={"fastmlp": text})


def split_file(data):
    """(header dict, tensor data bytes) of a safetensors file."""
    (header_len,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + header_len]), data[8 + header_len:]


def join_file(header, body, header_text=None):
    """Assemble a safetensors file from a header (dict or raw text) and data bytes."""
    text = json.dumps(header) if header_text is None else header_text
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw + body


def valid_bytes(**kwargs):
    return safetensors_bytes(*make_model(**kwargs))


def assert_refused(tmp_path, data, match, name="model.fmlp"):
    """Both load (naming the path) and from_bytes refuse data with a matching message."""
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(FormatError, match=match) as info:
        fileformat.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(FormatError, match=match):
        fileformat.from_bytes(data)


def assert_same_tensors(expected, found):
    assert list(found) == list(expected)
    for name, array in expected.items():
        assert found[name].dtype == array.dtype, name
        assert found[name].shape == array.shape, name
        assert np.array_equal(found[name], array), name


def test_constants():
    assert fileformat.FORMAT_VERSION == 2
    assert set(fileformat.ACTIVATIONS) == {
        "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "exp",
        "softmax", "step"}
    assert set(fileformat.LOSSES) == {
        "cross_entropy", "binary_cross_entropy", "mse", "hinge", "perceptron", "mae", "huber", "poisson"}
    assert issubclass(FormatError, ValueError)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trip_is_bit_identical(tmp_path, dtype):
    description, tensors = make_model(dtype)
    path = tmp_path / "model.fmlp"
    fileformat.save(path, description, tensors)
    loaded_description, loaded = fileformat.load(path)
    assert loaded_description == description
    assert_same_tensors(tensors, loaded)
    assert loaded["preprocessing.mean"].dtype == np.float64
    for array in loaded.values():
        assert array.flags.writeable and array.flags.c_contiguous


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_without_optional_tensors(tmp_path, dtype):
    description, tensors = make_model(dtype, golden=False, preprocessing=False)
    description["loss"] = None
    description["seed"] = None
    path = str(tmp_path / "bare.fmlp")
    fileformat.save(path, description, tensors)
    loaded_description, loaded = fileformat.load(path)
    assert loaded_description == description
    assert_same_tensors(tensors, loaded)


def test_round_trip_keeps_special_float_values_exactly():
    description, tensors = make_model("float64", golden=False, preprocessing=False)
    tiny = np.finfo(np.float64).tiny
    tensors["layers.0.W"][:] = [[-0.0, tiny / 2, np.finfo(np.float64).max, 1e-300],
                                [np.nextafter(1.0, 2.0), -1.0, 0.1, 1 / 3],
                                [-tiny, 2.0**-1074, -np.finfo(np.float64).max, 7.0]]
    _, loaded = fileformat.from_bytes(fileformat.to_bytes(description, tensors))
    assert loaded["layers.0.W"].tobytes() == tensors["layers.0.W"].tobytes()


def test_non_contiguous_arrays_are_written_by_value():
    description, tensors = make_model("float32", golden=False, preprocessing=False)
    tensors["layers.0.W"] = np.asfortranarray(tensors["layers.0.W"])
    wide = np.arange(8, dtype=np.float32)
    tensors["layers.0.b"] = wide[::2]
    assert not tensors["layers.0.W"].flags.c_contiguous
    _, loaded = fileformat.from_bytes(fileformat.to_bytes(description, tensors))
    assert np.array_equal(loaded["layers.0.W"], tensors["layers.0.W"])
    assert np.array_equal(loaded["layers.0.b"], [0.0, 2.0, 4.0, 6.0])


def test_bytes_round_trip():
    description, tensors = make_model("float64")
    data = fileformat.to_bytes(description, tensors)
    assert isinstance(data, bytes)
    for given in (data, bytearray(data), memoryview(data)):
        loaded_description, loaded = fileformat.from_bytes(given)
        assert loaded_description == description
        assert_same_tensors(tensors, loaded)


def test_file_is_plain_safetensors_with_fastmlp_metadata(tmp_path):
    description, tensors = make_model("float32")
    path = tmp_path / "model.fmlp"
    fileformat.save(path, description, tensors)
    with safetensors.safe_open(str(path), framework="np") as handle:
        metadata = handle.metadata()
    assert list(metadata) == ["fastmlp"]
    assert json.loads(metadata["fastmlp"]) == description
    assert_same_tensors(dict(sorted(tensors.items())),
                        dict(sorted(safetensors.numpy.load_file(str(path)).items())))


def test_loads_a_file_written_by_plain_safetensors(tmp_path):
    description, tensors = make_model("float64")
    path = tmp_path / "external.fmlp"
    path.write_bytes(safetensors_bytes(description, tensors))
    loaded_description, loaded = fileformat.load(str(path))
    assert loaded_description == description
    assert_same_tensors(tensors, loaded)


# ---- atomic saves -----------------------------------------------------------------

@pytest.fixture
def saved_earlier(tmp_path):
    """A good model file already on disk: (path, its bytes)."""
    path = tmp_path / "model.fmlp"
    fileformat.save(path, *make_model("float32", seed=1))
    return path, path.read_bytes()


def assert_untouched(saved_earlier):
    path, earlier = saved_earlier
    assert path.read_bytes() == earlier
    assert sorted(os.listdir(path.parent)) == [path.name]


def test_save_replaces_an_earlier_file_and_leaves_no_temporary(saved_earlier):
    path, earlier = saved_earlier
    description, tensors = make_model("float64", seed=2)
    fileformat.save(path, description, tensors)
    assert path.read_bytes() != earlier
    assert sorted(os.listdir(path.parent)) == [path.name]
    assert_same_tensors(tensors, fileformat.load(path)[1])


def test_refused_model_leaves_earlier_file(saved_earlier):
    description, tensors = make_model("float32", seed=3)
    tensors["layers.1.W"][2, 1] = np.nan
    with pytest.raises(FormatError, match=r"'layers\.1\.W' holds 1 NaN"):
        fileformat.save(saved_earlier[0], description, tensors)
    assert_untouched(saved_earlier)


@pytest.mark.parametrize("bad", [[[1.0] * 4] * 3, np.array([[object()] * 4] * 3),
                                 np.ones((3, 4), dtype=np.complex64), "weights"])
def test_unserialisable_tensor_leaves_earlier_file(saved_earlier, bad):
    description, tensors = make_model("float32", seed=3)
    tensors["layers.0.W"] = bad
    with pytest.raises(FormatError, match=r"'layers\.0\.W'"):
        fileformat.save(saved_earlier[0], description, tensors)
    assert_untouched(saved_earlier)


def test_failing_rename_leaves_earlier_file(saved_earlier, monkeypatch):
    def failing_replace(source, target):
        raise OSError(errno.EIO, "simulated rename failure")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated rename failure"):
        fileformat.save(saved_earlier[0], *make_model("float64", seed=4))
    monkeypatch.undo()
    assert_untouched(saved_earlier)


def test_failing_write_leaves_earlier_file(saved_earlier, monkeypatch):
    real_write = os.write

    def write_some_then_fail(descriptor, data):
        real_write(descriptor, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "simulated full disk")

    monkeypatch.setattr(os, "write", write_some_then_fail)
    with pytest.raises(OSError, match="simulated full disk"):
        fileformat.save(saved_earlier[0], *make_model("float64", seed=4))
    monkeypatch.undo()
    assert_untouched(saved_earlier)


def test_failing_fsync_leaves_earlier_file(saved_earlier, monkeypatch):
    def failing_fsync(descriptor):
        raise OSError(errno.EIO, "simulated fsync failure")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="simulated fsync failure"):
        fileformat.save(saved_earlier[0], *make_model("float64", seed=4))
    monkeypatch.undo()
    assert_untouched(saved_earlier)


def test_failing_temporary_creation_leaves_earlier_file(saved_earlier, monkeypatch):
    real_open = os.open

    def refuse_new_files(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "simulated permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_new_files)
    with pytest.raises(PermissionError, match="simulated permission denied"):
        fileformat.save(saved_earlier[0], *make_model("float64", seed=4))
    monkeypatch.undo()
    assert_untouched(saved_earlier)


def test_save_into_missing_folder_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        fileformat.save(tmp_path / "absent" / "model.fmlp", *make_model())
    assert os.listdir(tmp_path) == []


def test_save_keeps_permissions_of_replaced_file(saved_earlier):
    path, _ = saved_earlier
    os.chmod(path, 0o640)
    fileformat.save(path, *make_model("float64", seed=5))
    assert path.stat().st_mode & 0o777 == 0o640


def test_new_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        fileformat.save(tmp_path / "model.fmlp", *make_model())
    finally:
        os.umask(umask)
    assert (tmp_path / "model.fmlp").stat().st_mode & 0o777 == 0o644


# ---- refusals: what is written --------------------------------------------------

def with_changes(description, **changes):
    changed = copy.deepcopy(description)
    for key, value in changes.items():
        if value is KeyError:
            del changed[key]
        else:
            changed[key] = value
    return changed


@pytest.mark.parametrize("changes, match", [
    ({"format": "keras"}, "unknown format name 'keras'"),
    ({"format_version": 3}, "written by a newer fastmlp"),
    ({"dtype": "float16"}, "dtype must be one of float32, float64"),
    ({"input_dim": 0}, "input_dim must be a positive integer"),
    ({"layers": []}, "layers must be a non-empty list"),
    ({"loss": "nll"}, "unknown loss 'nll'"),
    ({"seed": KeyError}, "lacks the field.*'seed'"),
    ({"classes": np.array(["cat", "dog"])}, "not JSON-serialisable"),
    ({"optimizer": {"lr": float("nan")}}, "not JSON-serialisable"),
])
def test_writer_refuses_invalid_description(tmp_path, changes, match):
    description, tensors = make_model()
    description = with_changes(description, **changes)
    with pytest.raises(FormatError, match=match):
        fileformat.to_bytes(description, tensors)
    with pytest.raises(FormatError, match=match):
        fileformat.save(tmp_path / "model.fmlp", description, tensors)
    assert os.listdir(tmp_path) == []


def test_writer_refuses_numpy_integers_in_description():
    description, tensors = make_model()
    description["layers"][0]["units"] = np.int64(4)
    with pytest.raises(FormatError, match="not JSON-serialisable"):
        fileformat.to_bytes(description, tensors)


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.pop("layers.1.b"), r"missing tensor\(s\) layers\.1\.b"),
    (lambda t: t.update(extra=np.zeros(2, np.float32)), r"unexpected tensor\(s\) 'extra'"),
    (lambda t: t.update({"layers.0.W": t["layers.0.W"].T.copy()}),
     r"expected \(3, 4\).*found \(4, 3\)"),
    (lambda t: t.update({"layers.0.W": t["layers.0.W"].astype(np.float64)}),
     "dtype float64, expected float32"),
    (lambda t: t.update({"layers.0.W": t["layers.0.W"].astype(">f4")}), "non-native byte order"),
    (lambda t: t.pop("golden.output"), "golden.input and golden.output must both be present"),
    (lambda t: t.update({"preprocessing.mean": t["preprocessing.mean"].astype(np.float32)}),
     "'preprocessing.mean' has dtype float32, expected float64"),
    (lambda t: t["layers.0.b"].__setitem__(1, np.inf), r"'layers\.0\.b' holds 0 NaN and 1 infinite"),
    (lambda t: t["golden.output"].__setitem__((0, 0), -np.inf), "'golden.output' holds 0 NaN"),
    (lambda t: t["preprocessing.scale"].__setitem__(0, 0.0), "must be positive"),
])
def test_writer_refuses_invalid_tensors(tmp_path, edit, match):
    description, tensors = make_model()
    edit(tensors)
    with pytest.raises(FormatError, match=match):
        fileformat.to_bytes(description, tensors)
    with pytest.raises(FormatError, match=match):
        fileformat.save(tmp_path / "model.fmlp", description, tensors)
    assert os.listdir(tmp_path) == []


def test_writer_refuses_non_dict_arguments():
    description, tensors = make_model()
    with pytest.raises(FormatError, match="description must be a dict"):
        fileformat.to_bytes(json.dumps(description), tensors)
    with pytest.raises(FormatError, match="tensors must be a dict"):
        fileformat.to_bytes(description, list(tensors.values()))


# ---- refusals: what is read -----------------------------------------------------

def test_missing_file_raises_file_not_found_naming_the_path(tmp_path):
    path = tmp_path / "nowhere.fmlp"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        fileformat.load(path)


def test_empty_file(tmp_path):
    assert_refused(tmp_path, b"", "empty")


def test_too_short_file(tmp_path):
    assert_refused(tmp_path, b"\x01\x02\x03", "too short")


def test_header_length_beyond_the_file(tmp_path):
    assert_refused(tmp_path, struct.pack("<Q", 500) + b'{"a": 1}', "truncated")


def test_absurd_header_length(tmp_path):
    data = struct.pack("<Q", 2**40) + b"{" + bytes(100)
    assert_refused(tmp_path, data, "more than the limit")


def test_header_not_utf8(tmp_path):
    assert_refused(tmp_path, join_file(None, b"", header_text=b'{"\xff\xfe": 1}'), "UTF-8")


@pytest.mark.parametrize("header_text, match", [
    ('{"__metadata__": {"fastmlp": "{}"', "not valid JSON"),
    ('{"a": NaN}', "not valid JSON.*NaN"),
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ("{" * 100_000, "not valid JSON"),
])
def test_header_not_json(tmp_path, header_text, match):
    assert_refused(tmp_path, join_file(None, b"", header_text=header_text), match)


class CreatesMarker:
    """Unpickling this object opens (so creates) the file at path."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_is_refused_and_never_unpickled(tmp_path, protocol):
    control = tmp_path / "control-marker"
    handle = pickle.loads(pickle.dumps(CreatesMarker(control), protocol=protocol))
    handle.close()
    assert control.exists(), "the crafted pickle must be live for this test to mean anything"

    marker = tmp_path / "marker"
    payload = pickle.dumps({"model": CreatesMarker(marker)}, protocol=protocol)
    assert_refused(tmp_path, payload, "looks like a Python pickle.*never unpickles")
    assert not marker.exists()


def test_zip_npz_and_npy_files_are_named(tmp_path):
    np.savez(tmp_path / "arrays.npz", w=np.ones(3))
    assert_refused(tmp_path, (tmp_path / "arrays.npz").read_bytes(), "zip archive")
    np.save(tmp_path / "array.npy", np.ones(3))
    assert_refused(tmp_path, (tmp_path / "array.npy").read_bytes(), r"NumPy \.npy")


def test_text_file_is_named(tmp_path):
    assert_refused(tmp_path, b"x1,x2,label\n0.5,1.5,1\n", "text file")


def test_random_bytes(tmp_path):
    data = np.random.default_rng(3).integers(0, 256, size=4096, dtype=np.uint8).tobytes()
    assert_refused(tmp_path, data, "not a fastmlp model file")


@pytest.mark.parametrize("metadata", [None, {"format": "pt"}])
def test_safetensors_file_without_fastmlp_metadata(tmp_path, metadata):
    data = safetensors.numpy.save({"w": np.ones(3, np.float32)}, metadata=metadata)
    assert_refused(tmp_path, data, "not a fastmlp model file.*without fastmlp metadata")


def test_extra_metadata_keys(tmp_path):
    description, tensors = make_model()
    data = safetensors.numpy.save(tensors, metadata={"fastmlp": json.dumps(description),
                                                     "note": "hi"})
    assert_refused(tmp_path, data, "unexpected metadata key.*'note'")


@pytest.mark.parametrize("text, match", [
    ("[1, 2]", "must be a JSON object"),
    ("{not json", "fastmlp metadata is not valid JSON"),
    ('{"format": "fastmlp", "format": "fastmlp"}', "duplicate key 'format'"),
])
def test_metadata_not_a_description(tmp_path, text, match):
    _, tensors = make_model()
    assert_refused(tmp_path, safetensors_bytes(text, tensors), match)


@pytest.mark.parametrize("changes, match", [
    ({"format": KeyError}, "no 'format' field"),
    ({"format": "fastmlp2"}, "unknown format name 'fastmlp2'"),
    ({"format_version": KeyError}, "no 'format_version' field"),
    ({"format_version": "1"}, "format_version must be an integer, found '1'"),
    ({"format_version": 1.0}, "format_version must be an integer"),
    ({"format_version": True}, "format_version must be an integer"),
    ({"format_version": 3, "library_version": "9.0"},
     r"written by a newer fastmlp \(library version 9\.0, format version 3\).*up to 2"),
    ({"format_version": 0}, "format_version must be at least 1"),
    ({"library_version": ""}, "'library_version' must be a non-empty string"),
    ({"kind": 3}, "'kind' must be a non-empty string"),
    ({"dtype": "float16"}, "dtype must be one of float32, float64, found 'float16'"),
    ({"dtype": None}, "dtype must be one of"),
    ({"input_dim": 0}, "input_dim must be a positive integer, found 0"),
    ({"input_dim": -3}, "input_dim must be a positive integer"),
    ({"input_dim": 3.0}, "input_dim must be a positive integer"),
    ({"input_dim": "3"}, "input_dim must be a positive integer"),
    ({"input_dim": True}, "input_dim must be a positive integer"),
    ({"layers": []}, "layers must be a non-empty list"),
    ({"layers": {"units": 4}}, "layers must be a non-empty list"),
    ({"layers": [4, 2]}, "layer 0 must be a JSON object"),
    ({"loss": "nll"}, "unknown loss 'nll'"),
    ({"loss": 1}, "unknown loss"),
    ({"seed": "0"}, "seed must be an integer or null"),
    ({"seed": 1.5}, "seed must be an integer or null"),
])
def test_invalid_description_fields(tmp_path, changes, match):
    description, tensors = make_model()
    assert_refused(tmp_path, safetensors_bytes(with_changes(description, **changes), tensors),
                   match)


@pytest.mark.parametrize("field", ["library_version", "kind", "dtype", "input_dim", "layers",
                                   "loss", "seed"])
def test_missing_description_field(tmp_path, field):
    description, tensors = make_model()
    del description[field]
    assert_refused(tmp_path, safetensors_bytes(description, tensors),
                   f"lacks the field.*'{field}'")


@pytest.mark.parametrize("layer, match", [
    ({"units": 0, "activation": "softmax"}, "layer 1: units must be a positive integer"),
    ({"units": 2.0, "activation": "softmax"}, "layer 1: units must be a positive integer"),
    ({"activation": "softmax"}, "layer 1: units must be a positive integer"),
    ({"units": 2, "activation": "logistic"}, "layer 1 has unknown activation 'logistic'"),
    ({"units": 2}, "layer 1 has unknown activation None"),
    ({"units": 2, "activation": "leaky_relu"}, "layer 1 is leaky_relu but gives no negative_slope"),
    ({"units": 2, "activation": "relu", "negative_slope": "0.1"}, "negative_slope must be a finite"),
])
def test_invalid_layer(tmp_path, layer, match):
    description, tensors = make_model()
    description["layers"][1] = layer
    assert_refused(tmp_path, safetensors_bytes(description, tensors), match)


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.pop("layers.1.W"), r"missing tensor\(s\) layers\.1\.W"),
    (lambda t: t.update({"layers.2.W": np.ones((2, 2), np.float32)}),
     r"unexpected tensor\(s\) 'layers\.2\.W'"),
    (lambda t: t.update({"layers.0.W": t["layers.0.W"].astype(np.float64)}),
     r"'layers\.0\.W' has dtype float64, expected float32"),
    (lambda t: t.update({"layers.1.b": t["layers.1.b"].astype(np.float16)}),
     r"'layers\.1\.b' has dtype F16, expected float32"),
    (lambda t: t.update({"layers.1.b": np.array([1, 2], np.int32)}), "dtype I32, expected float32"),
    (lambda t: t.update({"layers.0.W": np.ones((3, 5), np.float32)}),
     r"'layers\.0\.W' has the wrong shape: expected \(3, 4\).*found \(3, 5\)"),
    (lambda t: t.update({"layers.1.b": np.ones((1, 2), np.float32)}),
     r"expected \(2,\).*found \(1, 2\)"),
    (lambda t: t.update({"golden.input": np.ones((5, 2), np.float32)}),
     r"'golden\.input' has shape \(5, 2\), expected \(g, 3\)"),
    (lambda t: t.update({"golden.output": np.ones((4, 2), np.float32)}),
     r"'golden\.output' has the wrong shape: expected \(5, 2\).*found \(4, 2\)"),
    (lambda t: t.pop("golden.input"), "found golden.output without golden.input"),
    (lambda t: t.pop("preprocessing.scale"),
     "found preprocessing.mean without preprocessing.scale"),
    (lambda t: t.update({"preprocessing.scale": t["preprocessing.scale"].astype(np.float32)}),
     "'preprocessing.scale' has dtype float32, expected float64"),
    (lambda t: t["preprocessing.scale"].__setitem__(2, -1.0), "must be positive"),
    (lambda t: t["layers.0.W"].__setitem__((1, 1), np.nan), r"'layers\.0\.W' holds 1 NaN"),
    (lambda t: t["layers.1.b"].__setitem__(0, -np.inf), "holds 0 NaN and 1 infinite"),
    (lambda t: t["golden.input"].__setitem__((4, 2), np.inf), "'golden.input' holds 0 NaN and 1"),
    (lambda t: t["preprocessing.mean"].__setitem__(0, np.nan), "'preprocessing.mean' holds 1 NaN"),
])
def test_tensors_not_matching_the_description(tmp_path, edit, match):
    description, tensors = make_model()
    edit(tensors)
    assert_refused(tmp_path, safetensors_bytes(description, tensors), match)


def test_float64_description_refuses_float32_tensors(tmp_path):
    description, _ = make_model("float64")
    _, tensors32 = make_model("float32")
    assert_refused(tmp_path, safetensors_bytes(description, tensors32),
                   "dtype float32, expected float64")


def test_truncated_at_every_cut_point(tmp_path):
    data = valid_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    for cut in range(len(data)):
        if cut == 0:
            match = "empty"
        elif cut < 8:
            match = "too short"
        else:
            match = "truncated"
        with pytest.raises(FormatError, match=match):
            fileformat.from_bytes(data[:cut])
    for cut in (5, 8 + header_len // 2, 8 + header_len, len(data) - 1):
        assert_refused(tmp_path, data[:cut], "empty|too short|truncated", name=f"cut{cut}.fmlp")


def test_trailing_bytes_are_refused_by_safetensors(tmp_path):
    assert_refused(tmp_path, valid_bytes() + b"\x00" * 8, "safetensors refused the data")


def test_header_claims_other_shapes_than_the_description(tmp_path):
    header, body = split_file(valid_bytes())
    header["layers.0.W"]["shape"] = [4, 3]  # same byte count, so only the meaning is wrong
    assert_refused(tmp_path, join_file(header, body), r"expected \(3, 4\).*found \(4, 3\)")


def test_header_shapes_disagreeing_with_the_data_are_refused(tmp_path):
    # Description and header agree on input_dim 2, but the data still holds a 3 × 4 W.
    header, body = split_file(valid_bytes(golden=False, preprocessing=False))
    description = json.loads(header["__metadata__"]["fastmlp"])
    description["input_dim"] = 2
    header["__metadata__"]["fastmlp"] = json.dumps(description)
    header["layers.0.W"]["shape"] = [2, 4]
    assert_refused(tmp_path, join_file(header, body), "safetensors refused the data")


def test_header_with_extra_tensor_entries(tmp_path):
    header, body = split_file(valid_bytes())
    end = len(body)
    header["evil"] = {"dtype": "F32", "shape": [2], "data_offsets": [end, end + 8]}
    assert_refused(tmp_path, join_file(header, body + bytes(8)), r"unexpected tensor\(s\) 'evil'")
    # An entry overlapping other tensors' data is refused just the same.
    header["evil"]["data_offsets"] = [0, 8]
    assert_refused(tmp_path, join_file(header, body), r"unexpected tensor\(s\) 'evil'")


def test_header_entry_pointing_past_the_data(tmp_path):
    header, body = split_file(valid_bytes())
    header["layers.0.b"]["data_offsets"][1] = len(body) + 16
    assert_refused(tmp_path, join_file(header, body), "truncated")


@pytest.mark.parametrize("entry", [
    "F32",
    {"dtype": "F32", "shape": "3x4", "data_offsets": [0, 48]},
    {"dtype": "F32", "shape": [3, -4], "data_offsets": [0, 48]},
    {"dtype": "F32", "shape": [3, 4], "data_offsets": [48, 0]},
    {"dtype": "F32", "shape": [3, 4]},
])
def test_malformed_header_entry(tmp_path, entry):
    header, body = split_file(valid_bytes())
    header["layers.0.W"] = entry
    assert_refused(tmp_path, join_file(header, body), r"entry for tensor 'layers\.0\.W' is")


def test_duplicate_tensor_entries_in_header(tmp_path):
    header, body = split_file(valid_bytes(golden=False, preprocessing=False))
    text = json.dumps(header)
    entry = json.dumps(header["layers.1.b"])
    duplicated = text[:-1] + f', "layers.1.b": {entry}' + "}"
    assert_refused(tmp_path, join_file(None, body, header_text=duplicated),
                   "duplicate key 'layers.1.b'")


def test_load_accepts_bytes_and_pathlib_paths(tmp_path):
    description, tensors = make_model()
    path = tmp_path / "model.fmlp"
    fileformat.save(os.fsencode(str(path)), description, tensors)
    assert fileformat.load(pathlib.PurePath(path))[0] == description
    assert fileformat.load(os.fsencode(str(path)))[0] == description


def test_from_bytes_refuses_non_bytes():
    with pytest.raises(FormatError, match="expected bytes, found str"):
        fileformat.from_bytes("not bytes")


def test_valid_file_starting_with_the_pickle_byte_is_accepted(tmp_path):
    # A header length of 128 + 256·k makes the first byte 0x80, like a pickle's.
    header, body = split_file(valid_bytes())
    text = json.dumps(header)
    padded_len = len(text) + (0x80 - len(text)) % 256
    data = join_file(None, body, header_text=text.ljust(padded_len))
    assert data[0] == 0x80
    path = tmp_path / "model.fmlp"
    path.write_bytes(data)
    description, tensors = make_model()
    loaded_description, loaded = fileformat.load(path)
    assert loaded_description == description
    assert_same_tensors(tensors, loaded)
