"""Input pipelines (TensorFlow's tf.data): parallel decoding, caching, prefetching.

With `astro_morph.distributed`, the only TensorFlow-specific code of
astro_morph; the models themselves stay on Keras.
"""

from astro_morph.pipeline.dataset import *  # noqa: F401,F403
from astro_morph.pipeline.dataset import __all__ as _dataset_all

__all__ = [*_dataset_all]
