"""fm.plot for teaching: overlaid runs, the kept epoch, a probability's shading, an SVM's
margin and support vectors, and the gradient flow of a dead network."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.colors import to_hex  # noqa: E402

import fastmlp as fm  # noqa: E402
from fastmlp.plot._common import PALETTE  # noqa: E402

FIGSIZE, DPI = (5.0, 3.0), 50


def test_several_histories_share_the_axes_in_one_colour_each():
    runs = {"sigmoid": {"loss": [0.7, 0.6, 0.5], "val_loss": [0.8, 0.7, 0.65]},
            "relu": {"loss": [0.6, 0.3, 0.1], "val_loss": [0.7, 0.4, 0.3]}}
    figure = fm.plot.plot_history(runs, figsize=FIGSIZE, dpi=DPI)
    assert len(figure.axes) == 1                               # one panel for "loss", both runs in it
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    np.testing.assert_allclose(lines["sigmoid"].get_ydata(), runs["sigmoid"]["loss"])
    np.testing.assert_allclose(lines["relu (validation)"].get_ydata(), runs["relu"]["val_loss"])
    assert to_hex(lines["sigmoid"].get_color()) == to_hex(lines["sigmoid (validation)"].get_color())
    assert to_hex(lines["sigmoid"].get_color()) != to_hex(lines["relu"].get_color())
    assert lines["relu"].get_linestyle() == "-" and lines["relu (validation)"].get_linestyle() == "--"
    assert {to_hex(line.get_color()) for line in lines.values()} <= {c.lower() for c in PALETTE}


def test_a_list_of_real_histories_overlays_too():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, size=40)
    histories = []
    for lr in (0.01, 0.5):
        model = fm.Sequential([fm.Dense(1, activation="sigmoid")], seed=0).compile(
            loss="binary_cross_entropy", optimizer=fm.SGD(lr=lr))
        histories.append(model.fit(X, y, epochs=4, verbose=0))
    figure = fm.plot.plot_history(histories, metrics="loss", figsize=FIGSIZE, dpi=DPI)
    lines = {line.get_label(): line.get_ydata() for line in figure.axes[0].get_lines()}
    np.testing.assert_allclose(lines["run 1"], histories[0].history["loss"])
    np.testing.assert_allclose(lines["run 2"], histories[1].history["loss"])


def test_the_kept_epoch_of_early_stopping_is_marked():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(60, 2)), rng.integers(0, 2, size=60)
    model = fm.Sequential([fm.Dense(16, activation="relu"), fm.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_cross_entropy", optimizer=fm.Adam(lr=0.05))
    stopper = fm.EarlyStopping(patience=3)
    history = model.fit(X, y, epochs=60, validation_split=0.3, callbacks=[stopper], verbose=0)
    figure = fm.plot.plot_history(history, metrics="loss", kept_epoch=stopper, figsize=FIGSIZE, dpi=DPI)
    kept = stopper.best_epoch + 1
    marks = [line for line in figure.axes[0].get_lines() if line.get_label().startswith("weights kept")]
    assert len(marks) == 1 and marks[0].get_label() == f"weights kept: epoch {kept}"
    assert marks[0].get_xdata()[0] == kept
    assert marks[0].get_ydata()[0] == pytest.approx(min(history.history["val_loss"]))
    with pytest.raises(ValueError, match="kept_epoch"):
        fm.plot.plot_history(history, kept_epoch=0)
    with pytest.raises(ValueError, match="dict"):
        fm.plot.plot_history({"a": history, "b": history}, kept_epoch=3)
    with pytest.raises(ValueError, match="yscale"):
        fm.plot.plot_history(history, yscale="sqrt")


def one_sigmoid_unit():
    # p(class 1) = σ(2·x0): 0.5 exactly on x0 = 0
    model = fm.Sequential([fm.Dense(1, activation="sigmoid")], input_dim=2, dtype="float64")
    model.compile(loss="binary_cross_entropy")
    model.layers[0].W = [[2.0], [0.0]]
    model.layers[0].b = [0.0]
    return model


def test_probability_shading_is_the_model_s_probability_with_the_half_contour():
    model = one_sigmoid_unit()
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-0.5, 0.8], [0.7, -0.4]])
    figure = fm.plot.plot_decision_boundary(model, X, [0, 1, 0, 1], resolution=21, show="probability",
                                            figsize=FIGSIZE, dpi=DPI)
    ax = figure.axes[0]
    shading = np.asarray(ax.collections[0].get_array()).reshape(21, 21)
    grid_x = np.linspace(-1.16, 1.16, 21)                      # 8% margin of the 2-wide range
    expected = 1.0 / (1.0 + np.exp(-2.0 * grid_x))
    np.testing.assert_allclose(shading, np.broadcast_to(expected, (21, 21)), rtol=1e-12)
    half = [c for c in ax.collections if hasattr(c, "levels") and list(c.levels) == [0.5]]
    assert len(half) == 1
    assert len(figure.axes) == 2                              # the colour bar
    svm = fm.Sequential([fm.Dense(1, activation="identity")], input_dim=2).compile(loss="hinge")
    with pytest.raises(ValueError, match="probabilit"):
        fm.plot.plot_decision_boundary(svm, X, [0, 1, 0, 1], show="probability")
    with pytest.raises(ValueError, match="show must be"):
        fm.plot.plot_decision_boundary(model, X, [0, 1, 0, 1], show="odds")


def test_margin_lines_and_support_vectors_of_a_linear_svm():
    # z = x0: the margins are x0 = ±1; support vectors are the samples with t·z <= 1
    model = fm.Sequential([fm.Dense(1, activation="identity")], input_dim=2, dtype="float64").compile(loss="hinge")
    model.layers[0].W = [[1.0], [0.0]]
    model.layers[0].b = [0.0]
    X = np.array([[-3.0, 0.0], [-0.5, 1.0], [0.9, -1.0], [2.0, 2.0], [1.0, 0.5], [-1.0, -2.0]])
    y = np.array([0, 0, 1, 1, 1, 0])
    figure = fm.plot.plot_decision_boundary(model, X, y, resolution=31, show="margin", figsize=FIGSIZE, dpi=DPI)
    ax = figure.axes[0]
    contour = next(c for c in ax.collections if hasattr(c, "levels"))
    assert list(contour.levels) == [-1.0, 0.0, 1.0]
    rings = next(c for c in ax.collections if c.get_label().startswith("support vectors"))
    np.testing.assert_array_equal(rings.get_offsets(), X[[1, 2, 4, 5]])       # t·z = 0.5, 0.9, 1, 1
    assert rings.get_label() == "support vectors (t·z ≤ 1): 4"
    with pytest.raises(ValueError, match="raw output"):
        fm.plot.plot_decision_boundary(one_sigmoid_unit(), X, y, show="margin")


def dead_relu_network():
    layers = [fm.Dense(6, activation="relu") for _ in range(3)] + [fm.Dense(2, activation="softmax")]
    model = fm.Sequential(layers, input_dim=2, dtype="float64", seed=0).compile(loss="cross_entropy")
    model.layers[1].b = np.full(6, -50.0)                    # z < 0 for every sample: layer 1 dies
    rng = np.random.default_rng(2)
    return model, rng.normal(size=(30, 2)), rng.integers(0, 2, size=30)


def test_gradient_flow_draws_a_dead_network_and_marks_its_dead_layers():
    model, X, y = dead_relu_network()
    assert all(np.linalg.norm(g.dW) == 0 for g in model.gradients(X, y))
    figure = fm.plot.plot_gradient_flow(model, X, y, figsize=FIGSIZE, dpi=DPI)
    ax = figure.axes[0]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [0, 1, 2, 3]     # every layer at "0"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["0"]
    spans = [p for p in ax.patches if to_hex(p.get_facecolor()[:3]) == "#d55e00"]
    assert [round(p.get_x() + p.get_width() / 2) for p in spans] == [1, 2]     # layer 1 died, 2 gets zeros
    assert [str(p.get_label()).startswith("dead layer") for p in spans] == [True, False]   # one legend entry
    dead = model.diagnose(X, y).dead_fraction
    assert dead[1] == 1.0 and dead[2] == 1.0 and dead[0] < 1.0


def test_gradient_flow_over_epochs_draws_zero_norms_on_the_zero_line():
    diagnostics = {"grad_norm": [[0.1, 0.0], [0.05, 0.0]], "dead_fraction": [[0.0, 1.0], [0.0, 1.0]]}
    figure = fm.plot.plot_gradient_flow(diagnostics, figsize=FIGSIZE, dpi=DPI)
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    assert "layer 1 (dead)" in lines and "layer 0" in lines
    zero_line = lines["‖dW‖ = 0 (drawn on this line)"]
    assert zero_line.get_ydata()[0] == pytest.approx(0.05 / 10)
