"""Image sources: local FITS files, survey archives, survey metadata and the mock survey.

The mock survey needs GalSim, which loads on first use of `MockSurvey`.
"""

from astro_morph.surveys.archive import EmptyResultError, NetworkError, conf
from astro_morph.surveys.base import BandImage, ImageSource
from astro_morph.surveys.des import DES
from astro_morph.surveys.fits import FITSImageSource, parse_image_input
from astro_morph.surveys.info import SURVEYS, SurveyInfo, get_survey
from astro_morph.surveys.legacy import LegacySurvey
from astro_morph.surveys.sdss import SDSS, galaxy_zoo_labels
from astro_morph.utils.lazy import lazy_namespace

__all__ = ["ImageSource", "BandImage", "FITSImageSource", "parse_image_input", "SDSS", "DES",
           "LegacySurvey", "galaxy_zoo_labels", "SurveyInfo", "SURVEYS", "get_survey",
           "MockSurvey", "conf", "NetworkError", "EmptyResultError"]

__getattr__, _ = lazy_namespace(__name__, {"MockSurvey": "astro_morph.surveys.mock"})


def __dir__():
    return sorted(set(globals()) | {"MockSurvey"})
