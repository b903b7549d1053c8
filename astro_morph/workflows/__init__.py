"""Workflows: end-to-end runs built only on the public API (the demo, catalogs to files,
fine-tuning on another survey, recursive training)."""

from astro_morph.workflows.catalog import *  # noqa: F401,F403
from astro_morph.workflows.catalog import __all__ as _catalog_all
from astro_morph.workflows.demo import *  # noqa: F401,F403
from astro_morph.workflows.demo import __all__ as _demo_all
from astro_morph.workflows.selftrain import *  # noqa: F401,F403
from astro_morph.workflows.selftrain import __all__ as _selftrain_all
from astro_morph.workflows.transfer import *  # noqa: F401,F403
from astro_morph.workflows.transfer import __all__ as _transfer_all

__all__ = [*_catalog_all, *_demo_all, *_selftrain_all, *_transfer_all]
