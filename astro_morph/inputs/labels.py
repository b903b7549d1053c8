"""Labels as the network learns them: class names or indices to checked indices."""

import numpy as np

from astro_morph.exceptions import InputError

__all__ = ["encode_labels", "training_labels"]


def training_labels(found, y, classes, n_images):
    """The labels to learn from: ``y``, else those the input carried; encoded and
    checked against the number of images (one path for every ``fit``)."""
    labels = found if y is None else y
    if labels is None:
        raise InputError("no labels: pass y, or an input that carries them "
                         "(a labels CSV, class sub-folders, a 'label' column).")
    labels = encode_labels(labels, classes)
    if len(labels) != n_images:
        raise InputError(f"X has {n_images} images but y has {len(labels)} labels.")
    return labels


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
