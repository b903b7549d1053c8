"""One model on several surveys' images of the same galaxies: results, agreement, bins."""

import numpy as np
from astropy.table import QTable, Table, vstack

from astro_morph.catalogs.labels import POSITIVE_CLASS, THRESHOLD
from astro_morph.classification.classify import classify
from astro_morph.evaluation.metrics import binary_truth, evaluate
from astro_morph.exceptions import InputError
from astro_morph.utils.provenance import provenance
from astro_morph.utils.validate import check_probability

__all__ = ["results_table", "survey_agreement", "accuracy_by_bin", "evaluate_across_surveys"]


def results_table(results, *, positive=POSITIVE_CLASS):
    """The seed paper's results table, one row per test set.

    Parameters
    ----------
    results : dict
        ``{test set name: (y_true, p_spiral)}``.

    Returns
    -------
    table : `~astropy.table.QTable`
        The rows of `~astro_morph.evaluate`, stacked.

    Examples
    --------
    >>> table = results_table({"SDSS": (["spiral", "elliptical"], [0.9, 0.1]),
    ...                        "DES": (["spiral", "elliptical"], [0.4, 0.1])})
    >>> table["test_set"].tolist(), [float(a) for a in table["accuracy"]]
    (['SDSS', 'DES'], [1.0, 0.5])
    """
    if not results:
        raise InputError("results_table needs at least one test set.")
    rows = [evaluate(y, p, name=name, positive=positive) for name, (y, p) in results.items()]
    table = vstack(rows, metadata_conflicts="silent")
    table.meta = rows[0].meta
    return table


def survey_agreement(p_spiral_first, p_spiral_second, *, names=("SDSS", "DES"),
                     threshold=THRESHOLD):
    """How often one model gives the same class to two surveys' images of each galaxy.

    Parameters
    ----------
    p_spiral_first, p_spiral_second : sequence of float
        ``p_spiral`` of the same galaxies, in the same order, from each survey.
    names : tuple of str
        The two surveys.
    threshold : float
        Probability above which a galaxy is called a spiral.

    Returns
    -------
    agreement : `~astropy.table.Table`
        One row: ``n``, ``agreement`` (fraction of galaxies given the same
        class), ``mean_abs_difference`` of ``p_spiral``, and their Pearson
        ``correlation``.

    Examples
    --------
    >>> row = survey_agreement([0.9, 0.2, 0.7, 0.1], [0.8, 0.3, 0.4, 0.2])
    >>> float(row["agreement"][0])
    0.75
    """
    check_probability("threshold", threshold)
    first = np.asarray(p_spiral_first, dtype=float)
    second = np.asarray(p_spiral_second, dtype=float)
    if first.shape != second.shape or first.ndim != 1 or len(first) < 2:
        raise InputError("survey_agreement needs two 1-d p_spiral arrays of the same galaxies "
                         f"(at least 2); got shapes {first.shape} and {second.shape}.")
    good = np.isfinite(first) & np.isfinite(second)
    first, second = first[good], second[good]
    return Table({
        "surveys": [f"{names[0]} vs {names[1]}"], "n": [int(good.sum())],
        "agreement": [float(np.mean((first >= threshold) == (second >= threshold)))],
        "mean_abs_difference": [float(np.mean(np.abs(first - second)))],
        "correlation": [float(np.corrcoef(first, second)[0, 1]) if first.std() and second.std()
                        else float("nan")],
    })


