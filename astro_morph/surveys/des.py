"""DES DR2 images at a requested WCS through the CDS hips2fits service (astroquery)."""

from urllib.parse import urlencode

import numpy as np
from astropy import units as u

from astro_morph.exceptions import InputError
from astro_morph.surveys.archive import (
    CutoutService,
    EmptyResultError,
    cached_download,
    conf,
    require,
)
from astro_morph.surveys.base import BandImage
from astro_morph.surveys.fits import parse_image_input
from astro_morph.utils.wcs import tan_wcs

__all__ = ["DES"]

_SERVICE = "CDS hips2fits (DES DR2 HiPS)"


class DES(CutoutService):
    """DES DR2 g, r, i images around each position, resampled by CDS hips2fits.

    For each galaxy one FITS image per band is requested at a north-up TAN
    WCS on the DES pixel scale (astroquery's ``hips2fits.query_with_wcs``
    payload), downloaded into astropy's download cache (so reruns and
    ``conf.offline`` use it) and handed to `~astro_morph.make_cutouts`.

    Parameters
    ----------
    bands : str or sequence of str
        DES bands (default g, r, i).
    field : `~astropy.units.Quantity`
        Side of the image fetched around each position (make it at least the
        framing you classify with).
    zero_point : float
        AB zero point of the HiPS pixel values; the DES DR2 coadds, from which
        the HiPS is built, use 30.
    hips : str, optional
        HiPS identifier with a ``{band}`` placeholder (default
        ``astro_morph.surveys.conf.des_hips``).
    progress : bool
        A progress bar per download (``make_cutouts(progress=True)`` shows
        one over the galaxies).
    """

    def __init__(self, *, bands="gri", field=120 * u.arcsec, zero_point=30.0, hips=None,
                 progress=False):
        super().__init__("des", bands=bands, progress=progress)
        self.field = u.Quantity(field, u.arcsec)
        if not 0 < self.field.value <= 3600:
            raise InputError("field must be between 0 and 1 degree.")
        self.zero_point = float(zero_point)
        self.hips = hips or conf.des_hips

    def request_url(self, coord, band):
        """The hips2fits URL of ``band`` around ``coord`` (what is downloaded and cached)."""
        hips2fits = require("astroquery.hips2fits", "DES access").hips2fits
        scale = self.survey.pixel_scale.to_value(u.arcsec / u.pixel)
        size = int(np.ceil(self.field.to_value(u.arcsec) / scale)) | 1
        payload = hips2fits.query_with_wcs(hips=self.hips.format(band=band),
                                           wcs=tan_wcs(coord, size, scale),
                                           format="fits", get_query_payload=True)
        server = hips2fits.server
        server = server[0] if isinstance(server, (list, tuple)) else server
        return f"{server}?{urlencode(payload)}"

    def _fetch(self, coord, band):
        path = cached_download(self.request_url(coord, band), _SERVICE,
                               progress=self.progress)
        data, wcs, _, _ = parse_image_input(path, hdu=0)
        if not np.any(np.isfinite(data) & (data != 0)):
            raise EmptyResultError(f"{_SERVICE}: no DES {band}-band data at "
                                   f"({coord.ra.deg:.5f}, {coord.dec.deg:+.5f}); the position "
                                   "may lie outside the DES footprint.")
        label = f"DES DR2 {band} via hips2fits at ({coord.ra.deg:.5f}, {coord.dec.deg:+.5f})"
        return BandImage(data, wcs, band, self.zero_point, label)

    def identity(self):
        """The HiPS, bands, field and zero point."""
        return f"DES {self.hips} {''.join(self.bands)} {self.field} zp={self.zero_point}"
