"""Aligned multi-band cutouts of galaxies on a common north-up grid."""

import inspect
from dataclasses import KW_ONLY, dataclass, field

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import QTable

from astro_morph.catalogs.positions import parse_positions
from astro_morph.exceptions import InputError
from astro_morph.imaging.background import BACKGROUND_METHODS, subtract_background
from astro_morph.imaging.grid import parse_pixel_scale, parse_shift, parse_size
from astro_morph.imaging.stamps import CUTOUT_FLAGS, RESAMPLING, cut_stamps
from astro_morph.logger import log
from astro_morph.surveys.base import ImageSource
from astro_morph.surveys.info import DEFAULT_PIXEL_SCALE, SurveyInfo
from astro_morph.utils.files import atomic_path
from astro_morph.utils.provenance import provenance
from astro_morph.utils.wcs import tan_wcs

__all__ = ["Cutouts", "CutoutGrids", "make_cutouts", "CUTOUT_FLAGS", "RESAMPLING"]


class CutoutGrids:
    """The north-up TAN WCS of each cutout, made when asked for (a sequence of WCS).

    Examples
    --------
    >>> from astropy.coordinates import SkyCoord
    >>> grids = CutoutGrids(SkyCoord([10, 11], [0, 1], unit="deg"), 32, 0.4)
    >>> len(grids), grids[1].wcs.crval.tolist()
    (2, [11.0, 1.0])
    """

    def __init__(self, centres, size, pixel_scale):
        self.centres, self.size, self.pixel_scale = centres, size, pixel_scale

    def __len__(self):
        return len(self.centres)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return tan_wcs(self.centres[index], self.size, self.pixel_scale)


@dataclass
class Cutouts:
    """A batch of aligned cutouts and what describes them.

    Attributes
    ----------
    data : `~numpy.ndarray`
        float32 array of shape (N, H, W, n_bands), in nanomaggies per pixel
        when the images were calibrated.
    positions : `~astropy.coordinates.SkyCoord`
        Centre of each cutout (after recentring, if asked for).
    wcs : ``CutoutGrids``
        North-up TAN WCS of each cutout (``wcs[i]``, made on demand).
    flags : `~numpy.ndarray`
        Bitwise OR of `CUTOUT_FLAGS` per cutout (0 = clean).
    bands : tuple of str
    pixel_scale : `~astropy.units.Quantity`
    survey : `~astro_morph.surveys.SurveyInfo`
        The survey the cutouts were cut from.
    meta : dict
        Provenance (date, versions, options).
    """

    data: np.ndarray
    positions: SkyCoord
    wcs: CutoutGrids
    flags: np.ndarray
    bands: tuple
    pixel_scale: u.Quantity
    survey: SurveyInfo
    _: KW_ONLY
    meta: dict = field(default_factory=dict)

    def __len__(self):
        return self.data.shape[0]

    def flag_names(self, index):
        """Names of the flags set on cutout ``index``."""
        return [name for name, bit in CUTOUT_FLAGS.items() if self.flags[index] & bit]

    def band(self, name):
        """The (N, H, W) stack of one band."""
        if name not in self.bands:
            raise InputError(f"band {name!r} is not in these cutouts; they have {self.bands}.")
        return self.data[..., self.bands.index(name)]

    def to_table(self):
        """Positions and flags as a QTable (one row per cutout)."""
        return QTable({"ra": self.positions.ra.to(u.deg), "dec": self.positions.dec.to(u.deg),
                       "flags": self.flags})

    def write(self, path, *, overwrite=False):
        """Write to one FITS file: an (N, n_bands, H, W) cube and a table of positions.

        The file appears whole or not at all (written beside it, then renamed).
        """
        primary = fits.PrimaryHDU(np.moveaxis(self.data, -1, 1))
        primary.header["BANDS"] = ("".join(self.bands), "band of each plane, in order")
        primary.header["PIXSCALE"] = (self.pixel_scale.to_value(u.arcsec / u.pixel),
                                      "[arcsec/pixel] cutout pixel scale")
        primary.header["SURVEY"] = (self.survey.key, "survey key (astro_morph.SURVEYS)")
        table = fits.BinTableHDU(self.to_table(), name="POSITIONS")
        with atomic_path(path, overwrite=overwrite) as tmp:
            fits.HDUList([primary, table]).writeto(tmp)


