"""What every figure shares: the matplotlib import, a pyplot-free Figure, colours, saving."""
from __future__ import annotations

import os

# Okabe & Ito's palette, safe for the common colour-vision deficiencies. Its yellow
# (#F0E442) is left out: it disappears on a white background.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def require_matplotlib():
    """Import matplotlib, or say which extra installs it."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401
    except ImportError as error:
        raise ImportError("fastmlp's plots need matplotlib, an optional extra: pip install 'fastmlp[plot]'") \
            from error
    return matplotlib


def new_figure(figsize, dpi):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def sequential_colors(count: int) -> list:
    """`count` colours in order (one per layer), from dark blue to green: viridis without its
    yellow end, which is unreadable on white."""
    import matplotlib

    colormap = matplotlib.colormaps["viridis"]
    return [colormap(0.8 * i / max(count - 1, 1)) for i in range(count)]


def legend_outside(ax, **options):
    """A legend to the right of the axes, so it never covers the data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small", **options)


def finish(figure, path):
    """Save the figure as a PNG when a path is given (the extension picks another format)."""
    if path is not None:
        path = os.fspath(path)
        file_format = None if os.path.splitext(path)[1] else "png"
        figure.savefig(path, dpi=figure.dpi, format=file_format)
    return figure
