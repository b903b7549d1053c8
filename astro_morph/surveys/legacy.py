"""DESI Legacy Imaging Surveys g, r, z FITS cutouts from the Legacy Survey viewer."""

from urllib.parse import urlencode

import numpy as np
from astropy import units as u
from astropy.io import fits

from astro_morph.exceptions import InputError
from astro_morph.surveys.archive import (
    CutoutService,
    EmptyResultError,
    NetworkError,
    cached_download,
    conf,
)
from astro_morph.surveys.base import BandImage
from astro_morph.surveys.fits import parse_image_input
from astro_morph.surveys.info import NANOMAGGY_ZERO_POINT

__all__ = ["LegacySurvey"]

_SERVICE = "Legacy Survey cutout service"


class LegacySurvey(CutoutService):
    """Legacy Survey coadd cutouts (nanomaggies) around each position.

    One request per galaxy returns all bands as a FITS cube
    (``fits-cutout?ra=&dec=&layer=&pixscale=&size=&bands=``); it is kept in
    astropy's download cache, so reruns and ``conf.offline`` use it. The
    service URL (with mirrors, tried in order) and the data release layer are
    settings of ``astro_morph.surveys.conf``.

    Parameters
    ----------
    bands : str or sequence of str
        Legacy Survey bands (default g, r, z).
    field : `~astropy.units.Quantity`
        Side of the cutout fetched around each position (the service allows
        at most 512 pixels).
    layer : str, optional
        Data release layer (default ``conf.legacy_layer``, e.g. ``"ls-dr10"``).
    progress : bool
        A progress bar per download (``make_cutouts(progress=True)`` shows
        one over the galaxies).
    """

    def __init__(self, *, bands="grz", field=120 * u.arcsec, layer=None, progress=False):
        super().__init__("legacy", bands=bands, progress=progress)
        self.field = u.Quantity(field, u.arcsec)
        self.layer = layer or conf.legacy_layer
        if not 1 <= self.size <= 512:
            raise InputError(f"field {self.field} is {self.size} pixels; the Legacy Survey "
                             "service cuts at most 512 (about 134 arcsec).")

    @property
    def size(self):
        """Cutout side in pixels at the survey's pixel scale."""
        scale = self.survey.pixel_scale.to_value(u.arcsec / u.pixel)
        return int(np.ceil(self.field.to_value(u.arcsec) / scale))

    def request_urls(self, coord):
        """The cutout URLs of ``coord`` on each configured mirror."""
        payload = {"ra": f"{coord.ra.deg:.6f}", "dec": f"{coord.dec.deg:.6f}",
                   "layer": self.layer,
                   "pixscale": f"{self.survey.pixel_scale.to_value(u.arcsec / u.pixel):.3f}",
                   "size": self.size, "bands": "".join(self.bands)}
        mirrors = conf.legacy_cutout_url
        mirrors = [mirrors] if isinstance(mirrors, str) else list(mirrors)
        return [f"{mirror}?{urlencode(payload)}" for mirror in mirrors]

    def _cube(self, coord):
        cubes = self.__dict__.setdefault("_cubes", {})
        key = (f"{coord.ra.deg:.6f}", f"{coord.dec.deg:+.6f}")
        if key not in cubes:
            problem = None
            for url in self.request_urls(coord):
                try:
                    cubes[key] = cached_download(url, _SERVICE,
                                                 progress=self.progress)
                    break
                except NetworkError as exc:
                    problem = exc
            else:
                raise problem
        return cubes[key]

    def _fetch(self, coord, band):
        path = self._cube(coord)
        with fits.open(path, memmap=False) as hdulist:
            cube = np.asarray(hdulist[0].data, dtype=float)
            header = hdulist[0].header.copy()
        if cube.ndim == 2:
            cube = cube[None]
        plane = self.bands.index(band)
        if cube.ndim != 3 or plane >= cube.shape[0]:
            raise EmptyResultError(f"{_SERVICE}: the cutout at ({coord.ra.deg:.5f}, "
                                   f"{coord.dec.deg:+.5f}) holds no {band}-band plane.")
        data = cube[plane]
        if not np.any(np.isfinite(data) & (data != 0)):
            raise EmptyResultError(f"{_SERVICE}: no {band}-band data at ({coord.ra.deg:.5f}, "
                                   f"{coord.dec.deg:+.5f}); it may lie outside the footprint.")
        _, wcs, _, _ = parse_image_input((data, header))
        label = (f"Legacy Survey {self.layer} {band} at "
                 f"({coord.ra.deg:.5f}, {coord.dec.deg:+.5f})")
        return BandImage(data, wcs, band, NANOMAGGY_ZERO_POINT, label)

    def identity(self):
        """The layer, bands and field."""
        return f"LegacySurvey {self.layer} {''.join(self.bands)} {self.field}"
