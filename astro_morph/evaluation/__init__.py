"""Evaluation: metrics tables, cross-survey comparisons, plots, galleries, t-SNE, reports."""

from astro_morph.evaluation.crosssurvey import *  # noqa: F401,F403
from astro_morph.evaluation.crosssurvey import __all__ as _crosssurvey_all
from astro_morph.evaluation.embedding import *  # noqa: F401,F403
from astro_morph.evaluation.embedding import __all__ as _embedding_all
from astro_morph.evaluation.gallery import *  # noqa: F401,F403
from astro_morph.evaluation.gallery import __all__ as _gallery_all
from astro_morph.evaluation.metrics import *  # noqa: F401,F403
from astro_morph.evaluation.metrics import __all__ as _metrics_all
from astro_morph.evaluation.report import *  # noqa: F401,F403
from astro_morph.evaluation.report import __all__ as _report_all

__all__ = [*_crosssurvey_all, *_embedding_all, *_gallery_all, *_metrics_all, *_report_all]
