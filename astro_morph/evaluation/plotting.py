"""One way to make a Matplotlib figure for a PNG, with no screen and no pyplot state."""

__all__ = ["figure"]


def figure(size=(4, 4)):
    """A Matplotlib `~matplotlib.figure.Figure` of ``size`` inches, for ``savefig``."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    return Figure(figsize=size)
