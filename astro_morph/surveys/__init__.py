"""Image sources: local FITS files, survey archives, survey metadata and the mock survey."""

from astro_morph.surveys.archive import *  # noqa: F401,F403
from astro_morph.surveys.archive import __all__ as _archive_all
from astro_morph.surveys.base import *  # noqa: F401,F403
from astro_morph.surveys.base import __all__ as _base_all
from astro_morph.surveys.des import *  # noqa: F401,F403
from astro_morph.surveys.des import __all__ as _des_all
from astro_morph.surveys.fits import *  # noqa: F401,F403
from astro_morph.surveys.fits import __all__ as _fits_all
from astro_morph.surveys.info import *  # noqa: F401,F403
from astro_morph.surveys.info import __all__ as _info_all
from astro_morph.surveys.legacy import *  # noqa: F401,F403
from astro_morph.surveys.legacy import __all__ as _legacy_all
from astro_morph.surveys.mock import *  # noqa: F401,F403
from astro_morph.surveys.mock import __all__ as _mock_all
from astro_morph.surveys.sdss import *  # noqa: F401,F403
from astro_morph.surveys.sdss import __all__ as _sdss_all

__all__ = [*_archive_all, *_base_all, *_des_all, *_fits_all, *_info_all, *_legacy_all,
           *_mock_all, *_sdss_all]