def accuracy_by_bin(y_true, p_spiral, values, bins, *, name="value", threshold=THRESHOLD,
                    positive=POSITIVE_CLASS):
    """Accuracy in bins of a galaxy property (magnitude, size...).

    Parameters
    ----------
    y_true : sequence
        True classes.
    p_spiral : sequence of float
        Probability of the positive class.
    values : sequence of float or `~astropy.units.Quantity`
        The property binned (its unit is kept in the bin edges).
    bins : int or sequence
        Number of equal-count bins, or the bin edges.
    name : str
        Name of the property (column names ``{name}_min``, ``{name}_max``).

    Returns
    -------
    table : `~astropy.table.QTable`
        ``{name}_min``, ``{name}_max``, ``n``, ``accuracy`` and its binomial
        standard error ``accuracy_err``; empty bins are left out.

    Examples
    --------
    >>> table = accuracy_by_bin(["spiral", "elliptical"] * 4, [0.9, 0.1] * 3 + [0.1, 0.9],
    ...                         [14, 15, 16, 17, 18, 19, 20, 21], [14, 18, 22], name="r_mag")
    >>> [float(a) for a in table["accuracy"]]
    [1.0, 0.5]
    """
    check_probability("threshold", threshold)
    truth, proba = binary_truth(y_true, p_spiral, positive)
    unit = getattr(values, "unit", None)
    values = np.asarray(getattr(values, "value", values), dtype=float)
    if len(values) != len(truth):
        raise InputError("y_true, p_spiral and values must have the same length.")
    if np.isscalar(bins):
        edges = np.unique(np.nanquantile(values, np.linspace(0, 1, int(bins) + 1)))
    else:
        edges = np.asarray(getattr(bins, "value", bins), dtype=float)
    index = np.clip(np.digitize(values, edges[1:-1]), 0, len(edges) - 2)
    inside = (values >= edges[0]) & (values <= edges[-1])
    rows = []
    for b in range(len(edges) - 1):
        chosen = inside & (index == b)
        n = int(chosen.sum())
        if n:
            accuracy = float(np.mean((proba[chosen] >= threshold) == truth[chosen]))
            rows.append((edges[b], edges[b + 1], n, accuracy,
                         float(np.sqrt(accuracy * (1 - accuracy) / n))))
    columns = list(zip(*rows)) if rows else [[]] * 5
    table = QTable({f"{name}_min": np.array(columns[0]), f"{name}_max": np.array(columns[1]),
                    "n": np.array(columns[2], dtype=int), "accuracy": np.array(columns[3]),
                    "accuracy_err": np.array(columns[4])})
    if unit is not None:
        table[f"{name}_min"] = table[f"{name}_min"] * unit
        table[f"{name}_max"] = table[f"{name}_max"] * unit
    return table


def evaluate_across_surveys(classifier, matched, sources, *, label_column="label",
                            **classify_kwargs):
    """Classify the same matched galaxies in several surveys and compare.

    Parameters
    ----------
    classifier : `~astro_morph.MorphologyClassifier`
        A fitted or loaded classifier.
    matched : `~astropy.table.Table`
        Crossmatched catalog (e.g. from `~astro_morph.crossmatch`) with true
        classes in ``label_column``.
    sources : dict
        ``{survey name: ImageSource}``.
    **classify_kwargs
        Passed to `~astro_morph.classify` (``framing``, ``radius_column``...).

    Returns
    -------
    results : `~astropy.table.QTable`
        The results table, one row per survey (galaxies outside any survey's
        images are left out of every row, so all rows judge the same galaxies).
    classified : `~astropy.table.Table`
        ``matched`` with ``{survey}_p_spiral``, ``{survey}_morphology`` and
        ``{survey}_flag`` columns for each survey.
    agreement : `~astropy.table.Table`
        `survey_agreement` of the first two surveys (empty with one survey).
    """
    if label_column not in matched.colnames:
        raise InputError(f"matched has no {label_column!r} column with the true classes.")
    if not sources:
        raise InputError("give at least one survey in sources, e.g. {'DES': source}.")
    classified = Table(matched, copy=True)
    for survey, source in sources.items():
        classified = classify(classified, source, classifier=classifier,
                              prefix=f"{survey.lower()}_", **classify_kwargs)
    names = [s.lower() for s in sources]
    good = np.ones(len(classified), dtype=bool)
    for survey in names:
        good &= ~np.ma.getmaskarray(classified[f"{survey}_p_spiral"])
    if not good.any():
        raise InputError("every galaxy is outside at least one survey's images: nothing to "
                         "evaluate; check the sources cover the matched catalog.")
    truth = np.asarray(classified[label_column])[good]
    p = {s: np.ma.filled(classified[f"{s}_p_spiral"], np.nan)[good] for s in names}
    results = results_table({survey: (truth, p[survey.lower()]) for survey in sources})
    results.meta["cross_survey"] = provenance("evaluate_across_surveys", n_matched=len(matched),
                                              n_unflagged=int(good.sum()))
    agreement = (survey_agreement(p[names[0]], p[names[1]], names=tuple(sources)[:2])
                 if len(names) > 1 else Table())
    return results, classified, agreement
