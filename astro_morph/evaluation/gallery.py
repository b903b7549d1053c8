"""Mosaics of colour cutouts, as PNG files."""

import re

import numpy as np
from astropy.table import Table

from astro_morph.catalogs.labels import POSITIVE_CLASS, THRESHOLD
from astro_morph.exceptions import InputError
from astro_morph.inputs.images import check_image_batch
from astro_morph.utils.plotting import figure, save_figure
from astro_morph.utils.validate import check_integer

__all__ = ["save_mosaic", "save_confident_gallery", "save_misclassified_gallery",
           "save_vote_gallery"]


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
        Title of each column (e.g. the class and magnitude), or one such list
        per row.
    columns : int, optional
        Show only the first ``columns`` objects.
    panel_size : float, optional
        Width of one image in inches.

    Returns
    -------
    path : str or path-like
    """
    if not rows:
        raise InputError("save_mosaic needs a list of (N, H, W, 3) colour batches.")
    rows = [check_image_batch(r, "save_mosaic rows") for r in rows]
    n = min(len(r) for r in rows) if columns is None else min(columns, *(len(r) for r in rows))
    per_row = titles is not None and len(titles) and not isinstance(titles[0], str)
    fig = figure((panel_size * n, (panel_size + 0.1) * len(rows) + 0.2))
    axes = fig.subplots(len(rows), n, squeeze=False)
    for i, batch in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            ax.imshow(batch[j], origin="lower", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            title = titles[i][j] if per_row else titles[j] if titles is not None and i == 0 \
                else None
            if title is not None:
                ax.set_title(title, fontsize=5 * panel_size ** 0.5 + 1)
        if row_labels is not None:
            axes[i, 0].set_ylabel(row_labels[i], fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    return path


def _probabilities(images, p_spiral):
    images = check_image_batch(images, "gallery images")
    p_spiral = np.asarray(p_spiral, dtype=float)
    if len(images) != len(p_spiral):
        raise InputError(f"need N images and N probabilities, got {len(images)} images "
                         f"and {p_spiral.shape} probabilities.")
    return images, p_spiral


def save_confident_gallery(images, p_spiral, path, *, n=10):
    """Save the ``n`` most confident spirals (top row) and ellipticals (bottom row) as a PNG.

    Parameters
    ----------
    images : array
        (N, H, W, 3) colour images in [0, 1].
    p_spiral : sequence of float
        Probability of a spiral for each image (NaN for unclassified ones).
    path : str
        PNG file to write.
    n : int
        Galaxies per row.

    Returns
    -------
    path : str
    """
    images, p_spiral = _probabilities(images, p_spiral)
    valid = np.flatnonzero(np.isfinite(p_spiral))
    spirals = valid[np.argsort(-p_spiral[valid])][:n]
    ellipticals = valid[np.argsort(p_spiral[valid])][:n]
    n = min(len(spirals), len(ellipticals))
    if n == 0:
        raise InputError("no classified image to show.")
    rows = [images[spirals[:n]], images[ellipticals[:n]]]
    titles = [f"p_sp {p_spiral[s]:.2f} / {p_spiral[e]:.2f}" for s, e in
              zip(spirals[:n], ellipticals[:n])]
    return save_mosaic(rows, path, row_labels=["most spiral", "most elliptical"],
                       titles=titles, columns=n)


def save_misclassified_gallery(images, y_true, p_spiral, path, *, n=10, positive=POSITIVE_CLASS):
    """Save the ``n`` most confidently misclassified galaxies as a PNG.

    Each panel's title gives the true class and ``p_spiral``. Returns the
    path, or None when nothing is misclassified (no file is written).
    """
    images, p_spiral = _probabilities(images, p_spiral)
    truth = np.asarray(y_true) == positive
    wrong = np.flatnonzero(np.isfinite(p_spiral) & ((p_spiral >= THRESHOLD) != truth))
    if not len(wrong):
        return None
    worst = wrong[np.argsort(-np.abs(p_spiral[wrong] - 0.5))][:n]
    titles = [f"true {'sp' if truth[i] else 'el'}, p_sp {p_spiral[i]:.2f}" for i in worst]
    return save_mosaic([images[worst]], path, row_labels=["misclassified"], titles=titles)


def save_vote_gallery(images, votes, path, *, answers, n=6):
    """Save, for each answer, the ``n`` galaxies most likely to get it as a PNG row.

    Galaxies are ranked by the answer's fraction of all volunteers: its
    predicted fraction times the probability that its question is asked
    (``<question>_asked``), so a bar needs a disc first. Each panel's title
    gives the two. Masked rows (no image) are left out.

    Parameters
    ----------
    images : array
        (N, H, W, 3) colour images in [0, 1].
    votes : `~astropy.table.Table`
        Predicted votes of the same N galaxies
        (`~astro_morph.MorphologyClassifier.predict_votes`, or the columns
        `~astro_morph.classify` adds, without a prefix).
    path : str
        PNG file to write.
    answers : sequence of str
        Answer columns, one row each (e.g. ``"t03_bar_a06_bar"``).
    n : int
        Galaxies per row.

    Returns
    -------
    path : str

    Raises
    ------
    InputError
        ``votes`` is no table of the images' votes, or lacks an answer.
    """
    images = check_image_batch(images, "gallery images")
    if not isinstance(votes, Table) or len(images) != len(votes):
        raise InputError("votes must be the Table of predict_votes for the same N images, "
                         f"got {type(votes).__name__} for {len(images)} images.")
    answers = [answers] if isinstance(answers, str) else list(answers)
    check_integer("n", n, low=1)
    if not answers:
        raise InputError("answers must name at least one answer column.")
    rows, titles, labels = [], [], []
    for answer in answers:
        asked = [name for name in votes.colnames if name.endswith("_asked")
                 and answer.startswith(name[:-len("_asked")] + "_")]
        if answer not in votes.colnames or not asked:
            raise InputError(f"votes have no column {answer!r} with its question's _asked "
                             "column; pass predict_votes' table and answers of its schema.")
        fraction = np.ma.filled(np.ma.asarray(votes[answer], dtype=float), np.nan)
        reach = np.ma.filled(np.ma.asarray(votes[asked[0]], dtype=float), np.nan)
        score = np.nan_to_num(fraction * reach, nan=-1.0)
        best = np.argsort(-score)[:n]
        rows.append(images[best])
        titles.append([f"{fraction[i]:.2f} x {reach[i]:.2f}" for i in best])
        # "t02_edgeon_a04_yes" -> "edgeon: yes" (Galaxy Zoo 2 names); others as they are.
        match = re.match(r"^t\d+_(.+)_a\d+_(.+)$", answer)
        labels.append(f"{match[1]}: {match[2]}".replace("_", " ") if match else answer)
    return save_mosaic(rows, path, row_labels=labels, titles=titles)
