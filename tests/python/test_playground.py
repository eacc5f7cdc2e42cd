"""fastmlp playground over HTTP: the page, the settings' bounds, training, one step, the file.

(tests/python/test_playground_browser.py drives the same server in headless Chromium.)
"""
import http.client
import json
import time

import numpy as np
import pytest

import fastmlp as fm
import reference as ref
from fastmlp.playground import Playground
from fastmlp.playground._config import MAX_UNITS
from fastmlp.playground._presets import PRESETS
from fastmlp.playground._server import MAX_BODY_BYTES


@pytest.fixture
def playground():
    server = Playground(0).start()
    yield server
    server.stop()


def request(server, method, path, body=None, headers=None, raw=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.server.server_address[1], timeout=30)
    payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    all_headers = {"Content-Type": "application/json"} if payload is not None else {}
    all_headers.update(headers or {})
    connection.request(method, path, body=payload, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.getheader("Content-Type") == "application/json":
        return response.status, json.loads(data)
    return response.status, data


def train_for(server, seconds, min_epochs=1):
    """Train for about `seconds`, and on a busy machine until at least `min_epochs` (within a minute)."""
    assert request(server, "POST", "/api/run", {"running": True})[0] == 200
    time.sleep(seconds)
    deadline = time.monotonic() + 60
    while request(server, "GET", "/api/state")[1]["epoch"] < min_epochs and time.monotonic() < deadline:
        time.sleep(0.1)
    assert request(server, "POST", "/api/run", {"running": False})[0] == 200
    return request(server, "GET", "/api/state")[1]


def test_listens_on_loopback_only_and_serves_its_own_files(playground):
    assert playground.server.server_address[0] == "127.0.0.1"
    assert playground.url.startswith("http://127.0.0.1:")
    status, page = request(playground, "GET", "/")
    assert status == 200 and b"<canvas id=\"boundary\"" in page
    for path in ("/static/app.js", "/static/style.css"):
        status, body = request(playground, "GET", path)
        assert status == 200 and len(body) > 500
        assert b"http://" not in body and b"https://" not in body      # no CDN: works offline
    assert b"https://" not in page and b"http://" not in page
    assert request(playground, "GET", "/static/../_server.py")[0] == 404
    assert request(playground, "GET", "/", headers={"Host": "evil.example:80"})[0] == 403


@pytest.mark.parametrize("settings, fragment", [
    ({"dataset": "mnist"}, "dataset must be one of"),
    ({"n_samples": 10**9}, "n_samples must be an integer from 20 to 2000"),
    ({"n_samples": 50.5}, "n_samples"),
    ({"layers": [{"units": 10**6, "activation": "relu"}]}, f"units must be an integer from 1 to {MAX_UNITS}"),
    ({"layers": [{"units": 4, "activation": "relu"}] * 7}, "at most 6 hidden layers"),
    ({"layers": [{"units": 4, "activation": "softmax"}]}, "activation must be one of"),
    ({"learning_rate": float("1e300") * 10}, "learning_rate"),
    ({"learning_rate": -1}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"seed": -3}, "seed"),
    ({"dataset": "csv"}, "needs the file's text"),
    ({"dataset": "csv", "csv": "a,b,c,label\n1,2,3,0\n"}, "2 features"),
    ({"colour": "red"}, "unknown settings"),
    ({"preset": "nope"}, "unknown preset"),
])
def test_every_setting_is_checked_and_a_refusal_changes_nothing(playground, settings, fragment):
    before = request(playground, "GET", "/api/state")[1]
    status, answer = request(playground, "POST", "/api/configure", settings)
    assert status == 400 and fragment in answer["error"]
    after = request(playground, "GET", "/api/state")[1]
    assert after["version"] == before["version"] and after["layers"] == before["layers"]


