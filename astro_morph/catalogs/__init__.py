"""Catalogs: sky positions, crossmatching, Galaxy Zoo label curation and table helpers."""

from astro_morph.catalogs.crossmatch import *  # noqa: F401,F403
from astro_morph.catalogs.crossmatch import __all__ as _crossmatch_all
from astro_morph.catalogs.galaxyzoo import *  # noqa: F401,F403
from astro_morph.catalogs.galaxyzoo import __all__ as _galaxyzoo_all
from astro_morph.catalogs.positions import *  # noqa: F401,F403
from astro_morph.catalogs.positions import __all__ as _positions_all
from astro_morph.catalogs.tableio import *  # noqa: F401,F403
from astro_morph.catalogs.tableio import __all__ as _tableio_all

__all__ = [*_positions_all, *_crossmatch_all, *_tableio_all, *_galaxyzoo_all]
