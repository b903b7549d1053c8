"""Inputs: the one front door to the network.

Files, arrays, cutouts and positions become preprocessed image batches
here (`prepare_images`), framed as the model was trained (`Framing`) and
cropped and resized by `Preprocessing`; `file_dataset` streams image files
through tf.data for training. The modules that need TensorFlow load on
first use.
"""

from astro_morph.inputs.framing import Framing
from astro_morph.inputs.image_files import read_labels_csv, read_votes_csv
from astro_morph.inputs.preprocessing import Preprocessing
from astro_morph.inputs.targets import encode_labels
from astro_morph.utils.lazy import lazy_namespace

__all__ = ["Framing", "Preprocessing", "prepare_images", "read_labels_csv", "read_votes_csv",
           "encode_labels", "decode_images", "array_dataset", "file_dataset"]

_LAZY = {"prepare_images": "astro_morph.inputs.images",
         "decode_images": "astro_morph.inputs.datasets",
         "array_dataset": "astro_morph.inputs.datasets",
         "file_dataset": "astro_morph.inputs.datasets"}
__getattr__, _ = lazy_namespace(__name__, _LAZY)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
