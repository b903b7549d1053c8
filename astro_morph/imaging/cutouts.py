"""Aligned multi-band cutouts of galaxies on a common north-up grid."""

from dataclasses import KW_ONLY, dataclass, field

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.table import QTable
from tqdm.auto import tqdm

from astro_morph.catalogs.positions import parse_positions
from astro_morph.exceptions import FootprintError, InputError
from astro_morph.imaging.background import BACKGROUND_METHODS, measure_centroid, subtract_background
from astro_morph.imaging.batch import resample_batch
from astro_morph.imaging.grid import local_pixel_area, parse_pixel_scale, parse_size
from astro_morph.logger import log
from astro_morph.surveys.base import ImageSource
from astro_morph.surveys.info import DEFAULT_PIXEL_SCALE, SurveyInfo
from astro_morph.utils.files import atomic_path
from astro_morph.utils.provenance import provenance
from astro_morph.utils.wcs import tan_wcs

__all__ = ["Cutouts", "CutoutGrids", "make_cutouts", "CUTOUT_FLAGS", "RESAMPLING"]

#: Resampling methods of `make_cutouts`.
RESAMPLING = ("exact", "fast")

#: Bit flags set per cutout in `Cutouts.flags`.
CUTOUT_FLAGS = {
    "outside_footprint": 1,   # no image covers the position (data are zeros)
    "partial_coverage": 2,    # some pixels had no data and were set to 0
    "recenter_rejected": 4,   # the centroid moved too far; the catalog position was kept
    "uncalibrated": 8,        # no zero point was known: pixels are in native units
}


class CutoutGrids:
    """The north-up TAN WCS of each cutout, made when asked for (a sequence of WCS).

    Examples
    --------
    >>> from astropy.coordinates import SkyCoord
    >>> grids = CutoutGrids(SkyCoord([10, 11], [0, 1], unit="deg"), 32, 0.4)
    >>> len(grids), grids[1].wcs.crval.tolist()
    (2, [11.0, 1.0])
    """

    def __init__(self, centres, size, scale_arcsec):
        self.centres, self.size, self.scale_arcsec = centres, size, scale_arcsec

    def __len__(self):
        return len(self.centres)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return tan_wcs(self.centres[index], self.size, self.scale_arcsec)


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
    wcs : `CutoutGrids`
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


def _footprint_message(image, coord, band):
    ny, nx = image.data.shape
    corners = image.wcs.pixel_to_world([0, nx - 1, 0, nx - 1], [0, 0, ny - 1, ny - 1])
    return (f"position RA={coord.ra.deg:.5f}, Dec={coord.dec.deg:+.5f} is outside the "
            f"{band}-band image {image.label}, whose WCS covers RA "
            f"{corners.ra.deg.min():.4f}..{corners.ra.deg.max():.4f}, Dec "
            f"{corners.dec.deg.min():+.4f}..{corners.dec.deg.max():+.4f}. Check that the image "
            "is of this galaxy and that its WCS is right (a header that keeps a full-frame "
            "CRPIX is a common defect), or pass on_error='flag' to flag such rows.")


def _resample(image, coord, grid, size, scale_arcsec):
    """Reproject one image onto ``grid``, conserving flux; return (stamp, coverage)."""
    from reproject import reproject_exact  # on first use: a light import

    native_area = local_pixel_area(image.wcs, coord)
    # Side of a native cutout that surely contains the rotated output grid.
    side = int(np.ceil(size * scale_arcsec / np.sqrt(native_area) * 1.5)) + 6
    cut = Cutout2D(image.data, coord, (side, side), wcs=image.wcs, mode="partial",
                   fill_value=np.nan, copy=True)
    # reproject_exact averages surface brightness over exact pixel overlaps; scaling by
    # the ratio of pixel areas turns that back into flux per output pixel.
    stamp, footprint = reproject_exact((cut.data, cut.wcs), grid, shape_out=(size, size))
    stamp *= scale_arcsec**2 / native_area * image.to_nanomaggies
    covered = (footprint > 0.5) & np.isfinite(stamp)
    return stamp, covered.mean()


