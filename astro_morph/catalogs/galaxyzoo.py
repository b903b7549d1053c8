"""Galaxy Zoo 1 label curation: high-probability (HP) and full-overlap (FO) sets, splits.

Galaxy Zoo 1 (Lintott et al. 2011) gives each galaxy the fraction of
volunteer votes for elliptical and for spiral (clockwise, anticlockwise and
edge-on together), raw and corrected for the classification bias with
redshift (``debiased``). Khan et al. (2019) test on two kinds of set:

- **HP**, high probability: galaxies whose debiased spiral fraction is at
  least 0.985 or whose debiased elliptical fraction is at least 0.926 (the
  thresholds of Khan et al. 2019, Sec. 2; keyword arguments here);
- **FO**, full overlap: every galaxy with the clean GZ1 ``spiral`` or
  ``elliptical`` flag, i.e. a debiased fraction above 0.8 (Lintott et al.
  2011, Sec. 3), the harder, more representative set.
"""

import numpy as np
from astropy.table import Table

from astro_morph.catalogs.labels import labels_from_votes
from astro_morph.exceptions import InputError
from astro_morph.utils.provenance import provenance

__all__ = ["HP_THRESHOLDS", "CLEAN_THRESHOLD", "curate_galaxy_zoo", "split_sets",
           "summarize_sets"]

#: Debiased vote fractions of the high-probability sets (Khan et al. 2019).
HP_THRESHOLDS = {"spiral": 0.985, "elliptical": 0.926}
#: Debiased vote fraction of the GZ1 clean ``spiral``/``elliptical`` flags (Lintott et al. 2011).
CLEAN_THRESHOLD = 0.8

# Accepted spellings of the vote-fraction columns, most trusted first.
_FRACTIONS = {
    "spiral": ("p_cs_debiased", "p_cs"),
    "elliptical": ("p_el_debiased", "p_el"),
}


def _fraction(table, kind):
    names = {name.lower(): name for name in table.colnames}
    for candidate in _FRACTIONS[kind]:
        if candidate in names:
            values = np.ma.filled(np.ma.asarray(table[names[candidate]], dtype=float), np.nan)
            return values, names[candidate]
    raise InputError(f"the table has no {kind} vote fraction: expected a column named one of "
                     f"{list(_FRACTIONS[kind])} (any case), as in Galaxy Zoo 1's tables or "
                     "astro_morph.surveys.galaxy_zoo_labels.")


def curate_galaxy_zoo(table, *, spiral_threshold=HP_THRESHOLDS["spiral"],
                      elliptical_threshold=HP_THRESHOLDS["elliptical"],
                      clean_threshold=CLEAN_THRESHOLD):
    """Label a Galaxy Zoo 1 table and mark its high-probability and full-overlap members.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Galaxy Zoo 1 rows with vote fractions: ``p_cs_debiased`` and
        ``p_el_debiased`` (or, failing those, the raw ``p_cs`` and ``p_el``),
        in any letter case.
    spiral_threshold, elliptical_threshold : float
        Smallest vote fraction of an HP spiral / elliptical.
    clean_threshold : float
        Smallest vote fraction of an FO galaxy (GZ1's clean flags: 0.8).

    Returns
    -------
    curated : `~astropy.table.Table`
        A copy of ``table`` with ``label`` (``"spiral"``, ``"elliptical"`` or
        `~astro_morph.catalogs.NEITHER`, ``"uncertain"``), ``hp`` and ``fo``
        (booleans); the thresholds and counts are in ``meta["galaxy_zoo"]``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> gz = Table({"P_CS_DEBIASED": [0.99, 0.85, 0.10, 0.02, 0.5],
    ...             "P_EL_DEBIASED": [0.01, 0.10, 0.88, 0.95, 0.5]})
    >>> curated = curate_galaxy_zoo(gz)
    >>> curated["label"].tolist()
    ['spiral', 'spiral', 'elliptical', 'elliptical', 'uncertain']
    >>> curated["hp"].tolist(), curated["fo"].tolist()
    ([True, False, False, True, False], [True, True, True, True, False])
    """
    for name, value in (("spiral_threshold", spiral_threshold),
                        ("elliptical_threshold", elliptical_threshold),
                        ("clean_threshold", clean_threshold)):
        if not 0.5 < value <= 1:
            raise InputError(f"{name} must be a vote fraction in (0.5, 1], got {value}.")
    if max(spiral_threshold, elliptical_threshold) < clean_threshold:
        raise InputError("the HP thresholds must not be looser than clean_threshold "
                         "(HP sets are subsets of the FO set).")
    p_spiral, spiral_column = _fraction(table, "spiral")
    p_elliptical, elliptical_column = _fraction(table, "elliptical")
    is_spiral = p_spiral >= clean_threshold
    is_elliptical = p_elliptical >= clean_threshold
    curated = Table(table, copy=True)
    curated["label"] = labels_from_votes(p_spiral, p_elliptical, clean_threshold, clean_threshold)
    curated["fo"] = is_spiral | is_elliptical
    curated["hp"] = ((is_spiral & (p_spiral >= spiral_threshold))
                     | (is_elliptical & (p_elliptical >= elliptical_threshold)))
    curated.meta["galaxy_zoo"] = provenance(
        "curate_galaxy_zoo", spiral_column=spiral_column, elliptical_column=elliptical_column,
        spiral_threshold=spiral_threshold, elliptical_threshold=elliptical_threshold,
        clean_threshold=clean_threshold, n_fo=int(curated["fo"].sum()),
        n_hp=int(curated["hp"].sum()))
    return curated


