"""Model files that are not what they claim: the digest, sizes before reads, non-regular files, bounded
messages, temporary files of killed saves, saving through symlinks, and `fastmlp info` on good and bad files."""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import fileformat
from fastmlp.cli import main as cli_main


def trained(dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 3))
    model = fm.Sequential([fm.Dense(5, activation="relu"), fm.Dense(2, activation="softmax")], dtype=dtype, seed=seed)
    model.compile(loss="cross_entropy", optimizer="sgd")
    model.fit(X, (X[:, 0] > 0).astype(int), epochs=2, verbose=0)
    return model, X


@pytest.fixture
def saved(tmp_path):
    model, X = trained()
    path = tmp_path / "model.fmlp"
    model.save(path)
    return model, path, X


def split(data):
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def join(header, body):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def description_of(data):
    return json.loads(split(data)[0]["__metadata__"]["fastmlp"])


def with_description(data, description):
    header, body = split(data)
    header["__metadata__"]["fastmlp"] = json.dumps(description)
    return join(header, body)


# ---------------------------------------------------------------- the digest

def test_a_saved_file_carries_a_sha256_over_its_whole_description(saved):
    _, path, _ = saved
    description = description_of(path.read_bytes())
    digest = description["digest"]
    assert set(digest) == {"sha256", "fields"} and len(digest["sha256"]) == 64
    assert digest["fields"] == sorted(key for key in description if key != "digest")
    # fileformat.load hands back the description as it was saved, without the digest.
    assert "digest" not in fileformat.load(path)[0]


def test_the_digest_is_an_independent_sha256_of_description_and_tensors(saved):
    # Recomputed here from the module docstring's definition, with hashlib and nothing of fastmlp.
    import hashlib

    _, path, _ = saved
    data = path.read_bytes()
    header, body = split(data)
    description = description_of(data)
    stored = description.pop("digest")

    def part(raw):
        return len(raw).to_bytes(8, "little") + raw

    text = json.dumps(description, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    hashed = b"fastmlp content digest 1\n" + part(text)
    for name in sorted(key for key in header if key != "__metadata__"):
        start, end = header[name]["data_offsets"]
        dtype = {"F32": "float32", "F64": "float64"}[header[name]["dtype"]]
        hashed += part(name.encode()) + part(dtype.encode()) + part(json.dumps(header[name]["shape"],
                                                                                separators=(",", ":")).encode())
        hashed += part(body[start:end])
    assert hashlib.sha256(hashed).hexdigest() == stored["sha256"]


@pytest.mark.parametrize("edit", ["class name", "unseen unit", "bias within the margin", "name", "metadata"])
def test_a_change_the_golden_rows_cannot_see_fails_the_digest(tmp_path, edit):
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 3))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a short fit does not converge; not the point here
        estimator = fm.MLPClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=0).fit(X, labels)
    path = tmp_path / "m.fmlp"
    estimator.save(path)
    data = path.read_bytes()
    header, body = split(data)
    description = description_of(data)
    if edit == "class name":
        description["classes"] = ["no", "yes!"]
    elif edit == "name":
        description["name"] = "renamed"
    elif edit == "metadata":
        description["metadata"] = {"note": "added later"}
    else:
        weights = {name: np.frombuffer(body[e["data_offsets"][0]:e["data_offsets"][1]], dtype=np.float32)
                   .reshape(e["shape"]).copy() for name, e in header.items() if name != "__metadata__"}
        if edit == "unseen unit":
            hidden = weights["golden.input"] @ weights["layers.0.W"] + weights["layers.0.b"]
            unseen = np.flatnonzero((hidden <= 0).all(axis=0))
            assert unseen.size, "a wider hidden layer is needed for a unit no golden row activates"
            weights["layers.1.W"][unseen[0]] *= 5
            name = "layers.1.W"
        else:
            weights["layers.1.b"] += np.float32(1e-4)
            name = "layers.1.b"
        start, end = header[name]["data_offsets"]
        body = body[:start] + weights[name].tobytes() + body[end:]
    (tmp_path / "edited.fmlp").write_bytes(with_description(join(header, body), description))
    with pytest.raises(fm.FormatError, match="SHA-256 digest .* does not match.*corrupt or was edited"):
        fm.load(tmp_path / "edited.fmlp")
    if edit == "unseen unit":  # the golden rows alone would have let it through: it predicts differently
        digestless = {key: value for key, value in description.items() if key != "digest"}
        digestless["format_version"] = 1  # a file as they were before the digest
        (tmp_path / "old-style.fmlp").write_bytes(with_description(join(header, body), digestless))
        changed = fm.load(tmp_path / "old-style.fmlp")
        assert not np.array_equal(changed.predict_proba(X * 3), estimator.predict_proba(X * 3))


