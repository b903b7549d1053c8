"""One-to-one positional crossmatch of two catalogs."""

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord, search_around_sky
from astropy.table import Column, MaskedColumn, QTable, Table, hstack

from astro_morph.catalogs.positions import parse_positions
from astro_morph.exceptions import InputError
from astro_morph.logger import log
from astro_morph.utils.provenance import provenance

__all__ = ["crossmatch", "match_one_to_one"]


def match_one_to_one(left, right, max_separation):
    """Pair each left position with at most one right position, closest pairs first.

    All pairs closer than ``max_separation`` are found with astropy's
    KD-tree search; they are then accepted in order of increasing separation
    (ties broken by left, then right index), skipping any pair whose left or
    right member is already taken. A source claimed by two targets therefore
    goes to the closer one, and the other target falls back to its next
    nearest free source within ``max_separation``, if any.

    Parameters
    ----------
    left, right : `~astropy.coordinates.SkyCoord`
        One-dimensional coordinates.
    max_separation : `~astropy.units.Quantity`
        Largest accepted separation (angle).

    Returns
    -------
    right_index : `~numpy.ndarray` of int
        For each left position, the index of its match in ``right``, or -1.
    separation : `~astropy.coordinates.Angle`
        Separation of each match (NaN where unmatched).
    """
    left_idx, right_idx, sep, _ = search_around_sky(left, right, max_separation)
    order = np.lexsort((right_idx, left_idx, sep.to_value(u.arcsec)))
    right_index = np.full(len(left), -1, dtype=np.int64)
    separation = np.full(len(left), np.nan)
    right_taken = np.zeros(len(right), dtype=bool)
    sep_arcsec = sep.to_value(u.arcsec)
    for k in order:
        i, j = left_idx[k], right_idx[k]
        if right_index[i] < 0 and not right_taken[j]:
            right_index[i] = j
            separation[i] = sep_arcsec[k]
            right_taken[j] = True
    return right_index, separation * u.arcsec


def _as_table(catalog, name):
    if isinstance(catalog, Table):
        return catalog
    if isinstance(catalog, SkyCoord):
        coords = parse_positions(catalog)
        return QTable({"ra": coords.ra.to(u.deg), "dec": coords.dec.to(u.deg)})
    raise InputError(f"{name} must be an astropy Table with RA/Dec columns or a SkyCoord, "
                     f"not {type(catalog).__name__}.")


def _check_separation(max_separation):
    if not isinstance(max_separation, u.Quantity) or max_separation.unit.physical_type != "angle":
        raise InputError("max_separation must be an angle Quantity, e.g. 1 * u.arcsec, "
                         f"not {max_separation!r}.")
    if not max_separation > 0:
        raise InputError(f"max_separation must be positive, got {max_separation}.")


def crossmatch(left, right, *, max_separation=1 * u.arcsec, join_type="inner",
               right_suffix="_2"):
    """Crossmatch two catalogs one-to-one by sky position.

    Parameters
    ----------
    left, right : `~astropy.table.Table` or `~astropy.coordinates.SkyCoord`
        The catalogs. Tables need RA/Dec columns (any spelling accepted by
        `~astro_morph.catalogs.parse_positions`); a SkyCoord becomes a table
        with ``ra`` and ``dec`` columns.
    max_separation : `~astropy.units.Quantity`, optional
        Largest separation for a match. Default 1 arcsec.
    join_type : {'inner', 'left'}, optional
        ``'inner'`` keeps matched rows only; ``'left'`` keeps every row of
        ``left``, with the right-hand columns masked where there is no match.
    right_suffix : str, optional
        Added to the names of right-hand columns that also exist in ``left``
        (``ra_2``, ``dec_2``...); left-hand columns keep their names, so the
        result can go straight to `~astro_morph.make_cutouts`.

    Returns
    -------
    matched : `~astropy.table.Table`
        The left rows (in their original order) beside their matches, plus
        ``separation`` in arcsec and ``right_index``, the row of ``right``
        matched (-1 where none). ``meta['crossmatch']`` records the counts of
        matched and unmatched rows and the provenance.

    Notes
    -----
    Matching is one-to-one: see ``match_one_to_one`` for how a source claimed by
    two targets is resolved (the closest wins, deterministically).

    Raises
    ------
    InputError
        A catalogue without recognisable RA/Dec columns, a ``max_separation``
        that is not a positive angle, or an unknown ``join_type``.

    See Also
    --------
    parse_positions : which RA/Dec columns and units are understood.
    astro_morph.make_cutouts : cutouts of the matched galaxies.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.table import Table
    >>> sdss = Table({"ra": [10.0, 10.01], "dec": [0.0, 0.0], "r_mag": [16.1, 17.3]})
    >>> des = Table({"ra": [10.01 + 1e-5, 10.0], "dec": [0.0, 0.0], "id": ["b", "a"]})
    >>> matched = crossmatch(sdss, des, max_separation=1 * u.arcsec)
    >>> matched["id"].tolist(), matched["separation"].unit
    (['a', 'b'], Unit("arcsec"))
    """
    _check_separation(max_separation)
    if join_type not in ("inner", "left"):
        raise InputError(f"join_type must be 'inner' or 'left', not {join_type!r}.")
    left_table, right_table = _as_table(left, "left"), _as_table(right, "right")
    left_coords, right_coords = parse_positions(left_table), parse_positions(right_table)

    right_index, separation = match_one_to_one(left_coords, right_coords, max_separation)
    matched = right_index >= 0
    n_matched = int(matched.sum())
    log.info("crossmatch: %d of %d left rows matched within %s (%d unmatched)",
             n_matched, len(left_table), max_separation, len(left_table) - n_matched)

    keep = matched if join_type == "inner" else np.ones(len(left_table), dtype=bool)
    rows_right = Table(right_table[np.where(right_index[keep] >= 0, right_index[keep], 0)],
                       masked=not np.all(matched[keep]), copy=True)
    if not np.all(matched[keep]):
        for name in rows_right.colnames:
            rows_right[name].mask |= ~matched[keep]
    clashes = set(left_table.colnames) | {"separation", "right_index"}
    rows_right.rename_columns(
        [n for n in rows_right.colnames if n in clashes],
        [n + right_suffix for n in rows_right.colnames if n in clashes])
    result = hstack([Table(left_table[keep]), rows_right], join_type="exact",
                    metadata_conflicts="silent")
    column = MaskedColumn if not np.all(matched[keep]) else Column
    kwargs = {"mask": ~matched[keep]} if column is MaskedColumn else {}
    result["separation"] = column(separation[keep].to_value(u.arcsec), unit=u.arcsec,
                                  description="separation of the match", **kwargs)
    result["right_index"] = right_index[keep]
    result.meta["crossmatch"] = provenance(
        "crossmatch", max_separation_arcsec=float(max_separation.to_value(u.arcsec)),
        n_left=len(left_table), n_right=len(right_table), n_matched=n_matched,
        n_unmatched_left=len(left_table) - n_matched, join_type=join_type)
    return result
