"""Classification metrics as astropy Tables, and their plots (ROC, confusion, history)."""

import numpy as np
from astropy.table import QTable
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from astro_morph.catalogs.labels import CLASSES, POSITIVE_CLASS, THRESHOLD
from astro_morph.exceptions import InputError
from astro_morph.utils.plotting import figure, save_figure
from astro_morph.utils.provenance import provenance
from astro_morph.utils.validate import check_probability

__all__ = ["evaluate", "plot_roc", "plot_roc_curves", "plot_confusion",
           "plot_self_training"]


def binary_truth(y_true, p_positive, positive):
    y_true = np.asarray(y_true)
    if y_true.dtype.kind in "US O":
        y_true = (y_true == positive).astype(int)
    p_positive = np.asarray(p_positive, dtype=float)
    if y_true.shape != p_positive.shape or y_true.ndim != 1:
        raise InputError(f"y_true and p_spiral must be 1-d of equal length, got "
                         f"{y_true.shape} and {p_positive.shape}.")
    if not np.all(np.isfinite(p_positive)) or p_positive.min() < 0 or p_positive.max() > 1:
        raise InputError("p_spiral must hold probabilities in [0, 1] (drop flagged rows).")
    if set(np.unique(y_true)) - {0, 1}:
        raise InputError("y_true must hold two classes (names or 0/1).")
    return y_true.astype(int), p_positive


def evaluate(y_true, p_spiral, *, threshold=THRESHOLD, positive=POSITIVE_CLASS, name="test"):
    """The seed paper's results table: precision, recall, FPR, accuracy, F1, ROC AUC.

    Parameters
    ----------
    y_true : sequence
        True classes (names, with ``positive`` the positive one, or 0/1).
    p_spiral : sequence of float
        Probability of the positive class.
    threshold : float
        Probability above which a galaxy is called positive.
    positive : str
        Name of the positive class.
    name : str
        Label of the row (the test set).

    Returns
    -------
    table : `~astropy.table.QTable`
        One row, computed with scikit-learn's metrics.

    Examples
    --------
    >>> row = evaluate(["spiral", "elliptical", "spiral", "elliptical"], [0.9, 0.2, 0.6, 0.7])
    >>> float(row["accuracy"][0]), float(row["roc_auc"][0])
    (0.75, 0.75)
    """
    check_probability("threshold", threshold)
    truth, proba = binary_truth(y_true, p_spiral, positive)
    predicted = (proba >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(truth, predicted, labels=[0, 1]).ravel()
    both = len(np.unique(truth)) == 2
    table = QTable({
        "test_set": [name], "n": [len(truth)],
        "precision": [precision_score(truth, predicted, zero_division=0)],
        "recall": [recall_score(truth, predicted, zero_division=0)],
        "fpr": [fp / (fp + tn) if fp + tn else 0.0],
        "accuracy": [accuracy_score(truth, predicted)],
        "f1": [f1_score(truth, predicted, zero_division=0)],
        "roc_auc": [roc_auc_score(truth, proba) if both else np.nan],
    })
    for column in ("precision", "recall", "fpr", "accuracy", "f1", "roc_auc"):
        table[column].info.format = ".4f"
    table.meta["evaluate"] = provenance("evaluate", threshold=threshold, positive=positive)
    return table


def plot_roc(y_true, p_spiral, path, *, positive=POSITIVE_CLASS, label=None):
    """Write the ROC curve as a PNG and return its path."""
    return plot_roc_curves({label or "model": (y_true, p_spiral)}, path, positive=positive)


def plot_roc_curves(curves, path, *, positive=POSITIVE_CLASS, title="ROC"):
    """Write several ROC curves in one PNG (e.g. one per backbone on one test set).

    Parameters
    ----------
    curves : dict
        ``{label: (y_true, p_spiral)}``.
    path : str
        PNG file to write.

    Returns
    -------
    path : str
    """
    if not curves:
        raise InputError("plot_roc_curves needs at least one (y_true, p_spiral) curve.")
    fig = figure()
    ax = fig.subplots()
    for label, (y_true, p_spiral) in curves.items():
        truth, proba = binary_truth(y_true, p_spiral, positive)
        fpr, tpr, _ = roc_curve(truth, proba)
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(truth, proba):.3f})")
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    return path


def plot_confusion(y_true, p_spiral, path, *, classes=CLASSES, threshold=THRESHOLD):
    """Write the confusion matrix as a PNG and return its path."""
    check_probability("threshold", threshold)
    truth, proba = binary_truth(y_true, p_spiral, classes[1])
    matrix = confusion_matrix(truth, (proba >= threshold).astype(int), labels=[0, 1])
    fig = figure()
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=classes, yticklabels=classes,
           xlabel="predicted", ylabel="true", title="confusion matrix")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    return path


def plot_self_training(history, path):
    """Write test accuracy against the number of galaxies added (`~astro_morph.self_train`)."""
    columns = [c for c in history.colnames if c.startswith("accuracy_")]
    if not len(history) or not columns:
        raise InputError("the self-training history is empty.")
    fig = figure((5, 3.5))
    ax = fig.subplots()
    for column in columns:
        ax.plot(history["n_added"], history[column], "o-", label=column[len("accuracy_"):])
    ax.set(xlabel="galaxies added from their own predictions", ylabel="test accuracy",
           title="recursive training")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    return path
