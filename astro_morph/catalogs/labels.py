"""The label rule, in one place: class names, the positive class, the threshold, votes.

Every stage that turns a probability into a class, finds the positive
column of a classifier or turns Galaxy Zoo votes into labels uses these.
"""

import numpy as np

from astro_morph.exceptions import InputError

__all__ = ["CLASSES", "POSITIVE_CLASS", "NEGATIVE_CLASS", "NEITHER", "THRESHOLD",
           "positive_index", "classes_from_probability", "predicted_index", "labels_from_votes"]

#: The two morphology classes, the positive (``p_spiral``) one last.
CLASSES = ("elliptical", "spiral")
#: The class whose probability is ``p_spiral``.
POSITIVE_CLASS = "spiral"
#: The other class of a two-class model.
NEGATIVE_CLASS = "elliptical"
#: The label of a galaxy whose votes reach neither class's threshold.
NEITHER = "uncertain"
#: A galaxy is called spiral when ``p_spiral >= THRESHOLD``.
THRESHOLD = 0.5


def positive_index(classes):
    """Column of the positive class among ``classes``: ``"spiral"``, else the last.

    Examples
    --------
    >>> positive_index(("elliptical", "spiral")), positive_index(("a", "b", "c"))
    (1, 2)
    """
    classes = list(classes)
    return classes.index(POSITIVE_CLASS) if POSITIVE_CLASS in classes else len(classes) - 1


def classes_from_probability(p_spiral, *, threshold=THRESHOLD, classes=CLASSES):
    """Class names from the probability of the positive class (``p >= threshold``).

    Parameters
    ----------
    p_spiral : array-like
        Probabilities of the positive class.
    threshold : float
        In [0, 1].
    classes : tuple of str
        The two classes, the positive one last.

    Examples
    --------
    >>> classes_from_probability([0.2, 0.5, 0.9]).tolist()
    ['elliptical', 'spiral', 'spiral']
    """
    if not 0 <= threshold <= 1:
        raise InputError(f"threshold must be in [0, 1], got {threshold!r}.")
    p_spiral = np.asarray(p_spiral, dtype=float)
    return np.where(p_spiral >= threshold, classes[-1], classes[0])


def predicted_index(proba, classes):
    """The class index of each row of ``proba`` (N, n_classes).

    Two classes: the positive one where its probability reaches `THRESHOLD`
    (the rule of ``p_spiral >= 0.5`` everywhere); more: the most probable.

    Examples
    --------
    >>> predicted_index(np.array([[0.5, 0.5], [0.7, 0.3]]), ("elliptical", "spiral")).tolist()
    [1, 0]
    """
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise InputError(f"probabilities must be (N, {len(classes)}), got {proba.shape}.")
    if len(classes) == 2:
        positive = positive_index(classes)
        return np.where(proba[:, positive] >= THRESHOLD, positive, 1 - positive)
    return np.argmax(proba, axis=1)


def labels_from_votes(p_spiral, p_elliptical, spiral_threshold, elliptical_threshold):
    """Galaxy Zoo vote fractions to labels: ``"spiral"``, ``"elliptical"`` or `NEITHER`.

    A galaxy is a spiral when its spiral fraction reaches ``spiral_threshold``,
    an elliptical when its elliptical fraction reaches ``elliptical_threshold``
    (Galaxy Zoo 1's clean flags: 0.8 of the debiased votes; 0/1 flags with
    thresholds of 1 give the flags' labels).

    Examples
    --------
    >>> labels_from_votes([0.9, 0.1, 0.5], [0.1, 0.9, 0.5], 0.8, 0.8).tolist()
    ['spiral', 'elliptical', 'uncertain']
    """
    spiral = np.asarray(p_spiral, dtype=float) >= spiral_threshold
    elliptical = np.asarray(p_elliptical, dtype=float) >= elliptical_threshold
    if np.any(spiral & elliptical):
        raise InputError("a galaxy reached both the spiral and the elliptical threshold; "
                         "use thresholds above 0.5.")
    return np.where(spiral, POSITIVE_CLASS, np.where(elliptical, NEGATIVE_CLASS, NEITHER))
