"""Survey metadata: the one place where pixel scales, bands and zero points live."""

from dataclasses import dataclass, field

from astropy import units as u

from astro_morph.exceptions import InputError

__all__ = ["SurveyInfo", "SURVEYS", "get_survey", "known_survey", "DEFAULT_PIXEL_SCALE",
           "NANOMAGGY_ZERO_POINT", "SKYSERVER_WEIGHTS"]

#: AB magnitude of one nanomaggy: the common flux unit of every cutout we make.
NANOMAGGY_ZERO_POINT = 22.5

#: Cutout pixel scale used unless the caller asks otherwise: SDSS's, so that SDSS
#: and DES cutouts of one galaxy land on the same grid as the Galaxy Zoo images.
DEFAULT_PIXEL_SCALE = 0.396 * u.arcsec / u.pixel


#: Colour weights of g (blue), r (green), i (red) in nanomaggies. Measured so that an
#: elliptical (g - r = 0.77, r - i = 0.40) gets the core colour of the real Galaxy Zoo
#: SkyServer JPEGs (R:G:B = 0.425:0.344:0.230, median of 150 ellipticals). They apply
#: to any survey once its images are calibrated to nanomaggies on one grid, which
#: make_cutouts does, so that SDSS, DES and Pan-STARRS colour images look alike.
SKYSERVER_WEIGHTS = {"g": 1.6, "r": 1.2, "i": 1.0}


@dataclass(frozen=True, kw_only=True)
class SurveyInfo:
    """What astro_morph needs to know about a survey's images.

    Every field is given by keyword.

    Parameters
    ----------
    key : str
        The survey's one identity: its key in `SURVEYS` (lower case, e.g.
        ``"des"``), what ``survey=`` options take and what output tables record.
    name : str
        Display name, e.g. ``"DES"``, for messages and figures only.
    bands : tuple of str
        Filters available, blue to red.
    pixel_scale : `~astropy.units.Quantity`
        Native pixel scale (arcsec / pixel).
    zero_point : float or None
        AB zero point of the image pixel values (magnitude of a pixel value of
        1). ``None`` when it varies from file to file and must be read from the
        header (see `~astro_morph.surveys.FITSImageSource`).
    flux_unit : str
        What a pixel value is (``"nanomaggy"``, ``"electron"``, ``"count"``...).
    psf_fwhm : `~astropy.units.Quantity`
        Typical seeing, for documentation and the mock survey.
    rgb_bands : tuple of str
        The three bands that become blue, green, red in `~astro_morph.bands_to_rgb`.
    rgb_weights : dict
        Multiplicative weight of each band in the colour image, chosen so that
        every survey's colour images look like the SDSS SkyServer JPEGs.
    """

    key: str
    name: str
    bands: tuple
    pixel_scale: u.Quantity
    zero_point: float | None
    flux_unit: str
    psf_fwhm: u.Quantity
    rgb_bands: tuple = ("g", "r", "i")
    rgb_weights: dict = field(default_factory=lambda: dict(SKYSERVER_WEIGHTS))
    description: str = ""


_ARCSEC_PER_PIX = u.arcsec / u.pixel

#: The surveys astro_morph knows, by key. A survey added here is classified end to
#: end by the test suite the day it is added (tests/test_surveys_end_to_end.py).
SURVEYS = {info.key: info for info in (
    SurveyInfo(key="sdss", name="SDSS", bands=("u", "g", "r", "i", "z"),
               pixel_scale=0.396 * _ARCSEC_PER_PIX, zero_point=NANOMAGGY_ZERO_POINT,
               flux_unit="nanomaggy", psf_fwhm=1.4 * u.arcsec,
               description="SDSS DR7+ corrected frames, calibrated in nanomaggies"),
    SurveyInfo(key="des", name="DES", bands=("g", "r", "i", "z", "Y"),
               pixel_scale=0.263 * _ARCSEC_PER_PIX, zero_point=30.0, flux_unit="electron",
               psf_fwhm=0.9 * u.arcsec, description="DES coadd tiles (MAGZERO = 30 in DR1/DR2)"),
    SurveyInfo(key="decam", name="DECam", bands=("g", "r", "i", "z", "Y"),
               pixel_scale=0.263 * _ARCSEC_PER_PIX, zero_point=None, flux_unit="count",
               psf_fwhm=1.1 * u.arcsec,
               description="single DECam CCD images; zero point per exposure"),
    SurveyInfo(key="ps1", name="PS1", bands=("g", "r", "i", "z", "y"),
               pixel_scale=0.25 * _ARCSEC_PER_PIX, zero_point=None, flux_unit="count",
               psf_fwhm=1.2 * u.arcsec,
               description="Pan-STARRS1 stacks; zero point 25 + 2.5 log10(EXPTIME)"),
    SurveyInfo(key="legacy", name="Legacy Survey", bands=("g", "r", "z"),
               pixel_scale=0.262 * _ARCSEC_PER_PIX, zero_point=NANOMAGGY_ZERO_POINT,
               flux_unit="nanomaggy", psf_fwhm=1.3 * u.arcsec, rgb_bands=("g", "r", "z"),
               rgb_weights={"g": 1.6, "r": 1.2, "z": 0.7},
               description="DESI Legacy Imaging Surveys coadds, in nanomaggies"),
)}


def get_survey(survey):
    """Return the `SurveyInfo` of a survey key (case-insensitive) or pass one through.

    Examples
    --------
    >>> get_survey("DES").pixel_scale
    <Quantity 0.263 arcsec / pix>
    """
    if isinstance(survey, SurveyInfo):
        return survey
    try:
        return SURVEYS[str(survey).lower()]
    except KeyError:
        raise InputError(f"unknown survey {survey!r}; known surveys are "
                         f"{sorted(SURVEYS)}, or pass a SurveyInfo.") from None


def known_survey(survey, *, holder, hint=""):
    """``survey`` if it is one of `SURVEYS`, or an `~astro_morph.InputError` that says so.

    Colour images need a survey's colour bands, weights and calibration: images
    of no known survey (FITS files given without ``survey=``) have none.

    Parameters
    ----------
    survey : `SurveyInfo`
        The survey of a source or of cutouts.
    holder : str
        What the message starts with ("these cutouts are").
    hint : str
        What it ends with (" (--survey on the command line)").

    Returns
    -------
    survey : `SurveyInfo`
        ``survey`` itself.

    Raises
    ------
    InputError
        ``survey`` is not in `SURVEYS`.

    Examples
    --------
    >>> known_survey(SURVEYS["des"], holder="these cutouts are").key
    'des'
    """
    if survey.key in SURVEYS:
        return survey
    raise InputError(f"{holder} of no known survey ({survey.key!r}): their colour bands, "
                     f"weights and calibration are unknown; give survey= one of "
                     f"{sorted(SURVEYS)}{hint}.")