def split_sets(y, *, fractions=(0.7, 0.15, 0.15), seed=0,
               names=("train", "validation", "test")):
    """Stratified random split of labelled rows into named sets.

    Parameters
    ----------
    y : sequence
        The class of each row (e.g. ``curated["label"]``).
    fractions : sequence of float
        Fraction of the rows in each set (summing to 1).
    seed : int
        Random seed.
    names : sequence of str
        Name of each set.

    Returns
    -------
    split : `~numpy.ndarray` of str
        The set of each row; every class is spread over the sets in proportion.

    Examples
    --------
    >>> split = split_sets(["spiral", "elliptical"] * 10, fractions=(0.5, 0.5), names=("a", "b"))
    >>> sorted(set(split.tolist())), int((split == "a").sum())
    (['a', 'b'], 10)
    """
    from sklearn.model_selection import train_test_split  # on first use: a light import

    y = np.asarray(y)
    fractions = np.asarray(fractions, dtype=float)
    if len(fractions) != len(names) or np.any(fractions <= 0) or \
            not np.isclose(fractions.sum(), 1.0):
        raise InputError(f"fractions must be {len(names)} positive numbers summing to 1 "
                         f"(one per set {list(names)}), got {fractions.tolist()}.")
    split = np.empty(len(y), dtype=f"U{max(len(n) for n in names)}")
    rows = np.arange(len(y))
    left = 1.0
    for name, fraction in zip(names[:-1], fractions[:-1]):
        share = fraction / left
        try:
            taken, rows = train_test_split(rows, train_size=share, stratify=y[rows],
                                           random_state=seed)
        except ValueError as exc:
            raise InputError(f"cannot split {len(y)} rows into {list(names)} with every "
                             f"class in each set: {exc}. Use fewer sets or more galaxies.") \
                from None
        split[taken] = name
        left -= fraction
    split[rows] = names[-1]
    return split


def summarize_sets(sets, *, label_column="label"):
    """The seed paper's data table: spirals and ellipticals in each named set.

    Parameters
    ----------
    sets : dict
        ``{name: Table or sequence of labels}``.
    label_column : str
        Column holding the class when a set is a Table.

    Returns
    -------
    summary : `~astropy.table.Table`
        Columns ``set``, ``spirals``, ``ellipticals``, ``total``.

    Examples
    --------
    >>> summary = summarize_sets({"HP test": ["spiral", "elliptical", "spiral"]})
    >>> int(summary["spirals"][0]), int(summary["total"][0])
    (2, 3)
    """
    rows = []
    for name, content in sets.items():
        labels = np.asarray(content[label_column] if isinstance(content, Table) else content)
        spirals = int(np.sum(labels == "spiral"))
        ellipticals = int(np.sum(labels == "elliptical"))
        rows.append((name, spirals, ellipticals, spirals + ellipticals))
    return Table(rows=rows, names=("set", "spirals", "ellipticals", "total"),
                 dtype=(str, np.int64, np.int64, np.int64))
