"""Models: backbones, the classifier, augmentation, callbacks, calibration, model files,
and the traditional baseline."""

from astro_morph.models.augmentation import *  # noqa: F401,F403
from astro_morph.models.augmentation import __all__ as _augmentation_all
from astro_morph.models.backbones import *  # noqa: F401,F403
from astro_morph.models.backbones import __all__ as _backbones_all
from astro_morph.models.baseline import *  # noqa: F401,F403
from astro_morph.models.baseline import __all__ as _baseline_all
from astro_morph.models.calibration import *  # noqa: F401,F403
from astro_morph.models.calibration import __all__ as _calibration_all
from astro_morph.models.callbacks import *  # noqa: F401,F403
from astro_morph.models.callbacks import __all__ as _callbacks_all
from astro_morph.models.checkpoint import *  # noqa: F401,F403
from astro_morph.models.checkpoint import __all__ as _checkpoint_all
from astro_morph.models.classifier import *  # noqa: F401,F403
from astro_morph.models.classifier import __all__ as _classifier_all
from astro_morph.models.classify import *  # noqa: F401,F403
from astro_morph.models.classify import __all__ as _classify_all
from astro_morph.models.inputs import *  # noqa: F401,F403
from astro_morph.models.inputs import __all__ as _inputs_all
from astro_morph.models.io import *  # noqa: F401,F403
from astro_morph.models.io import __all__ as _io_all
from astro_morph.models.network import *  # noqa: F401,F403
from astro_morph.models.network import __all__ as _network_all

__all__ = [*_augmentation_all, *_backbones_all, *_baseline_all, *_calibration_all, *_callbacks_all,
           *_checkpoint_all, *_classifier_all, *_classify_all, *_inputs_all, *_io_all,
           *_network_all]
