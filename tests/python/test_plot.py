"""fm.plot: each plot renders to a real PNG of the requested size and draws the right data."""

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

import fastmlp as fm  # noqa: E402
import reference as ref  # noqa: E402

FIGSIZE = (4.0, 3.0)
DPI = 50
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_real_png(path, figsize=FIGSIZE, dpi=DPI):
    with open(path, "rb") as file:
        assert file.read(8) == PNG_SIGNATURE
    image = imread(path, format="png")
    height, width = round(figsize[1] * dpi), round(figsize[0] * dpi)
    assert image.shape[:2] == (height, width)
    rgb = image[..., :3].reshape(-1, 3)
    assert rgb.var(axis=0).sum() > 0                        # not one flat colour
    assert len(np.unique(rgb, axis=0)) > 10                 # lines, text and fills, not a blank canvas


def small_classifier():
    """A 2-feature softmax classifier trained briefly on two blobs."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-1.5, 0.6, size=(40, 2)), rng.normal(1.5, 0.6, size=(40, 2))])
    y = np.repeat([0, 1], 40)
    model = fm.Sequential([fm.Dense(6, activation="tanh"), fm.Dense(2, activation="softmax")], seed=0)
    model.compile(loss="cross_entropy", optimizer=fm.SGD(lr=0.2))
    history = model.fit(X, y, epochs=5, batch_size=16, validation_split=0.25, verbose=0, diagnostics=True)
    return model, X, y, history


@pytest.fixture(scope="module")
def trained():
    return small_classifier()


# ---------------------------------------------------------------------------- history

def test_plot_history_draws_train_and_validation_per_metric(trained, tmp_path):
    _, _, _, history = trained
    path = tmp_path / "history.png"
    figure = fm.plot.plot_history(history, path=path, figsize=FIGSIZE, dpi=DPI)
    assert isinstance(figure, Figure)
    assert_real_png(path)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    for ax, name in zip(figure.axes, ("loss", "accuracy")):
        lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
        np.testing.assert_allclose(lines["train"], history.history[name])
        np.testing.assert_allclose(lines["validation"], history.history[f"val_{name}"])


def test_plot_history_takes_a_dict_and_a_choice_of_metrics(tmp_path):
    logs = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.9]}
    figure = fm.plot.plot_history(logs, metrics=["loss"], path=tmp_path / "loss.png", figsize=FIGSIZE, dpi=DPI)
    assert len(figure.axes) == 1
    assert_real_png(tmp_path / "loss.png")
    with pytest.raises(ValueError, match="no 'f1'"):
        fm.plot.plot_history(logs, metrics=["f1"])
    with pytest.raises(ValueError, match="History"):
        fm.plot.plot_history([1, 2, 3])


# ---------------------------------------------------------------------- decision boundary

def test_decision_boundary_of_a_trained_model_renders(trained, tmp_path):
    model, X, y, _ = trained
    path = tmp_path / "boundary.png"
    figure = fm.plot.plot_decision_boundary(model, X, y, resolution=50, path=path, figsize=FIGSIZE, dpi=DPI)
    assert isinstance(figure, Figure)
    assert_real_png(path)


def test_decision_boundary_shows_the_model_s_regions():
    # one sigmoid unit with W = (1, 0), b = -0.5: class 1 exactly where x0 > 0.5
    model = fm.Sequential([fm.Dense(1, activation="sigmoid")], input_dim=2, dtype="float64")
    model.compile(loss="binary_cross_entropy")
    model.layers[0].W = [[1.0], [0.0]]
    model.layers[0].b = [-0.5]
    X = np.array([[-2.0, -1.0], [2.0, 1.0], [0.0, 3.0], [1.0, -3.0]])
    y = np.array([0, 1, 0, 1])
    figure = fm.plot.plot_decision_boundary(model, X, y, resolution=41, figsize=FIGSIZE, dpi=DPI)
    mesh = figure.axes[0].collections[0]
    regions = np.asarray(mesh.get_array()).reshape(41, 41)
    grid_x = np.linspace(X[:, 0].min() - 0.32, X[:, 0].max() + 0.32, 41)     # 8% margin of the 4-wide range
    expected = np.broadcast_to((grid_x > 0.5).astype(int), (41, 41))
    np.testing.assert_array_equal(regions, expected)


class TwoFeatureStub:
    """An estimator-like classifier with string classes: predicts 'b' above the line x1 = x0."""

    classes_ = np.array(["a", "b"])

    def predict_proba(self, X):
        p = (X[:, 1] > X[:, 0]).astype(float)
        return np.column_stack([1 - p, p])


def test_decision_boundary_of_an_estimator_uses_predict_proba_and_classes(tmp_path):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 3.0], [3.0, 1.0]])
    y = np.array(["b", "a", "b", "a"])
    figure = fm.plot.plot_decision_boundary(TwoFeatureStub(), X, y, resolution=30, path=tmp_path / "stub.png",
                                            figsize=FIGSIZE, dpi=DPI)
    assert_real_png(tmp_path / "stub.png")
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == ["a", "b"]
    with pytest.raises(ValueError, match="not among the model's classes"):
        fm.plot.plot_decision_boundary(TwoFeatureStub(), X, np.array(["b", "a", "c", "a"]))


def test_decision_boundary_refuses_other_than_two_features(trained):
    model, X, y, _ = trained
    with pytest.raises(ValueError, match="2 features"):
        fm.plot.plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="2 features"):
        fm.plot.plot_decision_boundary(model, np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="samples but y has"):
        fm.plot.plot_decision_boundary(model, X, y[:-1])


# ---------------------------------------------------------------------------- activations

def test_activations_and_derivatives_are_the_engine_s(tmp_path):
    path = tmp_path / "activations.png"
    figure = fm.plot.plot_activations(z_range=(-4, 4), negative_slope=0.1, path=path, figsize=FIGSIZE, dpi=DPI,
                                      points=81)
    assert_real_png(path)
    axes = np.array(figure.axes).reshape(4, 2)
    for (left, right), name in zip(axes, ("sigmoid", "tanh", "relu", "leaky_relu")):
        z, a = next(line for line in left.get_lines() if line.get_label() == name).get_data()
        _, da = next(line for line in right.get_lines() if line.get_label() == f"{name}'").get_data()
        np.testing.assert_allclose(z, np.linspace(-4, 4, 81))
        np.testing.assert_allclose(a, ref.activation(name, z, 0.1), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(da, ref.activation_derivative(name, z, 0.1), rtol=1e-12, atol=1e-15)
    assert "max f' = 0.25" in [text.get_text() for text in axes[0, 1].texts]


def test_activations_accept_any_elementwise_one_and_refuse_softmax(tmp_path):
    figure = fm.plot.plot_activations(["logistic", "step"], path=tmp_path / "two", figsize=FIGSIZE, dpi=DPI)
    assert_real_png(tmp_path / "two")                   # no extension: still a PNG
    assert figure.axes[0].get_ylabel() == "sigmoid"
    with pytest.raises(ValueError, match="softmax"):
        fm.plot.plot_activations(["relu", "softmax"])
    with pytest.raises(ValueError, match="unknown activation"):
        fm.plot.plot_activations(["swishy"])
    with pytest.raises(ValueError, match="z_range"):
        fm.plot.plot_activations(z_range=(1, -1))


# ---------------------------------------------------------------------------- gradient flow

def test_gradient_flow_over_epochs_from_history(trained, tmp_path):
    _, _, _, history = trained
    path = tmp_path / "flow.png"
    figure = fm.plot.plot_gradient_flow(history, path=path, figsize=FIGSIZE, dpi=DPI)
    assert_real_png(path)
    ax = figure.axes[0]
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert len(lines) == 2                                            # one per layer
    per_epoch = np.array(history.diagnostics["grad_norm"])
    for layer, line in enumerate(lines):
        np.testing.assert_allclose(line.get_ydata(), per_epoch[:, layer])
    same = fm.plot.plot_gradient_flow(history.diagnostics, figsize=FIGSIZE, dpi=DPI)
    assert len(same.axes[0].get_lines()) == 2


def test_gradient_flow_of_one_epoch_is_a_bar_per_layer(tmp_path):
    norms = [1e-7, 1e-5, 0.0, 1e-1]            # a zero cannot sit on a log axis: left out
    figure = fm.plot.plot_gradient_flow(norms, path=tmp_path / "bars.png", figsize=FIGSIZE, dpi=DPI)
    assert_real_png(tmp_path / "bars.png")
    bars = figure.axes[0].patches
    assert [bar.get_height() for bar in bars] == pytest.approx([1e-7, 1e-5, 1e-1])
    assert [round(bar.get_x() + bar.get_width() / 2) for bar in bars] == [0, 1, 3]


def test_gradient_flow_of_a_model_at_initialisation(tmp_path):
    layers = [fm.Dense(8, activation="sigmoid") for _ in range(5)] + [fm.Dense(2, activation="softmax")]
    model = fm.Sequential(layers, input_dim=2, dtype="float64", seed=0).compile(loss="cross_entropy")
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 2)), rng.integers(0, 2, size=20)
    figure = fm.plot.plot_gradient_flow(model, X, y, path=tmp_path / "model.png", figsize=FIGSIZE, dpi=DPI)
    assert_real_png(tmp_path / "model.png")
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    assert heights == pytest.approx([np.linalg.norm(g.dW) for g in model.gradients(X, y)], rel=1e-12)
    from_diagnosis = fm.plot.plot_gradient_flow(model.diagnose(X, y), figsize=FIGSIZE, dpi=DPI)
    assert len(from_diagnosis.axes[0].patches) == 6


def test_gradient_flow_refusals(trained):
    model, X, y, _ = trained
    with pytest.raises(ValueError, match="diagnostics=True"):
        fm.plot.plot_gradient_flow(model.fit(X, y, epochs=1, verbose=0))
    with pytest.raises(ValueError, match="needs data"):
        fm.plot.plot_gradient_flow(model)
    with pytest.raises(ValueError, match="path="):
        fm.plot.plot_gradient_flow([0.1, 0.2], X, y)
    with pytest.raises(ValueError, match="nothing to draw"):
        fm.plot.plot_gradient_flow([0.0, math.nan])


def test_plots_without_matplotlib_name_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)    # makes the import fail
    for draw in (lambda: fm.plot.plot_activations(), lambda: fm.plot.plot_history({"loss": [1.0]}),
                 lambda: fm.plot.plot_gradient_flow([1.0]),
                 lambda: fm.plot.plot_decision_boundary(None, np.zeros((2, 2)), [0, 1])):
        with pytest.raises(ImportError, match=r"pip install 'fastmlp\[plot\]'"):
            draw()
