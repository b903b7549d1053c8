"""The image-source interface that every survey module implements."""

from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS

from astro_morph.exceptions import InputError
from astro_morph.surveys.info import NANOMAGGY_ZERO_POINT, get_survey

__all__ = ["BandImage", "ImageSource", "position_key", "each_position"]


def position_key(coord):
    """The one cache key of a position: RA and Dec in degrees to 6 decimals (0.004").

    Examples
    --------
    >>> from astropy.coordinates import SkyCoord
    >>> position_key(SkyCoord(27.9520417, 0.2635278, unit="deg"))
    '27.952042,+0.263528'
    """
    return f"{coord.ra.deg:.6f},{coord.dec.deg:+.6f}"


def each_position(coords):
    """The positions of a parsed `~astropy.coordinates.SkyCoord`, scalar or not, one by one."""
    return coords.reshape((1,)) if coords.isscalar else coords


@dataclass
class BandImage:
    """One image in one band: pixel data, its celestial WCS and its calibration.

    Attributes
    ----------
    data : `~numpy.ndarray`
        2-d float array (non-finite pixels are NaN).
    wcs : `~astropy.wcs.WCS`
        Celestial WCS of ``data``.
    band : str
        Filter name.
    zero_point : float or None
        AB zero point of the pixel values; None when unknown (not calibrated).
    label : str
        Where the image came from (a file name), used in messages.
    """

    data: np.ndarray
    wcs: WCS
    band: str
    zero_point: float | None
    label: str

    @property
    def to_nanomaggies(self):
        """Factor that converts pixel values to nanomaggies (1.0 when uncalibrated)."""
        if self.zero_point is None:
            return 1.0
        return 10.0 ** (-0.4 * (self.zero_point - NANOMAGGY_ZERO_POINT))

    def contains(self, coords):
        """Boolean mask: which of ``coords`` fall on this image's pixels."""
        x, y = self.wcs.world_to_pixel(coords)
        ny, nx = self.data.shape
        inside = (x >= -0.5) & (x <= nx - 0.5) & (y >= -0.5) & (y <= ny - 0.5)
        return inside & np.isfinite(x) & np.isfinite(y)


class ImageSource:
    """Base class of all image sources (local FITS files, mock survey, archives).

    A source knows its survey (`~astro_morph.surveys.SurveyInfo`) and, for each
    band, which images cover a position. Subclasses implement `images_for`;
    `~astro_morph.make_cutouts` only ever calls that method, so any source can
    be used wherever a `FITSImageSource` is.
    """

    def __init__(self, survey):
        self.survey = get_survey(survey)

    @property
    def bands(self):
        """Bands this source can provide, blue to red."""
        return self.survey.bands

    def check_bands(self, bands):
        """Return ``bands`` as a tuple, or raise InputError naming the bands available."""
        if bands is None:
            bands = tuple(b for b in self.survey.rgb_bands if b in self.bands) or self.bands
        if isinstance(bands, str):
            bands = tuple(bands) if bands not in self.bands else (bands,)
        bands = tuple(bands)
        unknown = [b for b in bands if b not in self.bands]
        if unknown or not bands:
            raise InputError(f"band(s) {unknown or bands} are not available from {self!r}; "
                             f"choose from {list(self.bands)}.")
        return bands

    def images_for(self, band, coords):
        """Return the `BandImage` objects in ``band`` that may cover ``coords``.

        ``coords`` is a `~astropy.coordinates.SkyCoord` (scalar or not), already
        parsed by the entry point (`~astro_morph.make_cutouts`).
        """
        raise NotImplementedError

    def prefetch(self, coords, bands):
        """Prepare for cutting ``coords`` (a `~astropy.coordinates.SkyCoord`) in ``bands``
        (called once per batch).

        `~astro_morph.make_cutouts` calls this before cutting galaxy by galaxy,
        so that archive sources can look up many positions in one request.
        Local sources have nothing to do.
        """

    def identity(self):
        """A string that changes when the images behind this source change.

        Used to tell whether an interrupted classification may be resumed.
        """
        return repr(self)

    def __repr__(self):
        return f"<{type(self).__name__} {self.survey.name} bands={''.join(self.bands)}>"