def _cutout_at(source, coord, bands, size, scale_arcsec, max_blank_fraction):
    """All bands at one position: (stamp (H, W, B), grid WCS, flags). Raises FootprintError."""
    grid = tan_wcs(coord, size, scale_arcsec)
    stamp = np.zeros((size, size, len(bands)), dtype=np.float64)
    flags = 0
    for k, band in enumerate(bands):
        images = source.images_for(band, coord)
        covering = [image for image in images if image.contains(coord)]
        if not covering:
            raise FootprintError(_footprint_message(images[0], coord, band) if images else
                                 f"{source!r} has no {band}-band image at {coord.to_string()}.")
        best, coverage = None, -1.0
        for image in covering:
            resampled, fraction = _resample(image, coord, grid, size, scale_arcsec)
            if fraction > coverage:
                best, coverage, used = resampled, fraction, image
            if fraction == 1.0:
                break
        if coverage < 1.0 - max_blank_fraction:
            raise FootprintError(
                f"the {band}-band cutout at RA={coord.ra.deg:.5f}, Dec={coord.dec.deg:+.5f} "
                f"from {used.label} is {100 * (1 - coverage):.0f}% blank (NaN or off the "
                "image edge); use images that cover the galaxy, or raise max_blank_fraction.")
        if coverage < 1.0:
            flags |= CUTOUT_FLAGS["partial_coverage"]
        if used.zero_point is None:
            flags |= CUTOUT_FLAGS["uncalibrated"]
        stamp[..., k] = np.nan_to_num(best, nan=0.0)
    return stamp, grid, flags


def _batch_at(source, coords, bands, size, scale_arcsec, max_blank_fraction, on_error,
              pixels=None):
    """All bands at many positions, image by image: (data (N, H, W, B), flags (N,)).

    The same choices as `_cutout_at` (the covering image with the best coverage,
    the same flags and errors), with the resampling of `resample_batch`.
    """
    n = len(coords)
    data = np.zeros((n, size, size, len(bands)), dtype=np.float32)
    flags = np.zeros(n, dtype=np.int32)
    bad = np.zeros(n, dtype=bool)
    ra, dec = coords.ra.deg, coords.dec.deg
    for k, band in enumerate(bands):
        coverage = np.full(n, -1.0)
        calibrated = np.ones(n, dtype=bool)
        # Every image the source offers for the batch, each resampled for the
        # positions it covers (and that no image has covered whole yet).
        for image in source.images_for(band, coords):
            rows = np.flatnonzero(image.contains(coords) & (coverage < 1.0))
            if not len(rows):
                continue
            stamps, covered = resample_batch(image, ra[rows], dec[rows], size, scale_arcsec,
                                             pixels=pixels)
            np.nan_to_num(stamps, copy=False, nan=0.0)
            better = covered > coverage[rows]
            chosen = rows[better]
            data[chosen, :, :, k] = stamps if better.all() else stamps[better]
            coverage[chosen] = covered[better]
            calibrated[chosen] = image.zero_point is not None
        failed = coverage < 1.0 - max_blank_fraction
        if on_error == "raise" and np.any(failed & ~bad):
            # The per-galaxy path words the error for the first failing position...
            first = int(np.flatnonzero(failed & ~bad)[0])
            _cutout_at(source, coords[first], bands, size, scale_arcsec, max_blank_fraction)
            # ...unless its exact resampling covers just enough where this one did not.
            raise FootprintError(
                f"the {band}-band cutout at RA={ra[first]:.5f}, Dec={dec[first]:+.5f} is "
                f"{100 * (1 - max(coverage[first], 0)):.0f}% blank (NaN or off the image "
                "edge); use images that cover the galaxy, raise max_blank_fraction, or pass "
                "on_error='flag'.")
        bad |= failed
        flags[coverage < 1.0] |= CUTOUT_FLAGS["partial_coverage"]
        flags[~calibrated] |= CUTOUT_FLAGS["uncalibrated"]
    data[bad] = 0.0
    flags[bad] = CUTOUT_FLAGS["outside_footprint"]
    return data, flags


def _recentered(stamp, grid, background, max_shift):
    """Position of the galaxy's flux centroid in the last band (i for g, r, i), or None."""
    image = stamp[..., -1].copy()
    if background:
        image = subtract_background(image[None, :, :, None], method=background)[0, :, :, 0]
    x, y = measure_centroid(image, search_radius=max_shift + 3)
    centre = (image.shape[0] - 1) / 2
    if not np.isfinite(x) or np.hypot(x - centre, y - centre) > max_shift:
        return None
    return grid.pixel_to_world(x, y)


