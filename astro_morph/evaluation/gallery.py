"""Mosaics of colour cutouts, as PNG files."""

import numpy as np

from astro_morph.exceptions import InputError

__all__ = ["save_mosaic"]


def save_mosaic(rows, path, *, row_labels=None, titles=None, columns=None, panel_size=1.4):
    """Save colour images as a labelled mosaic PNG.

    Parameters
    ----------
    rows : list of `~numpy.ndarray`
        Each a (N, H, W, 3) batch in [0, 1] (e.g. from `~astro_morph.bands_to_rgb`),
        drawn as one row of the mosaic; all rows show the same N objects.
    path : str or path-like
        PNG file to write.
    row_labels : list of str, optional
        Label of each row (e.g. the survey).
    titles : list of str, optional
        Title of each column (e.g. the class and magnitude).
    columns : int, optional
        Show only the first ``columns`` objects.
    panel_size : float, optional
        Width of one image in inches.

    Returns
    -------
    path : str or path-like
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    rows = [np.asarray(r) for r in rows]
    if not rows or any(r.ndim != 4 or r.shape[-1] != 3 for r in rows):
        raise InputError("save_mosaic needs a list of (N, H, W, 3) colour batches.")
    n = min(len(r) for r in rows) if columns is None else min(columns, *(len(r) for r in rows))
    fig = Figure(figsize=(panel_size * n, (panel_size + 0.1) * len(rows) + 0.2))
    axes = fig.subplots(len(rows), n, squeeze=False)
    for i, batch in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            ax.imshow(batch[j], origin="lower", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if titles is not None and i == 0:
                ax.set_title(titles[j], fontsize=5 * panel_size ** 0.5 + 1)
        if row_labels is not None:
            axes[i, 0].set_ylabel(row_labels[i], fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path
