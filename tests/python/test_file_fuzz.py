"""Fuzzing the loader: thousands of mutated model files of every kind, seeded, counting what each raised.

Three families of mutants, each made from a valid file of every model kind:

* *stale*: bytes or content changed with the digest left as it was saved (bit flips, truncations,
  inserted and deleted bytes, JSON edits, tensor edits the golden rows cannot see). A file may only
  raise FormatError, or load and predict exactly what the original predicts (a change that leaves
  the content as it was, such as a flip inside the header's padding spaces).
* *forged*: the same content edits with a digest recomputed for them, as a deliberate writer would.
  Only FormatError or a successful load; and `fastmlp info` describes every file that loads.
* *legacy*: byte mutations of a file without a digest and of format version 1 (as files were before
  the digest). Only FormatError or a successful load.
* *deleted*: every key of the description deleted in turn, at any depth, the digest and its parts
  included. Only FormatError: a file of this version without its digest, or with less than it was
  saved with, is not the file that was saved.

The counts by outcome are printed (run with -s to see them).
"""
from __future__ import annotations

import collections
import json
import struct
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp.cli import main as cli_main
from fastmlp.fileformat import _digest

pytest.importorskip("sklearn")

SEED = 20261201
STALE_PER_KIND = 300
FORGED_PER_KIND = 120
LEGACY_PER_KIND = 60
MAX_MESSAGE = 1500  # bound of a message, beyond the path it names


def data(n=80, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [1.0, 5.0, 0.3, 2.0] + [0.0, 2.0, -1.0, 0.5]
    y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 2)
    return X, y3


def models():
    X, y3 = data()
    labels = np.array(["cat", "dog", "eel"])[y3]
    seq32 = fm.Sequential([fm.Dense(16, activation="relu"), fm.Dense(3, activation="softmax")], seed=1)
    seq32.compile(loss="cross_entropy", optimizer=fm.Adam(lr=0.01))
    seq32.fit(X, y3, epochs=3, verbose=0)
    seq64 = fm.Sequential([fm.Dense(8, activation="tanh"), fm.Dense(1, activation="identity")],
                          dtype="float64", seed=2)
    seq64.compile(loss="mse", optimizer="sgd")
    seq64.preprocessing = fm.datasets.Standardizer().fit(X)
    seq64.fit(X, X[:, 0] - X[:, 2], epochs=3, verbose=0)
    yield "Sequential_float32", seq32
    yield "Sequential_float64_standardised", seq64
    yield "Perceptron", fm.Perceptron(max_iter=5, random_state=0).fit(X, labels)
    yield "LogisticRegression", fm.LogisticRegression(max_iter=20).fit(X, y3 > 0)
    yield "LinearSVM", fm.LinearSVM(max_iter=10, random_state=0, dtype="float64").fit(X, labels)
    yield "MLPClassifier", fm.MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0).fit(X, labels)
    yield "MLPRegressor", fm.MLPRegressor(hidden_layer_sizes=(16,), max_iter=10, random_state=0,
                                          dtype="float64").fit(X, X[:, 1])


def outputs(model, X):
    found = [np.asarray(model.predict(X))]
    if hasattr(model, "predict_proba"):
        found.append(np.asarray(model.predict_proba(X)))
    return found


# ---------------------------------------------------------------- the pieces of a file

def split(data):
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def join(header, body):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def with_description(data, description):
    header, body = split(data)
    header["__metadata__"]["fastmlp"] = json.dumps(description)
    return join(header, body)