_RESAMPLING_NOTE = {
    "exact": "reproject_exact per galaxy (flux conserving)",
    "fast": "batched area-averaged bilinear (astro_morph.imaging.resample_batch)",
}


def _exact_cutouts(source, coords, bands, size, scale, max_blank_fraction, on_error,
                   recenter, background, max_shift, progress):
    """Galaxy by galaxy, with `reproject.reproject_exact`."""
    data = np.zeros((len(coords), size, size, len(bands)), dtype=np.float32)
    flags = np.zeros(len(coords), dtype=np.int32)
    centres = []
    for i in tqdm(range(len(coords)), disable=not progress, desc="cutouts", unit="galaxy"):
        coord = coords[i]
        try:
            stamp, grid, flags[i] = _cutout_at(source, coord, bands, size, scale,
                                               max_blank_fraction)
            if recenter:
                moved = _recentered(stamp, grid, background, max_shift)
                if moved is None:
                    flags[i] |= CUTOUT_FLAGS["recenter_rejected"]
                else:
                    coord = moved
                    stamp, grid, flags[i] = _cutout_at(source, coord, bands, size, scale,
                                                       max_blank_fraction)
        except FootprintError:
            if on_error == "raise":
                raise
            stamp = 0.0
            flags[i] = CUTOUT_FLAGS["outside_footprint"]
        data[i] = stamp
        centres.append(coord)
    return data, flags, SkyCoord(centres) if centres else coords


def _fast_cutouts(source, coords, bands, size, scale, max_blank_fraction, on_error,
                  recenter, background, max_shift, pixels):
    """All galaxies together, image by image, with `resample_batch`."""
    data, flags = _batch_at(source, coords, bands, size, scale, max_blank_fraction, on_error,
                            pixels)
    if not recenter:
        return data, flags, coords
    ra, dec = coords.ra.deg.copy(), coords.dec.deg.copy()
    moved_rows, moved = [], []
    for i in np.flatnonzero((flags & CUTOUT_FLAGS["outside_footprint"]) == 0):
        centre = _recentered(data[i].astype(np.float64), tan_wcs(coords[i], size, scale),
                             background, max_shift)
        if centre is None:
            flags[i] |= CUTOUT_FLAGS["recenter_rejected"]
        else:
            moved_rows.append(i)
            moved.append(centre)
    if moved:
        rows = np.asarray(moved_rows)
        moved = SkyCoord(moved)
        data[rows], flags[rows] = _batch_at(source, moved, bands, size, scale,
                                            max_blank_fraction, on_error, pixels)
        ra[rows], dec[rows] = moved.ra.deg, moved.dec.deg
    return data, flags, SkyCoord(ra, dec, unit="deg", frame=coords.frame)


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
    coords = parse_positions(positions)
    bands = source.check_bands(bands)
    scale = parse_pixel_scale(pixel_scale)
    size = parse_size(size, scale)
    max_shift = parse_size(max_recenter_shift, scale) if recenter else 0
    if pixels is not None:
        pixels = np.asarray(pixels)
        if pixels.shape != (size, size) or pixels.dtype != bool or not pixels.any():
            raise InputError(f"pixels must be a boolean ({size}, {size}) mask with at least "
                             f"one True pixel, got {pixels.dtype} {pixels.shape}.")
    source.prefetch(coords, bands)

    if resampling == "fast":
        data, flags, centres = _fast_cutouts(source, coords, bands, size, scale,
                                             max_blank_fraction, on_error, recenter,
                                             background, max_shift, pixels)
    else:
        data, flags, centres = _exact_cutouts(source, coords, bands, size, scale,
                                              max_blank_fraction, on_error, recenter,
                                              background, max_shift, progress)
        if pixels is not None:
            data[:, ~pixels] = 0.0
    if background is not None:
        subtract_background(data, method=background)
    n_bad = int(np.count_nonzero(flags & CUTOUT_FLAGS["outside_footprint"]))
    if n_bad:
        log.warning("%d of %d positions are outside the %s footprint (flagged)",
                    n_bad, len(coords), source.survey.name)
    meta = provenance("make_cutouts", survey=source.survey.key, bands=list(bands), size=size,
                      pixel_scale_arcsec=scale, background=background, recenter=recenter,
                      resampling=_RESAMPLING_NOTE[resampling], flux_unit="nanomaggy")
    return Cutouts(data, centres, CutoutGrids(centres, size, scale), flags, bands,
                   scale * u.arcsec / u.pixel, source.survey, meta=meta)
