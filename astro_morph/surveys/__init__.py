"""Image sources: local FITS files, survey metadata and the GalSim mock survey."""

from astro_morph.surveys.base import *  # noqa: F401,F403
from astro_morph.surveys.base import __all__ as _base_all
from astro_morph.surveys.fits import *  # noqa: F401,F403
from astro_morph.surveys.fits import __all__ as _fits_all
from astro_morph.surveys.info import *  # noqa: F401,F403
from astro_morph.surveys.info import __all__ as _info_all
from astro_morph.surveys.mock import *  # noqa: F401,F403
from astro_morph.surveys.mock import __all__ as _mock_all

__all__ = [*_base_all, *_fits_all, *_info_all, *_mock_all]
