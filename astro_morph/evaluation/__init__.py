"""Evaluation: figures and tables that show what the pipeline did."""

from astro_morph.evaluation.gallery import *  # noqa: F401,F403
from astro_morph.evaluation.gallery import __all__ as _gallery_all

__all__ = [*_gallery_all]
