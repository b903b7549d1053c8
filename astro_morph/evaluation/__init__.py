"""Evaluation: metrics tables, ROC and confusion plots, training curves, galleries."""

from astro_morph.evaluation.gallery import *  # noqa: F401,F403
from astro_morph.evaluation.gallery import __all__ as _gallery_all
from astro_morph.evaluation.metrics import *  # noqa: F401,F403
from astro_morph.evaluation.metrics import __all__ as _metrics_all

__all__ = [*_gallery_all, *_metrics_all]