_RESAMPLING_NOTE = {
    "exact": "reproject_exact per galaxy (flux conserving)",
    "fast": "batched area-averaged bilinear (astro_morph.imaging.resample_batch)",
}


def make_cutouts(source, positions, *, size=64 * u.pixel, pixel_scale=DEFAULT_PIXEL_SCALE,
                 bands=None, background="border", recenter=False,
                 max_recenter_shift=3 * u.arcsec, on_error="raise", max_blank_fraction=0.5,
                 resampling="fast", pixels=None, progress=False):
    """Cut aligned multi-band stamps of galaxies out of a survey's images.

    Each galaxy gets a north-up, east-left tangent-plane grid centred on it at
    ``pixel_scale``; every band is resampled onto that grid and calibrated to
    nanomaggies. Cutouts of one galaxy from different surveys are therefore
    directly comparable pixel by pixel. By default all galaxies of an image
    are resampled at once (``resampling="fast"``, the default of every entry
    point of astro_morph); ``resampling="exact"`` uses
    `reproject.reproject_exact` galaxy by galaxy (exact pixel overlaps).

    Parameters
    ----------
    source : `~astro_morph.surveys.ImageSource`
        Where the images come from, e.g. a `~astro_morph.FITSImageSource`.
    positions : `~astropy.coordinates.SkyCoord`, `~astropy.table.Table` or tuple
        Galaxy positions, anything `~astro_morph.catalogs.parse_positions` reads.
    size : int or `~astropy.units.Quantity`, optional
        Side of each cutout, in pixels or as an angle. Default 64 pixels.
    pixel_scale : `~astropy.units.Quantity`, optional
        Output pixel scale. Default 0.396 arcsec/pixel (SDSS).
    bands : sequence of str, optional
        Bands to cut, in the order of the output planes. Default the survey's
        colour bands (g, r, i for SDSS and DES).
    background : {'border', 'mesh'} or None, optional
        Subtract the sky with photutils (see
        `~astro_morph.imaging.estimate_background`); None keeps it.
    recenter : bool, optional
        Move each cutout to the flux centroid of the galaxy (measured in the
        last band), when that lies within ``max_recenter_shift``.
    max_recenter_shift : `~astropy.units.Quantity`, optional
        Largest accepted move when recentring. Default 3 arcsec.
    on_error : {'raise', 'flag'}, optional
        What to do with a position off the images or with a mostly blank
        cutout: raise `~astro_morph.FootprintError` (default) or return zeros
        with the ``outside_footprint`` flag so that the rest of a batch goes on.
    max_blank_fraction : float, optional
        Largest fraction of a cutout allowed to lack data. Default 0.5.
    resampling : {'fast', 'exact'}, optional
        ``'exact'``: `reproject.reproject_exact` galaxy by galaxy, exact pixel
        overlaps (flux conserving). ``'fast'`` (default): all galaxies on an image at once
        (`~astro_morph.imaging.resample_batch`: one WCS evaluation, vectorised
        area-averaged bilinear interpolation on all cores), tens of times
        faster for large catalogs; it equals `reproject.reproject_interp` at
        the image's own pixel scale and differs from ``'exact'`` by a few per
        cent of the peak at most when resampling to coarser pixels.
    pixels : `~numpy.ndarray`, optional
        Boolean (size, size) mask of the cutout pixels a caller will use (with
        ``'fast'`` resampling only those are computed; the others are 0, and
        the coverage checks count the computed pixels). For callers that use
        part of each cutout: `~astro_morph.classify` asks for the central crop
        its network sees and the sky pixels of the ``'border'`` background.
    progress : bool, optional
        Show a progress bar (``'exact'`` resampling).

    Returns
    -------
    cutouts : `Cutouts`

    Raises
    ------
    FootprintError
        A position is outside every image of a band, or its cutout is mostly
        blank (with ``on_error='raise'``).
    InputError
        Bad positions, sizes, scales, bands or options.

    See Also
    --------
    bands_to_rgb : colour images of the cutouts.
    astro_morph.classify : cutouts, colour and the network in one call.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astro_morph.surveys import MockSurvey
    >>> mock = MockSurvey(n_galaxies=3, seed=1)
    >>> sdss = mock.source("sdss")
    >>> cutouts = make_cutouts(sdss, mock.catalog("sdss"), size=32 * u.pixel)
    >>> cutouts.data.shape, cutouts.data.dtype
    ((3, 32, 32, 3), dtype('float32'))
    """
    return _cutouts(source, parse_positions(positions), size=size, pixel_scale=pixel_scale,
                    bands=bands, background=background, recenter=recenter,
                    max_recenter_shift=max_recenter_shift, on_error=on_error,
                    max_blank_fraction=max_blank_fraction, resampling=resampling,
                    pixels=pixels, progress=progress)


