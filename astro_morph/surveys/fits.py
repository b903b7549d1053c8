"""Images from local FITS files (or arrays with a WCS), and the one image-input parser."""

import os
import warnings

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.nddata import NDData
from astropy.wcs import WCS, FITSFixedWarning

from astro_morph.exceptions import InputError
from astro_morph.logger import log
from astro_morph.surveys.base import BandImage, ImageSource
from astro_morph.surveys.info import DEFAULT_PIXEL_SCALE, NANOMAGGY_ZERO_POINT, SurveyInfo

__all__ = ["parse_image_input", "header_zero_point", "FITSImageSource"]

_ACCEPTED = ("a FITS file path, an HDUList, an image HDU, an (array, WCS) tuple, "
             "or an NDData/CCDData with a WCS")
_ZERO_POINT_KEYS = ("MAGZERO", "MAGZP", "PHOTZP", "ZEROPT", "ZP", "MAGZPT")


def _wcs_from_header(header, label):
    # Archive headers often trigger astropy's automatic fixes (date, units);
    # they are harmless for pixel <-> sky mapping, so log them instead of warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FITSFixedWarning)
        try:
            wcs = WCS(header, naxis=2)
        except Exception as exc:  # astropy raises several types for broken WCS keywords
            raise InputError(f"{label}: the FITS header has an unreadable WCS ({exc}); "
                             "fix or replace the WCS keywords.") from exc
    for item in caught:
        log.debug("%s: %s", label, item.message)
    return wcs


def _pick_hdu(hdulist, hdu, label):
    if hdu is not None:
        try:
            return hdulist[hdu]
        except (KeyError, IndexError) as exc:
            raise InputError(f"{label} has no HDU {hdu!r}; it has "
                             f"{[h.name for h in hdulist]}.") from exc
    for candidate in hdulist:
        if candidate.is_image and candidate.header.get("NAXIS", 0) >= 2:
            return candidate
    raise InputError(f"{label} holds no 2-d image in any HDU; pass the file of an image.")


def _open_path(path, hdu):
    label = os.fspath(path)
    if not os.path.exists(label):
        raise InputError(f"FITS file {label!r} does not exist; check the path.")
    try:
        # astropy only warns about a truncated file; record that and refuse the file.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with fits.open(label, memmap=False) as hdulist:
                chosen = _pick_hdu(hdulist, hdu, label)
                data = np.array(chosen.data)
                header = chosen.header.copy()
    except InputError:
        raise
    except (OSError, TypeError, ValueError) as exc:
        raise InputError(f"{label!r} is not a readable FITS file ({exc}); it may be "
                         "truncated or corrupt: download it again.") from exc
    for item in caught:
        if "truncated" in str(item.message):
            raise InputError(f"{label!r} is truncated ({item.message}); download it again.")
        log.debug("%s: %s", label, item.message)
    return data, header, label


