"""One way to make a Matplotlib figure for a PNG, with no screen and no pyplot state."""

from matplotlib.figure import Figure

__all__ = ["figure"]


def figure(size=(4, 4)):
    """A Matplotlib `~matplotlib.figure.Figure` of ``size`` inches, for ``savefig``.

    Figures made this way never touch pyplot's global state or a screen.
    """
    return Figure(figsize=size)
