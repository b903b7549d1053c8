"""The one parser for sky positions, used by every entry point."""

import numpy as np
from astropy import units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.table import Table

from astro_morph.exceptions import InputError

__all__ = ["duplicate_rows", "parse_positions", "find_coordinate_columns"]

# Column names that astronomers commonly use for right ascension and declination,
# in order of preference (compared case-insensitively).
RA_NAMES = ("ra", "ra_deg", "radeg", "raj2000", "ra_icrs", "_raj2000", "alpha_j2000", "ra_j2000")
DEC_NAMES = ("dec", "dec_deg", "decdeg", "dej2000", "decj2000", "dec_icrs", "de_icrs", "_dej2000",
             "delta_j2000", "dec_j2000", "de")

_HOW = ("Give a SkyCoord, a Table with RA/Dec columns (ra/dec, RA/DEC, ra_deg/dec_deg, "
        "RAJ2000/DEJ2000), or an (ra, dec) tuple of Quantities such as "
        "(150.1 * u.deg, 2.2 * u.deg).")


def find_coordinate_columns(table):
    """Return the names of the RA and Dec columns of ``table``.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Any table; its column names are compared case-insensitively with the
        common spellings (``ra``/``dec``, ``RA``/``DEC``, ``ra_deg``, ``RAJ2000``...).

    Returns
    -------
    ra_name, dec_name : str

    Raises
    ------
    InputError
        If no pair of RA/Dec columns is found.

    Examples
    --------
    >>> from astropy.table import Table
    >>> find_coordinate_columns(Table({"RA_DEG": [1.0], "DEC_DEG": [2.0]}))
    ('RA_DEG', 'DEC_DEG')
    """
    lower = {name.lower(): name for name in table.colnames}
    ra = next((lower[n] for n in RA_NAMES if n in lower), None)
    dec = next((lower[n] for n in DEC_NAMES if n in lower), None)
    if ra is None or dec is None:
        raise InputError(
            f"the table has no RA/Dec columns (its columns are {table.colnames}); rename "
            "them to 'ra' and 'dec' (degrees) or add a SkyCoord column. " + _HOW)
    return ra, dec


def _column_angle(column, name):
    unit = getattr(column, "unit", None)
    values = getattr(column, "value", column)
    if np.ma.is_masked(values) or (hasattr(values, "mask") and np.any(values.mask)):
        raise InputError(f"column {name!r} has masked (missing) values; drop those rows first.")
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.number):
        # Sexagesimal strings are common in catalogues; let Angle parse them.
        try:
            return Angle(values, unit=u.hourangle if name.lower().startswith("ra") else u.deg)
        except (ValueError, TypeError) as exc:
            raise InputError(f"column {name!r} is not numeric and not sexagesimal: {exc}") from exc
    try:
        return Angle(values, unit=unit or u.deg)
    except u.UnitsError as exc:
        raise InputError(f"column {name!r} has unit {unit}, which is not an angle.") from exc


def _from_table(table):
    for name in table.colnames:
        if isinstance(table[name], SkyCoord):
            return table[name]
    ra_name, dec_name = find_coordinate_columns(table)
    ra, dec = _column_angle(table[ra_name], ra_name), _column_angle(table[dec_name], dec_name)
    try:
        return SkyCoord(ra, dec, frame="icrs")
    except ValueError as exc:
        raise InputError(f"columns {ra_name!r}/{dec_name!r} are not valid sky positions: "
                         f"{exc}. Check their units (degrees expected).") from exc


def _from_tuple(pair):
    if len(pair) != 2:
        raise InputError(f"a tuple of positions must be (ra, dec), got {len(pair)} items. " + _HOW)
    ra, dec = pair
    if not (isinstance(ra, u.Quantity) and isinstance(dec, u.Quantity)):
        raise InputError("(ra, dec) must be Quantities with angle units, e.g. "
                         "(150.1 * u.deg, 2.2 * u.deg); plain numbers are ambiguous.")
    try:
        return SkyCoord(np.atleast_1d(ra), np.atleast_1d(dec), frame="icrs")
    except (u.UnitsError, ValueError) as exc:
        raise InputError(f"could not make sky positions from (ra, dec): {exc}. " + _HOW) from exc