def _unpack(image, hdu):
    """Return (data, header-or-None, wcs-or-None, label) for any accepted input."""
    if isinstance(image, (str, os.PathLike)):
        data, header, label = _open_path(image, hdu)
        return data, header, None, label
    if isinstance(image, fits.HDUList):
        chosen = _pick_hdu(image, hdu, "HDUList")
        return chosen.data, chosen.header, None, f"HDUList[{chosen.name}]"
    if isinstance(image, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        return image.data, image.header, None, f"{type(image).__name__} {image.name}"
    if isinstance(image, NDData):
        if image.wcs is None:
            raise InputError("the NDData has no WCS; attach one (NDData(data, wcs=...)).")
        return image.data, None, image.wcs, type(image).__name__
    if isinstance(image, tuple) and len(image) == 2:
        data, wcs = image
        if isinstance(wcs, fits.Header):
            return data, wcs, None, "(array, Header)"
        if not isinstance(wcs, WCS):
            raise InputError(f"the second item of an (array, WCS) tuple must be an "
                             f"astropy WCS or Header, not {type(wcs).__name__}.")
        return data, None, wcs, "(array, WCS)"
    raise InputError(f"cannot read an image from a {type(image).__name__}; give {_ACCEPTED}.")


def parse_image_input(image, *, hdu=None):
    """Read any supported image input into a float array and its celestial WCS.

    This is the single image parser behind every astro_morph entry point
    that takes images, in the spirit of reproject's input parsing.

    Parameters
    ----------
    image : str, path-like, `~astropy.io.fits.HDUList`, HDU, tuple or `~astropy.nddata.NDData`
        A FITS file path, an HDUList, a PrimaryHDU/ImageHDU/CompImageHDU, an
        ``(array, WCS)`` or ``(array, Header)`` tuple, or NDData/CCDData.
    hdu : int or str, optional
        HDU to read from a file or HDUList. By default the first HDU holding a
        2-d image (archive files such as DECam CCDs keep it in extension 1).

    Returns
    -------
    data : `~numpy.ndarray`
        2-d float64 array, non-finite values replaced by NaN.
    wcs : `~astropy.wcs.WCS`
        Celestial WCS (TAN, TPV, SIP... anything astropy reads).
    header : `~astropy.io.fits.Header` or None
        The FITS header when there was one (for zero points and band names).
    label : str
        Where the image came from, for messages.

    Raises
    ------
    InputError
        Wrong type, unreadable file, not a 2-d image, no celestial WCS, or no
        finite pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> wcs = WCS(naxis=2)
    >>> wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> data, wcs, header, label = parse_image_input((np.ones((5, 5)), wcs))
    >>> data.shape, label
    ((5, 5), '(array, WCS)')
    """
    data, header, wcs, label = _unpack(image, hdu)
    if data is None:
        raise InputError(f"{label} has no pixel data.")
    data = np.asarray(data)
    if data.ndim > 2:
        data = np.squeeze(data)
    if data.ndim != 2 or min(data.shape) < 2:
        raise InputError(f"{label}: expected a 2-d image, got an array of shape {data.shape}.")
    if not np.issubdtype(data.dtype, np.number) or np.issubdtype(data.dtype, np.complexfloating):
        raise InputError(f"{label}: pixel values must be real numbers, not {data.dtype}.")
    if wcs is None:
        wcs = _wcs_from_header(header, label)
    wcs = wcs.celestial if wcs.naxis > 2 else wcs
    if not wcs.has_celestial or wcs.naxis != 2:
        raise InputError(f"{label} has no celestial WCS (CTYPE {list(wcs.wcs.ctype)}); "
                         "astro_morph needs RA/Dec axes to place cutouts: use a "
                         "calibrated image or attach a WCS.")
    data = data.astype(np.float64)
    data[~np.isfinite(data)] = np.nan
    if np.all(np.isnan(data)):
        raise InputError(f"{label}: every pixel is NaN or infinite; the file holds no data.")
    return data, wcs, header, label


def header_zero_point(header, survey):
    """Zero point read from a FITS header, or None when it says nothing usable.

    Understands the common keywords (MAGZERO, MAGZP, PHOTZP, ZP...), images in
    nanomaggies (``BUNIT = 'nanomaggy'`` or an SDSS ``NMGY`` keyword), and the
    Pan-STARRS stack convention ZP = 25 + 2.5 log10(EXPTIME).
    """
    if header is None:
        return None
    for key in _ZERO_POINT_KEYS:
        value = header.get(key)
        if isinstance(value, (int, float)) and np.isfinite(value):
            return float(value)
    if "nanomagg" in str(header.get("BUNIT", "")).lower() or "NMGY" in header:
        return NANOMAGGY_ZERO_POINT
    exptime = header.get("EXPTIME")
    if survey.key == "ps1" and isinstance(exptime, (int, float)) and exptime > 0:
        return 25.0 + 2.5 * np.log10(exptime)
    return None


class FITSImageSource(ImageSource):
    """Multi-band images from FITS files or arrays with a WCS.

    Parameters
    ----------
    images : dict
        ``{band: image}`` or ``{band: [image, ...]}`` (several tiles per band),
        where each image is anything `parse_image_input` accepts.
    survey : str or `~astro_morph.surveys.SurveyInfo`, optional
        Survey the images come from (``"sdss"``, ``"des"``, ``"ps1"``, ...);
        sets the nominal pixel scale, colour weights and default zero point.
        By default a generic survey with the given bands.
    zero_point : float or dict, optional
        AB zero point of the pixel values (one value, or one per band). By
        default read from each header (MAGZERO, MAGZP, BUNIT=nanomaggy, ...),
        else the survey's. Images with no known zero point are used in their
        native units and logged.
    hdu : int or str, optional
        HDU to read from files (default: the first 2-d image).

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> wcs = WCS(naxis=2)
    >>> wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> wcs.wcs.crval = [150.0, 2.0]
    >>> wcs.wcs.cdelt = [-0.396 / 3600, 0.396 / 3600]
    >>> source = FITSImageSource({"r": (np.zeros((100, 100)), wcs)}, survey="sdss")
    >>> source.bands
    ('r',)
    """

    def __init__(self, images, *, survey=None, zero_point=None, hdu=None):
        if not isinstance(images, dict) or not images:
            raise InputError("images must be a non-empty dict {band: FITS file or (array, WCS)}, "
                             f"e.g. {{'g': 'g.fits', 'r': 'r.fits'}}; got {type(images).__name__}.")
        if survey is None:
            survey = SurveyInfo(key="custom", name="custom", bands=tuple(images),
                                pixel_scale=DEFAULT_PIXEL_SCALE, zero_point=None,
                                flux_unit="unknown", psf_fwhm=1.0 * u.arcsec)
        super().__init__(survey)
        unknown = [band for band in images if band not in self.survey.bands]
        if unknown:
            raise InputError(f"band(s) {unknown} are not {self.survey.name} bands "
                             f"{list(self.survey.bands)}; fix the keys of images.")
        self._images = {}
        for band, inputs in images.items():
            inputs = inputs if isinstance(inputs, list) else [inputs]
            self._images[band] = [self._load(band, image, zero_point, hdu) for image in inputs]

    def _load(self, band, image, zero_point, hdu):
        data, wcs, header, label = parse_image_input(image, hdu=hdu)
        if isinstance(zero_point, dict):
            zero_point = zero_point.get(band)
        if zero_point is None:
            zero_point = header_zero_point(header, self.survey)
        if zero_point is None:
            zero_point = self.survey.zero_point
        if zero_point is None:
            log.warning("%s: no photometric zero point known; its %s-band pixels are used "
                        "uncalibrated (pass zero_point= to calibrate)", label, band)
        return BandImage(data, wcs, band, zero_point, label)

    @property
    def bands(self):
        return tuple(b for b in self.survey.bands if b in self._images)

    def images_for(self, band, coords):
        self.check_bands((band,))
        return self._images[band]

    def identity(self):
        """The survey, and each image's origin, shape, zero point and WCS centre."""
        parts = [repr(self)]
        for band in self.bands:
            for image in self._images[band]:
                centre = image.wcs.wcs.crval
                parts.append(f"{band}:{image.label}:{image.data.shape}:{image.zero_point}:"
                             f"{centre[0]:.7f},{centre[1]:.7f}:{float(np.nansum(image.data)):.6e}")
        return "|".join(parts)

