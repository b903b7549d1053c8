"""How a galaxy is framed in its cutout: sky field, pixels, resampling, sky, bands.

A model learns galaxies at one framing; shown them at another it sees
other objects. The framing that made a model's training images is stored
in its model file, and every entry point that cuts images for the model
uses it (see `~astro_morph.MorphologyClassifier` and `~astro_morph.classify`).
"""

import dataclasses

import numpy as np
from astropy import units as u
from astropy.table import Table

from astro_morph.exceptions import InputError
from astro_morph.imaging.background import BACKGROUND_METHODS
from astro_morph.imaging.cutouts import RESAMPLING
from astro_morph.utils.validate import check_quantity

__all__ = ["Framing", "parse_framing"]


def _pixels(value):
    if isinstance(value, u.Quantity):
        if value.unit != u.pixel:
            raise InputError(f"size must be a number of pixels (e.g. 128 * u.pixel), "
                             f"got {value!r}.")
        value = value.value
    if not float(value).is_integer() or value < 8:
        raise InputError(f"size must be a whole number of pixels, at least 8, got {value!r}.")
    return int(value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Framing:
    """How galaxies are cut out of survey images for a model.

    Parameters
    ----------
    field : `~astropy.units.Quantity` or float
        Width of the sky shown in each cutout (arcsec if a float), before
        the network's central crop (`~astro_morph.inputs.Preprocessing`).
        Default 100 arcsec: Galaxy Zoo images show ten Petrosian R90 of the
        galaxy, and R90 = 10" is a typical bright SDSS galaxy.
    size : int or `~astropy.units.Quantity`
        Cutout side in pixels; the pixel scale is ``field / size``.
    resampling : {'fast', 'exact'}
        See `~astro_morph.make_cutouts`.
    background : {'border', 'mesh'} or None
        Sky subtraction of `~astro_morph.make_cutouts`.
    recenter : bool
        Move each cutout onto the galaxy's flux centroid.
    radius_column : str, optional
        A catalog column with each galaxy's Petrosian R90 (angle or arcsec):
        each galaxy is then framed in ``radius_factor`` times it, as Galaxy
        Zoo images are, and ``field`` is used for rows of tables without it.
    radius_factor : float
        Field width in units of R90 with a ``radius_column``.
    bands : tuple of str, optional
        The three bands made into colour, bluest first; default the
        survey's colour bands (g, r, i for SDSS and DES).

    Examples
    --------
    >>> import astropy.units as u
    >>> framing = Framing(field=25.344 * u.arcsec, size=64)
    >>> framing.pixel_scale
    <Quantity 0.396 arcsec / pix>
    >>> Framing.from_dict(framing.to_dict()) == framing
    True
    """

    field: float = 100.0
    size: int = 128
    resampling: str = "fast"
    background: str | None = "border"
    recenter: bool = False
    radius_column: str | None = None
    radius_factor: float = 10.0
    bands: tuple | None = None

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)
        set_("field", check_quantity("field", self.field, u.arcsec, low=0,
                                    default_unit=u.arcsec))
        set_("size", _pixels(self.size))
        if self.resampling not in RESAMPLING:
            raise InputError(f"resampling must be one of {RESAMPLING}, not {self.resampling!r}.")
        if self.background is not None and self.background not in BACKGROUND_METHODS:
            raise InputError(f"background must be one of {BACKGROUND_METHODS} or None, "
                             f"not {self.background!r}.")
        set_("recenter", bool(self.recenter))
        if not (isinstance(self.radius_factor, (int, float)) and self.radius_factor > 0):
            raise InputError(f"radius_factor must be a positive number, "
                             f"got {self.radius_factor!r}.")
        set_("radius_factor", float(self.radius_factor))
        if self.bands is not None:
            set_("bands", tuple(self.bands))

    @property
    def pixel_scale(self):
        """Pixel scale of cutouts of ``field`` (arcsec / pixel)."""
        return self.field / self.size * u.arcsec / u.pixel

    def replace(self, **changes):
        """A copy with some settings changed (checked as in the constructor)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """Plain JSON-able settings (the model file's record)."""
        record = dataclasses.asdict(self)
        record["bands"] = None if self.bands is None else list(self.bands)
        return record

    @classmethod
    def from_dict(cls, record):
        """The inverse of `to_dict`."""
        return cls(**record)

    def fields(self, table, n_rows):
        """Width in arcsec of the sky field of each row (``radius_factor`` R90, or ``field``).

        Parameters
        ----------
        table : `~astropy.table.Table`, SkyCoord or other positions
            The catalog (read for ``radius_column`` when it is a Table).
        n_rows : int
        """
        if self.radius_column is None or not isinstance(table, Table):
            return np.full(n_rows, self.field)
        if self.radius_column not in table.colnames:
            raise InputError(f"radius_column {self.radius_column!r} is not a column of the "
                             f"table; its columns are {table.colnames[:10]}.")
        radius = table[self.radius_column]
        if getattr(radius, "unit", None) is not None:
            radius = u.Quantity(radius).to_value(u.arcsec)
        fields = self.radius_factor * np.ma.filled(np.ma.asarray(radius, dtype=float), np.nan)
        if not np.all(np.isfinite(fields) & (fields > 0)):
            raise InputError(f"radius_column {self.radius_column!r} must hold positive, "
                             "finite radii (drop or fill the other rows).")
        return fields

    def cutout_kwargs(self, field):
        """Options of `~astro_morph.make_cutouts` for cutouts of ``field`` arcsec."""
        return {"size": self.size, "pixel_scale": field / self.size * u.arcsec / u.pixel,
                "bands": self.bands, "resampling": self.resampling,
                "background": self.background, "recenter": self.recenter}


def parse_framing(framing, default):
    """A `Framing` from what a caller gave: None (``default``), a Framing, a field width
    (angle: only the field changes) or a dict of settings to change in ``default``.

    Examples
    --------
    >>> import astropy.units as u
    >>> parse_framing(80 * u.arcsec, Framing()).field
    80.0
    """
    default = default if default is not None else Framing()
    if framing is None:
        return default
    if isinstance(framing, Framing):
        return framing
    if isinstance(framing, dict):
        return default.replace(**framing)
    if isinstance(framing, u.Quantity):
        return default.replace(field=framing)
    raise InputError(f"framing must be a Framing, a field width (e.g. 80 * u.arcsec) or a "
                     f"dict of Framing settings, got {type(framing).__name__}.")
