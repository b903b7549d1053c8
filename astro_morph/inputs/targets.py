"""Labels as the network learns them: class names, indices or votes, checked."""

import numpy as np
from astropy.table import Table

from astro_morph.exceptions import InputError

__all__ = ["encode_labels", "training_labels", "training_votes", "sample_weights"]

_NO_LABELS = ("no labels: pass y, or an input that carries them (a labels CSV, class "
              "sub-folders, a 'label' column).")


def training_labels(found, y, classes, n_images):
    """The labels to learn from: ``y``, else those the input carried; encoded and
    checked against the number of images (one path for every ``fit``)."""
    labels = found if y is None else y
    if labels is None:
        raise InputError(_NO_LABELS)
    labels = encode_labels(labels, classes)
    if len(labels) != n_images:
        raise InputError(f"X has {n_images} images but y has {len(labels)} labels.")
    return labels


def training_votes(found, y, schema, n_images):
    """The vote counts to learn from, (N, n_answers) for ``schema``; one path for every
    ``fit`` of a network.

    ``y`` (else the labels the input carried) may be class labels (one vote
    each for an answer of ``schema.label_question``), a table of vote
    columns (`~astro_morph.catalogs.Schema.counts_from_table`) or an
    (N, n_answers) array of counts, 0 where a question was not answered.

    Examples
    --------
    >>> from astro_morph.catalogs.trees import GZ1
    >>> training_votes(None, ["elliptical", "edge_on"], GZ1, 2).tolist()
    [[1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]]
    """
    votes = found if y is None else y
    if votes is None:
        raise InputError(_NO_LABELS)
    if isinstance(votes, Table):
        counts = schema.counts_from_table(votes)
    else:
        try:
            array = np.asarray(votes)
        except ValueError:
            raise InputError("y must be class labels, a table of vote columns or an "
                             f"(N, {schema.n_answers}) array of vote counts.") from None
        counts = schema.check_counts(array) if array.ndim == 2 \
            else schema.counts_from_labels(array)
    if len(counts) != n_images:
        raise InputError(f"X has {n_images} images but y has {len(counts)} labels.")
    return counts


def sample_weights(weights, n_images):
    """Checked per-image training weights (float64), or None.

    Examples
    --------
    >>> sample_weights([1, 3], 2).tolist()
    [1.0, 3.0]
    """
    if weights is None:
        return None
    try:
        weights = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("sample_weight must be numbers, one per training image.") from None
    if weights.ndim != 1 or len(weights) != n_images:
        raise InputError(f"sample_weight must hold one number per training image: X has "
                         f"{n_images} images, sample_weight has shape {weights.shape}.")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not np.any(weights > 0):
        raise InputError("sample_weight must be finite and >= 0, with at least one above 0.")
    return weights


def encode_labels(labels, classes):
    """Labels (class names or 0/1...) to integer class indices, checking them."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InputError(f"y must be one-dimensional, got shape {labels.shape}.")
    if labels.dtype.kind in "US O":
        index = {name: k for k, name in enumerate(classes)}
        unknown = sorted({str(v) for v in labels if v not in index})
        if unknown:
            raise InputError(f"unknown label(s) {unknown[:5]}; the classes are {list(classes)} "
                             "(drop other rows first).")
        return np.array([index[v] for v in labels], dtype=np.int32)
    if labels.dtype.kind in "biu" and np.all((labels >= 0) & (labels < len(classes))):
        return labels.astype(np.int32)
    raise InputError(f"y must hold class names {list(classes)} or indices 0..{len(classes) - 1}.")