def test_a_pickle_is_checked_by_the_same_digest(saved):
    import pickle

    model, path, _ = saved
    data = path.read_bytes()
    # The seed has no effect on the predictions, but it is not what was saved. Same length: the
    # pickle's framing stays valid.
    edited = data.replace(b'\\"seed\\": 0,', b'\\"seed\\": 1,', 1)
    assert edited != data
    pickled = pickle.dumps(model)
    assert data in pickled
    with pytest.raises(fm.FormatError, match="does not match"):
        pickle.loads(pickled.replace(data, edited))


def test_keys_added_after_saving_are_outside_the_digest_and_dropped(saved, tmp_path):
    model, path, X = saved
    description = description_of(path.read_bytes())
    description["note"] = "added by hand"
    (tmp_path / "noted.fmlp").write_bytes(with_description(path.read_bytes(), description))
    assert "note" not in fileformat.load(tmp_path / "noted.fmlp")[0]
    np.testing.assert_array_equal(fm.load(tmp_path / "noted.fmlp").predict(X), model.predict(X))


def test_a_file_of_this_version_without_its_digest_is_refused(saved, tmp_path):
    model, path, X = saved
    description = description_of(path.read_bytes())
    assert description["format_version"] == fileformat.FORMAT_VERSION == 2
    del description["digest"]
    (tmp_path / "stripped.fmlp").write_bytes(with_description(path.read_bytes(), description))
    with pytest.raises(fm.FormatError, match="has no 'digest', which every file of format version 2 or later"):
        fm.load(tmp_path / "stripped.fmlp")
    # Calling the file version 1 changes a covered field: refused while the digest is there ...
    downgraded = description_of(path.read_bytes())
    downgraded["format_version"] = 1
    (tmp_path / "downgraded.fmlp").write_bytes(with_description(path.read_bytes(), downgraded))
    with pytest.raises(fm.FormatError, match="SHA-256 digest .* does not match"):
        fm.load(tmp_path / "downgraded.fmlp")
    # ... and only both edits together make a version 1 file, which loads as files before the digest did.
    del downgraded["digest"]
    (tmp_path / "legacy.fmlp").write_bytes(with_description(path.read_bytes(), downgraded))
    np.testing.assert_array_equal(fm.load(tmp_path / "legacy.fmlp").predict(X), model.predict(X))


@pytest.mark.parametrize("digest", ["sha256:abc", {"sha256": "0" * 64}, {"sha256": "G" * 64, "fields": []},
                                    {"sha256": "0" * 64, "fields": ["kind", "kind"]}, None])
def test_a_malformed_digest_is_refused(saved, tmp_path, digest):
    _, path, _ = saved
    description = description_of(path.read_bytes())
    description["digest"] = digest
    (tmp_path / "bad.fmlp").write_bytes(with_description(path.read_bytes(), description))
    with pytest.raises(fm.FormatError, match="'digest' is malformed"):
        fm.load(tmp_path / "bad.fmlp")


# ---------------------------------------------------------------- JSON that would overflow something

@pytest.mark.parametrize("value, match", [
    (10 ** 400, "a number of 401 characters"),
    (float("nan"), "NaN is not allowed"),
    ("1e999", "out of the range of a float64"),
])
def test_numbers_no_writer_makes_are_refused_while_parsing(saved, tmp_path, value, match):
    _, path, _ = saved
    description = description_of(path.read_bytes())
    text = json.dumps({**description, "seed": 0 if isinstance(value, str) else value})
    if isinstance(value, str):
        text = text.replace('"seed": 0', f'"seed": {value}')
    header, body = split(path.read_bytes())
    header["__metadata__"]["fastmlp"] = text
    (tmp_path / "n.fmlp").write_bytes(join(header, body))
    with pytest.raises(fm.FormatError, match=match):
        fm.load(tmp_path / "n.fmlp")


