"""astro_morph: galaxy morphology with deep transfer learning, at survey scale.

The public namespace is flat: everything a script needs is importable from
``astro_morph`` directly. The parts that need TensorFlow, Keras, faiss or
GalSim (models, classification, similarity, evaluation, workflows, the mock
survey) load on first use, so ``import astro_morph`` stays light for catalog and imaging
work.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version

from astro_morph.catalogs import (
    Schema,
    crossmatch,
    curate_galaxy_zoo,
    get_schema,
    parse_positions,
    read_table,
    split_sets,
    summarize_sets,
    write_table,
)
from astro_morph.config import conf
from astro_morph.exceptions import (
    AstroMorphError,
    DistributedError,
    FootprintError,
    InputError,
    MissingDependencyError,
    ModelFileError,
)
from astro_morph.imaging import Cutouts, bands_to_rgb, make_cutouts
from astro_morph.inputs import Framing, Preprocessing
from astro_morph.logger import log
from astro_morph.surveys import (
    DES,
    SDSS,
    FITSImageSource,
    LegacySurvey,
    SurveyInfo,
    parse_image_input,
)
from astro_morph.utils.lazy import lazy_namespace

try:
    __version__ = version("astro_morph")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.dev0"

#: Names that load TensorFlow, Keras or GalSim, imported on first use.
_LAZY = {
    "MockSurvey": "astro_morph.surveys.mock",
    "MorphologyClassifier": "astro_morph.models.classifier",
    "FeatureClassifier": "astro_morph.models.baseline",
    "classify": "astro_morph.classification.classify",
    "classify_catalog": "astro_morph.classification.catalog_file",
    "embed_catalog": "astro_morph.classification.embed",
    "SimilarityIndex": "astro_morph.similarity.index",
    "evaluate": "astro_morph.evaluation.metrics",
    "results_table": "astro_morph.evaluation.crosssurvey",
    "evaluate_across_surveys": "astro_morph.evaluation.crosssurvey",
    "embed_features": "astro_morph.evaluation.tsne",
    "write_report": "astro_morph.evaluation.report",
    "fine_tune": "astro_morph.workflows.transfer",
    "self_train": "astro_morph.workflows.selftrain",
    "run_demo": "astro_morph.workflows.demo",
}

__all__ = [
    "__version__", "log", "conf",
    "AstroMorphError", "InputError", "FootprintError", "ModelFileError",
    "MissingDependencyError", "DistributedError",
    "parse_positions", "crossmatch", "read_table", "write_table",
    "curate_galaxy_zoo", "split_sets", "summarize_sets", "Schema", "get_schema",
    "FITSImageSource", "SDSS", "DES", "LegacySurvey", "SurveyInfo", "MockSurvey",
    "parse_image_input",
    "Cutouts", "make_cutouts", "bands_to_rgb", "Framing", "Preprocessing",
    "MorphologyClassifier", "FeatureClassifier", "classify", "classify_catalog",
    "embed_catalog", "SimilarityIndex", "evaluate",
    "results_table", "evaluate_across_surveys", "embed_features", "write_report",
    "fine_tune", "self_train", "run_demo",
]

#: Subpackages that load TensorFlow, Keras or GalSim, imported on first use.
_LAZY_SUBPACKAGES = ("models", "classification", "similarity", "evaluation", "workflows",
                     "distributed")

_lazy_getattr, _ = lazy_namespace(__name__, _LAZY)


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    return _lazy_getattr(name)


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_SUBPACKAGES))
