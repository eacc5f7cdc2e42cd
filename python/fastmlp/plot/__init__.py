"""Pictures of training and of what a network computes (needs matplotlib: the `plot` extra).

Every function returns a matplotlib ``Figure`` built without pyplot (no global state, no
backend switching, safe in scripts, servers and notebooks) and saves it as a PNG when
given ``path``. In a notebook, a returned Figure displays itself. Colours come from a
colour-blind-safe palette; legends sit outside the data.

    fm.plot.plot_history(history)                   loss and metric curves; several runs overlaid
    fm.plot.plot_decision_boundary(model, X, y)     class regions, a probability, or an SVM's margin
    fm.plot.plot_activations()                      each activation and its derivative side by side
    fm.plot.plot_gradient_flow(history)             per-layer gradient norms, log scale, dead layers marked
    fm.plot.LivePlot(X, y)                          a callback redrawing the curves while fit runs
"""
from .activations import plot_activations
from .boundary import plot_decision_boundary
from .gradient_flow import plot_gradient_flow
from .history import plot_history
from .live import LivePlot

__all__ = ["plot_history", "plot_decision_boundary", "plot_activations", "plot_gradient_flow", "LivePlot"]
