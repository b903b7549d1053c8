"""astro_morph: galaxy morphology with deep transfer learning, at survey scale.

The public namespace is flat: everything a script needs is importable from
``astro_morph`` directly.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("astro_morph")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.dev0"

from astro_morph.catalogs import (
    crossmatch,
    curate_galaxy_zoo,
    parse_positions,
    read_table,
    split_sets,
    summarize_sets,
    write_table,
)
from astro_morph.evaluation import (
    embed_features,
    evaluate,
    evaluate_across_surveys,
    results_table,
    write_report,
)
from astro_morph.exceptions import (
    AstroMorphError,
    DistributedError,
    FootprintError,
    InputError,
    MissingDependencyError,
    ModelFileError,
)
from astro_morph.imaging import Cutouts, bands_to_rgb, make_cutouts
from astro_morph.logger import log
from astro_morph.models import FeatureClassifier, MorphologyClassifier, classify
from astro_morph.surveys import FITSImageSource, MockSurvey, SurveyInfo, parse_image_input
from astro_morph.workflows import classify_catalog, fine_tune, run_demo, self_train

__all__ = [
    "__version__", "log",
    "AstroMorphError", "InputError", "FootprintError", "ModelFileError",
    "MissingDependencyError", "DistributedError",
    "parse_positions", "crossmatch", "read_table", "write_table",
    "curate_galaxy_zoo", "split_sets", "summarize_sets",
    "FITSImageSource", "SurveyInfo", "MockSurvey", "parse_image_input",
    "Cutouts", "make_cutouts", "bands_to_rgb",
    "MorphologyClassifier", "FeatureClassifier", "classify", "classify_catalog", "evaluate",
    "results_table", "evaluate_across_surveys", "embed_features", "write_report",
    "fine_tune", "self_train", "run_demo",
]