def tensors_of(data):
    header, body = split(data)
    found = {}
    for name, entry in header.items():
        if name != "__metadata__":
            start, end = entry["data_offsets"]
            dtype = {"F32": np.float32, "F64": np.float64}[entry["dtype"]]
            found[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(entry["shape"]).copy()
    return found


def with_tensors(data, tensors):
    header, body = split(data)
    for name, array in tensors.items():
        start, end = header[name]["data_offsets"]
        raw = np.ascontiguousarray(array).tobytes()
        assert len(raw) == end - start
        body = body[:start] + raw + body[end:]
    return join(header, body)


def forged(data):
    """The file with a digest recomputed for its present content (None if that content is not JSON)."""
    header, _ = split(data)
    description = json.loads(header["__metadata__"]["fastmlp"])
    description.pop("digest", None)
    try:
        sealed = _digest.seal(description, tensors_of(data))
    except (ValueError, TypeError, RecursionError):
        return None
    return with_description(data, sealed)


def paths_in(value, prefix=()):
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from paths_in(child, (*prefix, key))


def deleted(value, path):
    """A deep copy of value without the key (or list item) at path."""
    copy = json.loads(json.dumps(value))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return copy


def replaced(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


# ---------------------------------------------------------------- mutations

def flip_bits(rng, data):
    out = bytearray(data)
    for _ in range(rng.integers(1, 4)):
        out[rng.integers(len(out))] ^= 1 << int(rng.integers(8))
    return bytes(out)


def truncate(rng, data):
    return data[:rng.integers(len(data))]


def insert_bytes(rng, data):
    at = rng.integers(len(data) + 1)
    return data[:at] + rng.integers(0, 256, rng.integers(1, 9), dtype=np.uint8).tobytes() + data[at:]


def delete_bytes(rng, data):
    at = rng.integers(len(data))
    return data[:at] + data[at + rng.integers(1, 9):]


BYTE_MUTATIONS = (flip_bits, truncate, insert_bytes, delete_bytes)


def deep_list(depth=600):
    value = [1]
    for _ in range(depth - 1):
        value = [value]
    return value


def leaf_value(rng, kind):
    return {"huge_number": 10 ** 400 if rng.integers(2) else -(10 ** 399) - 7,
            "deep_list": deep_list(),
            "nan": float("nan"),
            "long_string": "x" * 1_000_000,
            "wrong_type": [None, True, "relu", 3, -1, 2.5, [], {}, [1, 2], {"a": 1}][rng.integers(10)]}[kind]


def edit_description(rng, data):
    header, _ = split(data)
    description = json.loads(header["__metadata__"]["fastmlp"])
    kind = ("huge_number", "deep_list", "nan", "long_string", "wrong_type", "class_name")[rng.integers(6)]
    if kind == "class_name" and "classes" in description:
        classes = list(description["classes"])
        index = rng.integers(len(classes))
        classes[index] = classes[index] + "x" if isinstance(classes[index], str) else classes[index] + 1
        description["classes"] = classes
    else:
        paths = [path for path in paths_in(description) if path and path[0] != "digest"]
        path = paths[rng.integers(len(paths))]
        description = replaced(description, path, leaf_value(rng, "wrong_type" if kind == "class_name" else kind))
    return with_description(data, description)


def huge_shape(rng, data):
    header, body = split(data)
    description = json.loads(header["__metadata__"]["fastmlp"])
    units = int(2 ** rng.integers(31, 63))
    description["layers"][0]["units"] = units
    header["__metadata__"]["fastmlp"] = json.dumps(description)
    header["layers.0.W"]["shape"][1] = units
    header["layers.0.b"]["shape"] = [units]
    return join(header, body)


def shift_a_bias(rng, data):
    """A step unit's bias moved within the golden rows' margin (any kind: a small bias change)."""
    tensors = tensors_of(data)
    last = max(int(name.split(".")[1]) for name in tensors if name.startswith("layers."))
    bias = tensors[f"layers.{last}.b"]
    bias[rng.integers(bias.size)] += bias.dtype.type(1e-3)
    return with_tensors(data, {f"layers.{last}.b": bias})


def change_an_unseen_unit(rng, data):
    """Outgoing weights of a hidden ReLU unit no golden row activates (a random weight otherwise)."""
    tensors = tensors_of(data)
    description = json.loads(split(data)[0]["__metadata__"]["fastmlp"])
    golden = tensors["golden.input"].astype(np.float64)
    if "preprocessing.mean" in tensors:
        golden = (golden - tensors["preprocessing.mean"]) / tensors["preprocessing.scale"]
    if len(description["layers"]) > 1 and description["layers"][0]["activation"] == "relu":
        hidden = golden @ tensors["layers.0.W"] + tensors["layers.0.b"]
        unseen = np.flatnonzero((hidden <= 0).all(axis=0))
        if unseen.size:
            weights = tensors["layers.1.W"]
            weights[unseen[rng.integers(unseen.size)]] *= weights.dtype.type(3)
            return with_tensors(data, {"layers.1.W": weights})
    weights = tensors["layers.0.W"]
    weights.flat[rng.integers(weights.size)] *= weights.dtype.type(1.0001)
    return with_tensors(data, {"layers.0.W": weights})


CONTENT_MUTATIONS = (edit_description, huge_shape, shift_a_bias, change_an_unseen_unit)
# A huge shape cannot be forged: the data would have to be as huge.
FORGEABLE_MUTATIONS = (edit_description, shift_a_bias, change_an_unseen_unit)


# ---------------------------------------------------------------- the run

def outcome_of(path, original, X):
    """'FormatError', 'loaded' (with the outputs) or the name of any other exception."""
    try:
        loaded = fm.load(path)
    except fm.FormatError as error:
        assert len(str(error)) <= MAX_MESSAGE + len(str(path)), str(error)[:300]
        return "FormatError", None
    except Exception as error:  # noqa: BLE001 - counted, then the test fails
        return f"{type(error).__name__}: {str(error)[:200]}", None
    return "loaded", loaded


def run_family(family, mutations, count, source, original, X, tmp_path, rng, counts, info_paths):
    for index in range(count):
        mutation = mutations[index % len(mutations)]
        mutant = mutation(rng, source)
        if family == "forged":
            mutant = forged(mutant)
            if mutant is None:
                counts[(family, "not forgeable (not JSON)")] += 1
                continue
        path = tmp_path / f"{family}{index}.fmlp"
        path.write_bytes(mutant)
        outcome, loaded = outcome_of(path, original, X)
        if outcome == "loaded" and family == "stale":
            same = all(np.array_equal(a, b) for a, b in zip(outputs(loaded, X), original))
            outcome = "loaded, predicts as saved" if same else f"loaded, predicts differently ({mutation.__name__})"
        elif outcome == "loaded" and family == "forged":
            info_paths.append(path)
        counts[(family, outcome)] += 1
        if not outcome.startswith("loaded") and outcome != "FormatError":
            path.rename(tmp_path / f"unexpected_{family}{index}.fmlp")


def test_fuzzed_files_raise_only_format_error(tmp_path, capsys):
    rng = np.random.default_rng(SEED)
    X = data(n=300, seed=7)[0] * 3.0
    counts = collections.Counter()
    info_paths = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # short fits do not converge; not the point here
        fitted = list(models())
    for name, model in fitted:
        model.save(tmp_path / f"{name}.fmlp")
        source = (tmp_path / f"{name}.fmlp").read_bytes()
        original = outputs(model, X)
        description = json.loads(split(source)[0]["__metadata__"]["fastmlp"])
        legacy = with_description(source, {**{key: value for key, value in description.items() if key != "digest"},
                                           "format_version": 1})
        assert outputs(fm.load(tmp_path / f"{name}.fmlp"), X)[0].shape == original[0].shape
        directory = tmp_path / name
        directory.mkdir()
        run_family("stale", BYTE_MUTATIONS + CONTENT_MUTATIONS, STALE_PER_KIND, source, original, X,
                   directory, rng, counts, info_paths)
        run_family("forged", FORGEABLE_MUTATIONS, FORGED_PER_KIND, source, original, X, directory, rng, counts,
                   info_paths)
        run_family("legacy", BYTE_MUTATIONS, LEGACY_PER_KIND, legacy, original, X, directory, rng, counts,
                   info_paths)
        for index, path in enumerate(path for path in paths_in(description) if path):
            mutant = directory / f"deleted{index}.fmlp"
            mutant.write_bytes(with_description(source, deleted(description, path)))
            counts[("deleted", outcome_of(mutant, original, X)[0])] += 1
    info_failures = []
    for path in info_paths:
        if cli_main(["info", str(path)]) != 0:
            info_failures.append(path.name)
    captured = capsys.readouterr()
    with capsys.disabled():
        print(f"\nfuzzed {sum(counts.values())} files; outcomes by family:")
        for (family, outcome), number in sorted(counts.items()):
            print(f"  {family:7} {outcome:40} {number}")
        print(f"  fastmlp info on the {len(info_paths)} forged files that load: {len(info_failures)} failed")
    allowed = {"FormatError", "loaded, predicts as saved", "loaded", "not forgeable (not JSON)"}
    unexpected = {key: number for key, number in counts.items()
                  if key[1] not in allowed or (key[0] == "deleted" and key[1] != "FormatError")}
    assert not unexpected, unexpected
    assert sum(counts.values()) >= 3000
    assert not info_failures and "internal error" not in captured.err, captured.err[-2000:]
