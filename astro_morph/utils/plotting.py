"""One way to make a Matplotlib figure for a PNG, with no screen and no pyplot state,
and one way to write it (whole or not at all)."""

import os

from matplotlib.figure import Figure

from astro_morph.utils.files import atomic_path

__all__ = ["figure", "save_figure"]


def figure(size=(4, 4)):
    """A Matplotlib `~matplotlib.figure.Figure` of ``size`` inches, for `save_figure`.

    Figures made this way never touch pyplot's global state or a screen.
    """
    return Figure(figsize=size)


def save_figure(fig, path, *, dpi=100):
    """Write ``fig`` to ``path`` through `~astro_morph.utils.files.atomic_path`.

    The image is written to a temporary file beside ``path`` and renamed over it,
    so a killed process leaves the previous figure or the new one, never half of
    one. The format follows the extension of ``path`` (PNG, PDF, SVG...; PNG when
    it has none).

    Returns
    -------
    path : str
    """
    path = os.fspath(path)
    with atomic_path(path, overwrite=True) as tmp:
        fig.savefig(tmp, dpi=dpi, format=os.path.splitext(path)[1][1:].lower() or "png")
    return path
