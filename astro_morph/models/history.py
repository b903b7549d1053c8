"""Training curves of a classifier, as a PNG."""

from astro_morph.exceptions import InputError
from astro_morph.utils.plotting import figure, save_figure

__all__ = ["plot_history"]


def plot_history(history, path):
    """Write training curves (loss and accuracy, training and validation) as a PNG.

    Parameters
    ----------
    history : dict
        ``{metric: [value per epoch]}``, e.g. a fitted classifier's ``history_``.
    path : str
        The PNG file.
    """
    if not history.get("loss"):
        raise InputError("the training history is empty.")
    fig = figure((8, 3.5))
    left, right = fig.subplots(1, 2)
    for key, ax in (("loss", left), ("accuracy", right)):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + key in history:
                ax.plot(history[prefix + key], style, label=(prefix or "train_") + key)
        ax.set(xlabel="epoch", ylabel=key)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    return path
