"""Distributed training and inference with Horovod (TensorFlow backend).

Everything here needs Horovod (``pip install "astro_morph[distributed]"``
with the build flags in `BUILD_COMMAND`) and runs one process per GPU under
a launcher such as ``horovodrun``. The model code elsewhere in astro_morph
stays on Keras alone; only this package and the data pipeline use TensorFlow
directly.
"""

from astro_morph.distributed.inference import *  # noqa: F401,F403
from astro_morph.distributed.inference import __all__ as _inference_all
from astro_morph.distributed.runtime import *  # noqa: F401,F403
from astro_morph.distributed.runtime import __all__ as _runtime_all
from astro_morph.distributed.training import *  # noqa: F401,F403
from astro_morph.distributed.training import __all__ as _training_all

__all__ = [*_runtime_all, *_training_all, *_inference_all]