def test_requests_that_are_too_large_or_not_json_are_refused(playground):
    status, answer = request(playground, "POST", "/api/configure", raw=b"{}",
                             headers={"Content-Length": str(10 * MAX_BODY_BYTES)})
    assert status == 400 and "larger than" in answer["error"]
    status, answer = request(playground, "POST", "/api/configure", raw=b"dataset=xor",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and "JSON" in answer["error"]
    status, answer = request(playground, "POST", "/api/configure", raw=b"{not json")
    assert status == 400 and "not valid JSON" in answer["error"]
    status, answer = request(playground, "POST", "/api/run", {"running": "yes"})
    assert status == 400


def test_xor_preset_trains_on_the_real_engine_and_the_file_loads(playground, tmp_path):
    settings = dict(PRESETS["xor"]["settings"], preset="xor")
    status, data = request(playground, "POST", "/api/configure", settings)
    assert status == 200 and data["n_classes"] == 2
    assert len(data["train"]["x"]) + len(data["validation"]["x"]) == 200
    state = train_for(playground, 2.0, min_epochs=40)
    loss = state["history"]["loss"]
    assert state["epoch"] == len(loss) >= 40 and loss[-1] < 0.5 * loss[0]
    assert len(state["grad_norm"]) == state["epoch"] and len(state["grad_norm"][0]) == 2
    status, body = request(playground, "GET", "/api/model.fmlp")
    path = tmp_path / "playground.fmlp"
    path.write_bytes(body)
    model = fm.load(path)
    # the boundary the page shows is the saved model's prediction
    boundary = state["boundary"]
    x0_low, x0_high, x1_low, x1_high = boundary["extent"]
    size = boundary["size"]
    grid_x, grid_y = np.meshgrid(np.linspace(x0_low, x0_high, size), np.linspace(x1_high, x1_low, size))
    p = model.predict(np.column_stack([grid_x.ravel(), grid_y.ravel()]))[:, 0]
    shown = np.array(boundary["probabilities"]).reshape(-1, 2)[:, 1]
    np.testing.assert_allclose(shown, p, atol=6e-4)


def test_one_step_shows_the_engine_s_matrices_and_applies_sgd(playground, tmp_path):
    settings = {"dataset": "moons", "n_samples": 100, "layers": [{"units": 5, "activation": "tanh"},
                                                                 {"units": 3, "activation": "relu"}],
                "optimizer": "sgd", "learning_rate": 0.5, "batch_size": 4}
    assert request(playground, "POST", "/api/configure", settings)[0] == 200
    report = request(playground, "POST", "/api/step", {})[1]
    assert report["step"] == 1 and report["batch_size"] == report["shown_rows"] == 4
    layers = [ref.Layer(np.array(l["W"]), np.array(l["b"]), l["activation"]) for l in report["layers"]]
    grads, loss = ref.backward(layers, np.array(report["X"]), np.array(report["Y"]), "binary_cross_entropy")
    assert report["loss"] == pytest.approx(loss, rel=1e-5)
    caches = ref.forward(layers, np.array(report["X"]))
    for shown, (dW, db), (Z, A) in zip(report["layers"], grads, caches):
        np.testing.assert_allclose(shown["dW"], dW, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(shown["db"], db, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(shown["Z"], Z, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(shown["A"], A, rtol=1e-4, atol=1e-6)
    path = tmp_path / "after.fmlp"
    path.write_bytes(request(playground, "GET", "/api/model.fmlp")[1])
    after = fm.load(path)
    for layer, shown in zip(after.layers, report["layers"]):   # W ← W − lr·dW, b ← b − lr·db
        np.testing.assert_allclose(layer.W, np.array(shown["W"]) - 0.5 * np.array(shown["dW"]), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(layer.b, np.array(shown["b"]) - 0.5 * np.array(shown["db"]), rtol=1e-5,
                                   atol=1e-6)
    assert request(playground, "GET", "/api/state")[1]["steps"] == 1


def test_a_two_feature_csv_is_a_data_set(playground):
    rng = np.random.default_rng(0)
    rows = ["width,height,kind"] + [f"{a:.3f},{b:.3f},{'big' if a + b > 0 else 'small'}"
                                    for a, b in rng.normal(size=(60, 2))]
    status, data = request(playground, "POST", "/api/configure", {"dataset": "csv", "csv": "\n".join(rows)})
    assert status == 200 and data["n_classes"] == 2
    assert len(data["train"]["x"]) + len(data["validation"]["x"]) == 60
    status, answer = request(playground, "POST", "/api/configure", {"dataset": "csv", "csv": "a,b,c\n1,x,0\n"})
    assert status == 400


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_configures_and_trains(playground, name):
    settings = dict(PRESETS[name]["settings"], preset=name)
    assert request(playground, "POST", "/api/configure", settings)[0] == 200
    state = train_for(playground, 0.5)
    assert state["preset"] == name and state["epoch"] >= 1 and state["error"] is None
    assert len(state["layers"]) == len(PRESETS[name]["settings"]["layers"]) + 1


def test_stop_frees_the_port_and_ends_training():
    server = Playground(0).start()
    port = server.server.server_address[1]
    request(server, "POST", "/api/run", {"running": True})
    server.stop()
    assert not server.session._thread.is_alive()
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")
    again = Playground(port)              # the port is free again
    again.stop()


def test_the_command_serves_until_ctrl_c():
    import re
    import signal
    import subprocess
    import sys
    import urllib.request

    # A shell without job control starts background jobs with SIGINT ignored, and children inherit
    # that (CI may run so): the server gets Ctrl-C's default disposition back, as in a terminal.
    process = subprocess.Popen([sys.executable, "-m", "fastmlp", "playground", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "api/presets", timeout=30) as response:
            assert set(json.loads(response.read())) == set(PRESETS)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out