def test_deeply_nested_json_is_refused_while_parsing(saved, tmp_path):
    _, path, _ = saved
    description = description_of(path.read_bytes())
    description["metadata"] = {"deep": json.loads("[" * 600 + "]" * 600)}
    (tmp_path / "deep.fmlp").write_bytes(with_description(path.read_bytes(), description))
    with pytest.raises(fm.FormatError, match="nested more than 100 levels"):
        fm.load(tmp_path / "deep.fmlp")


def test_an_estimator_parameter_of_400_digits_is_a_format_error(tmp_path):
    pytest.importorskip("sklearn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = fm.LogisticRegression(max_iter=5).fit(np.eye(4), [0, 1, 0, 1])
    estimator.save(tmp_path / "lr.fmlp")
    data = (tmp_path / "lr.fmlp").read_bytes()
    description = description_of(data)
    description.pop("digest")   # as a file written before digests: only the loader's checks stand
    for name in list(description["estimator"]["params"]):
        edited = json.loads(json.dumps(description))
        edited["estimator"]["params"][name] = 10 ** 60
        (tmp_path / "p.fmlp").write_bytes(with_description(data, edited))
        try:
            fm.load(tmp_path / "p.fmlp")
        except fm.FormatError:
            pass   # anything else propagates and fails the test


def test_messages_never_echo_unbounded_content(saved, tmp_path):
    _, path, _ = saved
    header, body = split(path.read_bytes())
    header["layers.0.W"]["dtype"] = "F" * 1_000_000
    (tmp_path / "dtype.fmlp").write_bytes(join(header, body))
    with pytest.raises(fm.FormatError) as info:
        fm.load(tmp_path / "dtype.fmlp")
    assert len(str(info.value)) < 1500 and "more characters" in str(info.value)


# ---------------------------------------------------------------- sizes before reads, regular files only

def test_a_valid_model_followed_by_1_2_gib_of_zeros_is_refused_without_reading_it(saved, tmp_path, monkeypatch):
    _, path, _ = saved
    big = tmp_path / "big.fmlp"
    big.write_bytes(path.read_bytes())
    with open(big, "r+b") as file:
        file.truncate(os.path.getsize(path) + int(1.2 * 2 ** 30))   # sparse: no disk is used
    real_read = os.read
    read_sizes = []

    def counting_read(descriptor, count):
        read_sizes.append(count)
        return real_read(descriptor, count)

    monkeypatch.setattr(os, "read", counting_read)
    with pytest.raises(fm.FormatError, match=r"safetensors refused the data: 1288490188 byte\(s\) follow"):
        fm.load(big)
    assert sum(read_sizes) <= os.path.getsize(path)     # the header only, never the zeros


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_at_once_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.fmlp"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            fm.load(fifo)
        except fm.FormatError as error:
            outcome.append(str(error))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():   # unblock the reader so the test process can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("fm.load blocked on a FIFO")
    assert outcome and "a FIFO (named pipe)" in outcome[0]


@pytest.mark.parametrize("where, what", [("folder", "a directory"), ("/dev/zero", "a character device")])
def test_directories_and_devices_are_refused(tmp_path, where, what):
    path = tmp_path if where == "folder" else where
    if not os.path.exists(path):
        pytest.skip(f"no {where}")
    with pytest.raises(fm.FormatError, match=f"not a regular file \\({what}\\)"):
        fm.load(path)


# ---------------------------------------------------------------- symlinks and temporary files

def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    model, X = trained()
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.fmlp"
    model.save(target)
    link = tmp_path / "current.fmlp"
    link.symlink_to(os.path.join("real", "model.fmlp"))
    other, _ = trained(seed=9)
    other.save(link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "model.fmlp")
    np.testing.assert_array_equal(fm.load(target).predict(X), other.predict(X))
    assert sorted(os.listdir(tmp_path / "real")) == ["model.fmlp"]


_SLOW_SAVER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import fastmlp as fm
    real_fsync = os.fsync
    def fsync_then_wait(descriptor):
        real_fsync(descriptor)
        print("written", flush=True)
        time.sleep(600)            # killed here: the temporary file is complete, the rename not done
    os.fsync = fsync_then_wait
    model = fm.Sequential([fm.Dense(2, activation="softmax")], seed=int(sys.argv[2]))
    model.build(3)
    model.save(sys.argv[1])
""")


def start_slow_saver(path, seed):
    process = subprocess.Popen([sys.executable, "-c", _SLOW_SAVER, str(path), str(seed)], stdout=subprocess.PIPE,
                               text=True)
    line = process.stdout.readline().strip()
    if line != "written":
        kill(process)
        pytest.fail(f"the saving process did not reach its rename (it printed {line!r})")
    return process


def kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    process.stdout.close()


def temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".fastmlp-tmp"))


def test_a_save_killed_with_sigkill_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    model, X = trained()
    target = tmp_path / "model.fmlp"
    model.save(target)
    killed = start_slow_saver(target, 1)
    kill(killed)
    [stale] = temporaries(tmp_path)
    assert stale.startswith(".model.fmlp.")
    # A live save of the same target, and a dead one of another target, are left alone.
    live = start_slow_saver(target, 2)
    other = start_slow_saver(tmp_path / "other.fmlp", 3)
    kill(other)
    try:
        [live_temp] = [name for name in temporaries(tmp_path) if name != stale and name.startswith(".model.fmlp.")]
        [other_temp] = [name for name in temporaries(tmp_path) if name.startswith(".other.fmlp.")]
        model.save(target)
        assert temporaries(tmp_path) == sorted([live_temp, other_temp])
    finally:
        kill(live)
    model.save(target)                  # its writer is dead now: removed
    assert [name for name in temporaries(tmp_path) if name.startswith(".model.fmlp.")] == []
    np.testing.assert_array_equal(fm.load(target).predict(X), model.predict(X))
    fm.load(target)


def test_a_user_file_that_only_looks_like_a_temporary_of_another_target_is_kept(tmp_path):
    model, _ = trained()
    lookalikes = [".model.fmlp.tmp", ".model.fmlp.0123456789ab.tmp", ".model.fmlp.0123456789ab.fastmlp-tmp.bak",
                  ".other.fmlp.0123456789ab.fastmlp-tmp", "model.fmlp.0123456789ab.fastmlp-tmp"]
    for name in lookalikes:
        (tmp_path / name).write_text("mine")
    model.save(tmp_path / "model.fmlp")
    assert sorted(os.listdir(tmp_path)) == sorted([*lookalikes, "model.fmlp"])


def test_unlocked_temporaries_of_earlier_fastmlp_are_removed_only_once_an_hour_old(tmp_path):
    model, _ = trained()
    old, recent = tmp_path / ".model.fmlp.00112233aabb.tmp", tmp_path / ".model.fmlp.44556677ccdd.tmp"
    for path in (old, recent):
        path.write_bytes(b"partial")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    model.save(tmp_path / "model.fmlp")
    assert not old.exists() and recent.exists()


# ---------------------------------------------------------------- fastmlp info

def test_info_reports_the_verified_digest(saved, capsys):
    _, path, _ = saved
    assert cli_main(["info", str(path)]) == 0
    sha = description_of(path.read_bytes())["digest"]["sha256"]
    assert f"content digest: sha256 {sha} (verified)" in capsys.readouterr().out


def test_info_describes_any_metadata_a_loadable_file_holds(tmp_path, capsys):
    model, _ = trained()
    model.metadata = {"task": ["odd"], "classes": 3, "features": {"a": 1}, "training": "yesterday",
                      "long": "y" * 100_000, "target": {"t": 1}}
    model.save(tmp_path / "odd.fmlp")
    assert cli_main(["info", str(tmp_path / "odd.fmlp")]) == 0
    out = capsys.readouterr().out
    assert "classes: 3" in out and "training: yesterday" in out and "long: yyy" in out
    assert max(len(line) for line in out.splitlines()) < 2100


@pytest.mark.parametrize("content", [b"", b"\x00" * 7, b"garbage that is not a model", "fifo", "truncated"])
def test_info_on_a_malformed_file_prints_one_clear_line(saved, tmp_path, capsys, content):
    _, path, _ = saved
    bad = tmp_path / "bad.fmlp"
    if content == "fifo":
        os.mkfifo(bad)
    elif content == "truncated":
        bad.write_bytes(path.read_bytes()[:-3])
    else:
        bad.write_bytes(content)
    started = time.monotonic()
    assert cli_main(["info", str(bad)]) == 1
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith("fastmlp: error: cannot load model file") and "internal error" not in line
    assert time.monotonic() - started < 60
