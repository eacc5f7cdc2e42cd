"""The playground in a real browser: headless Chromium (Debian's chromium and chromium-driver,
which scripts/test installs) driven by selenium.

Choose the XOR preset, train, check that the boundary image changes and the loss falls;
step once and read dW from the page (checked against reference.py on the same batch);
save the model through the page's link and fm.load the file.
"""
import json
import shutil
import time
import urllib.request

import numpy as np
import pytest

import fastmlp as fm
import reference as ref
from fastmlp.playground import Playground

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium chromium-driver, as "
                "scripts/test does)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the 'browser' extra) is not installed")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def page(downloads):
    server = Playground(0).start()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1100", "--disable-extensions", "--no-first-run"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        driver.get(server.url)
        yield driver, server
    finally:
        driver.quit()
        server.stop()


def wait_for(driver, condition, seconds=60):
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(lambda _: condition())


def boundary_image(driver):
    return driver.execute_script("return document.getElementById('boundary').toDataURL('image/png')")


def losses(driver):
    return json.loads(driver.find_element(By.ID, "loss-chart").get_attribute("data-loss") or "[]")


def server_state(server):
    with urllib.request.urlopen(server.url + "api/state", timeout=30) as response:
        return json.loads(response.read())


def test_xor_preset_trains_steps_and_saves_in_the_browser(page, downloads):
    driver, server = page
    wait_for(driver, lambda: len(Select(driver.find_element(By.ID, "preset")).options) > 1)
    preset = Select(driver.find_element(By.ID, "preset"))
    preset.select_by_value("vanishing_relu")               # away and back: choosing XOR builds a new network
    wait_for(driver, lambda: server_state(server)["preset"] == "vanishing_relu")
    preset.select_by_value("xor")
    def xor_shown():
        state = server_state(server)
        drawn = driver.find_element(By.ID, "boundary").get_attribute("data-version")
        return state["preset"] == "xor" and drawn == str(state["version"])

    wait_for(driver, xor_shown)
    assert "hidden layer" in driver.find_element(By.ID, "lesson").text
    before = boundary_image(driver)

    driver.find_element(By.ID, "train").click()
    wait_for(driver, lambda: len(losses(driver)) >= 40)
    driver.find_element(By.ID, "train").click()             # pause
    wait_for(driver, lambda: driver.find_element(By.ID, "train").text == "Train"
             and not server_state(server)["running"])
    time.sleep(1.0)                                         # the page's next poll draws the last epoch
    curve = losses(driver)
    assert curve[-1] < 0.6 * curve[0], curve
    assert boundary_image(driver) != before
    assert driver.find_element(By.ID, "error").get_attribute("hidden")

    driver.find_element(By.ID, "step").click()
    wait_for(driver, lambda: driver.find_element(By.ID, "step-panel").is_displayed())
    read = {name: np.array(json.loads(driver.find_element(By.ID, f"step-{name}").get_attribute("data-matrix")))
            for name in ("A-0", "W-1", "b-1", "W-2", "b-2", "dW-1", "db-1", "dW-2")}
    assert read["dW-1"].shape == (2, 4) and np.any(read["dW-1"] != 0)
    assert "mini-batch of m = 16" in driver.find_element(By.ID, "step-summary").text
    # dW read from the page is backpropagation of that batch, recomputed by reference.py
    Y = np.array(driver.execute_script("return window.lastStep.Y"))
    layers = [ref.Layer(read["W-1"], read["b-1"], "tanh"), ref.Layer(read["W-2"], read["b-2"], "sigmoid")]
    grads, _ = ref.backward(layers, read["A-0"], Y, "binary_cross_entropy")
    np.testing.assert_allclose(read["dW-1"], grads[0][0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(read["dW-2"], grads[1][0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(read["db-1"], grads[0][1], rtol=1e-4, atol=1e-6)

    driver.find_element(By.ID, "save").click()
    path = downloads / "playground.fmlp"
    wait_for(driver, lambda: path.exists() and path.stat().st_size > 0 and
             not list(downloads.glob("*.crdownload")), seconds=30)
    model = fm.load(path)
    assert [layer.activation for layer in model.layers] == ["tanh", "sigmoid"]
    assert not np.allclose(model.layers[0].W, read["W-1"])    # the step changed the weights it showed
    state = server_state(server)
    boundary = state["boundary"]
    x0_low, x0_high, x1_low, x1_high = boundary["extent"]
    size = boundary["size"]
    grid_x, grid_y = np.meshgrid(np.linspace(x0_low, x0_high, size), np.linspace(x1_high, x1_low, size))
    p = model.predict(np.column_stack([grid_x.ravel(), grid_y.ravel()]))[:, 0]
    np.testing.assert_allclose(np.array(boundary["probabilities"]).reshape(-1, 2)[:, 1], p, atol=6e-4)
