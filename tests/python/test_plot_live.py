"""fm.plot.LivePlot: redraws while fit runs, a bounded number of times, in Jupyter or not."""

import sys
import types

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import fastmlp as fm  # noqa: E402
from fastmlp.plot.live import DRAW_BUDGET  # noqa: E402


class FakeClock:
    """Seconds that move only when told: each epoch and each redraw advance it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def xor_model():
    model = fm.Sequential([fm.Dense(8, activation="tanh"), fm.Dense(1, activation="sigmoid")], seed=0)
    return model.compile(loss="binary_cross_entropy", optimizer=fm.Adam(lr=0.05))


class Ticker(fm.Callback):
    def __init__(self, clock, seconds):
        self.clock, self.seconds = clock, seconds

    def on_epoch_end(self, epoch, logs=None):
        self.clock.now += self.seconds


def run(epochs, epoch_cost, draw_cost, monkeypatch, **options):
    clock = FakeClock()
    live = fm.plot.LivePlot(clock=clock, **options)
    # drawing the curves advances the clock, as a real redraw takes time
    monkeypatch.setattr(live, "_draw_curves", _costly(live._draw_curves, clock, draw_cost))
    X, y = fm.datasets.make_xor(64, random_state=0)
    model = xor_model()
    history = model.fit(X, y, epochs=epochs, validation_split=0.25, callbacks=[Ticker(clock, epoch_cost), live],
                        verbose=0)
    return live, history, clock


def _costly(function, clock, seconds):
    def wrapped(*args, **kwargs):
        clock.now += seconds
        return function(*args, **kwargs)
    return wrapped


def test_live_plot_redraws_the_curves_and_ends_on_the_last_epoch(monkeypatch):
    live, history, _ = run(12, 1.0, 0.01, monkeypatch)
    assert live.redraws == 12 + 1            # one per epoch (each takes a second), plus the final one
    lines = {line.get_label(): line.get_ydata() for line in live.figure.axes[0].get_lines()}
    np.testing.assert_allclose(lines["train"], history.history["loss"])
    np.testing.assert_allclose(lines["validation"], history.history["val_loss"])
    assert live.figure._suptitle.get_text() == "epoch 12"


def test_fast_epochs_are_redrawn_at_most_a_few_times_per_second(monkeypatch):
    # 400 epochs of 10 ms: 4 s of training, at most 4 redraws per second
    live, history, clock = run(400, 0.01, 0.001, monkeypatch, max_redraws_per_second=4)
    assert len(history.history["loss"]) == 400
    assert live.redraws <= 4 * 4 + 2
    assert live.redraws >= 4 * 3             # ... but it does keep redrawing


def test_slow_redraws_take_a_bounded_share_of_the_time(monkeypatch):
    # a redraw as slow as 0.3 s waits 0.3 / DRAW_BUDGET = 10 s before the next: 30 s of
    # training get the first redraw, one per 10 s after it, and the final one
    live, _, clock = run(3000, 0.01, 0.3, monkeypatch)
    spacing = 0.3 / DRAW_BUDGET
    assert 3 <= live.redraws <= 2 + clock.now / spacing
    assert live.redraws * 0.3 <= DRAW_BUDGET * clock.now + 2 * 0.3


def test_decision_boundary_panel_follows_the_model(monkeypatch):
    X, y = fm.datasets.make_xor(64, random_state=0)
    live, _, _ = run(5, 1.0, 0.0, monkeypatch, X=X, y=y, resolution=20)
    boundary = live.figure.axes[-1]
    regions = np.asarray(boundary.collections[0].get_array()).reshape(20, 20)
    assert boundary.get_title() == "decision boundary"
    assert set(np.unique(regions)) <= {0, 1}
    with pytest.raises(ValueError, match="2 features"):
        fm.plot.LivePlot(X=np.zeros((4, 3)), y=np.zeros(4))
    with pytest.raises(ValueError, match="both"):
        fm.plot.LivePlot(X=X)


def test_outside_jupyter_nothing_is_displayed_and_in_jupyter_the_figure_updates(monkeypatch):
    calls = []

    class Handle:
        def update(self, figure):
            calls.append(("update", figure))

    def display(figure, display_id=False):
        calls.append(("display", figure))
        return Handle()

    fake = types.ModuleType("IPython.display")
    fake.display = display
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    live, _, _ = run(3, 1.0, 0.0, monkeypatch)                     # display=None, no Jupyter kernel
    assert live.display is False and calls == []
    live, _, _ = run(3, 1.0, 0.0, monkeypatch, display=True)
    assert [kind for kind, _ in calls] == ["display", "update", "update", "update"]
    assert all(figure is live.figure for _, figure in calls)


def test_live_plot_can_save_each_redraw(tmp_path, monkeypatch):
    path = tmp_path / "live.png"
    run(2, 1.0, 0.0, monkeypatch, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="max_redraws_per_second"):
        fm.plot.LivePlot(max_redraws_per_second=0)