def parse_positions(positions, *, unique=False, allow_empty=False):
    """Turn any supported description of sky positions into a 1-d ICRS SkyCoord.

    This is the single parser behind every astro_morph entry point that takes
    positions (`~astro_morph.crossmatch`, `~astro_morph.make_cutouts`, ...).

    Parameters
    ----------
    positions : `~astropy.coordinates.SkyCoord`, `~astropy.table.Table` or tuple
        A SkyCoord (scalar or array, any frame); a Table with a SkyCoord column
        or with RA/Dec columns (see ``find_coordinate_columns``) in degrees or
        with angle units; or an ``(ra, dec)`` tuple of angle Quantities.
    unique : bool
        Refuse positions that repeat (within 0.01 arcsec): a catalog stacked
        twice would be classified twice, or leak galaxies from training into
        validation.
    allow_empty : bool
        Return an empty SkyCoord for an input without rows (a Table must
        still have RA/Dec columns) instead of raising.

    Returns
    -------
    coords : `~astropy.coordinates.SkyCoord`
        One-dimensional, in the ICRS frame, at least one entry.

    Raises
    ------
    InputError
        For any other input, an empty input, or non-finite coordinates.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.table import Table
    >>> parse_positions(Table({"RA": [27.952], "DEC": [0.2635]})).dec.deg
    array([0.2635])
    >>> parse_positions((10 * u.deg, -5 * u.deg)).shape
    (1,)
    >>> parse_positions([1, 2])
    Traceback (most recent call last):
    ...
    astro_morph.exceptions.InputError: cannot read sky positions from a list. ...
    """
    if isinstance(positions, SkyCoord):
        coords = positions
    elif isinstance(positions, Table):
        coords = _from_table(positions)
    elif isinstance(positions, tuple):
        coords = _from_tuple(positions)
    else:
        raise InputError(f"cannot read sky positions from a {type(positions).__name__}. " + _HOW)

    coords = coords.icrs
    if coords.isscalar:
        coords = coords.reshape((1,))
    elif coords.ndim != 1:
        coords = coords.ravel()
    if len(coords) == 0 and not allow_empty:
        raise InputError("no positions were given (the catalog is empty); "
                         "pass at least one row.")
    bad = ~(np.isfinite(coords.ra.deg) & np.isfinite(coords.dec.deg))
    if np.any(bad):
        raise InputError(f"{bad.sum()} position(s) are NaN or infinite (rows "
                         f"{np.flatnonzero(bad)[:10].tolist()}); remove or fix them first.")
    if unique:
        repeated = duplicate_rows(coords)
        if len(repeated):
            raise InputError(f"{len(repeated)} position(s) repeat an earlier row (rows "
                             f"{repeated[:10].tolist()}); remove the duplicates first, e.g. "
                             "with astropy.table.unique(table, keys=['ra', 'dec']).")
    return coords


def duplicate_rows(coords, tolerance=0.01 * u.arcsec):
    """Indices of positions that repeat an earlier one to within ``tolerance``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> duplicate_rows(SkyCoord([1, 2, 1] * u.deg, [0, 0, 0] * u.deg)).tolist()
    [2]
    """
    # Round the unit vectors on a grid of the tolerance: equal cells are repeats
    # (a pair straddling a cell edge is missed, which only makes this lenient).
    step = tolerance.to_value(u.rad)
    xyz = np.round(coords.cartesian.xyz.value / step).astype(np.int64).T
    _, first, inverse = np.unique(xyz, axis=0, return_index=True, return_inverse=True)
    return np.flatnonzero(first[inverse.ravel()] != np.arange(len(coords)))
