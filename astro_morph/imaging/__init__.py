"""Imaging: cutouts on a common grid, background, centring, bands to RGB."""

from astro_morph.imaging.background import *  # noqa: F401,F403
from astro_morph.imaging.background import __all__ as _background_all
from astro_morph.imaging.batch import *  # noqa: F401,F403
from astro_morph.imaging.batch import __all__ as _batch_all
from astro_morph.imaging.cutouts import *  # noqa: F401,F403
from astro_morph.imaging.cutouts import __all__ as _cutouts_all
from astro_morph.imaging.grid import *  # noqa: F401,F403
from astro_morph.imaging.grid import __all__ as _grid_all
from astro_morph.imaging.rgb import *  # noqa: F401,F403
from astro_morph.imaging.rgb import __all__ as _rgb_all

__all__ = [*_background_all, *_batch_all, *_cutouts_all, *_grid_all, *_rgb_all]
