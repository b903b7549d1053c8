"""The Horovod runtime that training and classification use (TensorFlow backend).

Everything here needs Horovod (``pip install "astro_morph[distributed]"``
with the build flags in `BUILD_COMMAND`) and runs one process per GPU under
a launcher such as ``horovodrun``. Users reach it through
`~astro_morph.MorphologyClassifier.fit_distributed` and
``classify(..., distributed=True)``; `is_root` tells a script which rank
writes the results. The model code elsewhere stays on Keras alone; only
this package and the input pipeline use TensorFlow directly.
"""

from astro_morph.distributed.runtime import (
    BUILD_COMMAND,
    allgather_object,
    init,
    is_root,
    launcher,
    rank,
    require_horovod,
    size,
)
from astro_morph.distributed.training import HorovodRun, shard_indices, weights_checksum

__all__ = ["BUILD_COMMAND", "init", "is_root", "rank", "size", "launcher", "require_horovod",
           "allgather_object", "HorovodRun", "shard_indices", "weights_checksum"]