#: The options of `make_cutouts` and their defaults (its signature is their one source).
_OPTIONS = {name: parameter.default
            for name, parameter in inspect.signature(make_cutouts).parameters.items()
            if parameter.kind is parameter.KEYWORD_ONLY}


def cutouts_at(source, coords, **options):
    """`make_cutouts` of positions already parsed (a `~astropy.coordinates.SkyCoord`).

    What the package's own callers use once they hold the parsed positions of a
    catalogue (`~astro_morph.classify` cuts them chunk by chunk). ``options`` are
    those of `make_cutouts`, with its defaults.
    """
    return _cutouts(source, coords, **{**_OPTIONS, **options})


def _cutouts(source, coords, *, size, pixel_scale, bands, background, recenter,
             max_recenter_shift, on_error, max_blank_fraction, resampling, pixels, progress):
    """The work of `make_cutouts`: options checked, stamps cut, sky subtracted."""
    if not isinstance(source, ImageSource):
        raise InputError(f"source must be an image source such as FITSImageSource({{'g': ..., "
                         f"'r': ..., 'i': ...}}), not {type(source).__name__}.")
    if on_error not in ("raise", "flag"):
        raise InputError(f"on_error must be 'raise' or 'flag', not {on_error!r}.")
    if background is not None and background not in BACKGROUND_METHODS:
        raise InputError(f"background must be one of {BACKGROUND_METHODS} or None, "
                         f"not {background!r}.")
    if not 0 <= max_blank_fraction < 1:
        raise InputError(f"max_blank_fraction must be in [0, 1), got {max_blank_fraction}.")
    if resampling not in RESAMPLING:
        raise InputError(f"resampling must be one of {RESAMPLING}, not {resampling!r}.")
    bands = source.check_bands(bands)
    pixel_scale = parse_pixel_scale(pixel_scale)  # arcsec per pixel from here on
    size = parse_size(size, pixel_scale)
    max_shift = parse_shift(max_recenter_shift, pixel_scale) if recenter else 0.0
    if pixels is not None:
        pixels = np.asarray(pixels)
        if pixels.shape != (size, size) or pixels.dtype != bool or not pixels.any():
            raise InputError(f"pixels must be a boolean ({size}, {size}) mask with at least "
                             f"one True pixel, got {pixels.dtype} {pixels.shape}.")
    source.prefetch(coords, bands)
    data, flags, centres = cut_stamps(
        source, coords, bands=bands, size=size, pixel_scale=pixel_scale,
        max_blank_fraction=max_blank_fraction, on_error=on_error, recenter=recenter,
        background=background, max_shift=max_shift, pixels=pixels, resampling=resampling,
        progress=progress)
    if background is not None:
        subtract_background(data, method=background)
    n_bad = int(np.count_nonzero(flags & CUTOUT_FLAGS["outside_footprint"]))
    if n_bad:
        log.warning("%d of %d positions are outside the %s footprint (flagged)",
                    n_bad, len(coords), source.survey.name)
    # The record's keys carry their unit (pixel_scale_arcsec), as in files written before.
    meta = provenance("make_cutouts", survey=source.survey.key, bands=list(bands), size=size,
                      pixel_scale_arcsec=pixel_scale, background=background, recenter=recenter,
                      resampling=_RESAMPLING_NOTE[resampling], flux_unit="nanomaggy")
    return Cutouts(data, centres, CutoutGrids(centres, size, pixel_scale), flags, bands,
                   pixel_scale * u.arcsec / u.pixel, source.survey, meta=meta)
