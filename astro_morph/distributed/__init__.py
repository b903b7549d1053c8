"""The distributed runtime that training and classification use (TensorFlow backend).

Data-parallel work runs one process per GPU on one of two engines
(``astro_morph.distributed.engines``): Horovod (``pip install
"astro_morph[distributed]"`` with the build flags in `BUILD_COMMAND`, TensorFlow
<= 2.18, started by ``horovodrun`` or MPI) or TensorFlow's own collectives
(any TensorFlow, each process started with ``TF_CONFIG``, e.g. by ``python -m
astro_morph.distributed.launch``). Users reach them through
`~astro_morph.MorphologyClassifier.fit_distributed` and
``classify(..., distributed=True)``; `is_root` tells a script which rank
writes the results. The model code elsewhere stays on Keras alone; only
this package and the input pipeline use TensorFlow directly.
"""

from astro_morph.distributed.data_parallel import DataParallelRun, shard_indices, weights_checksum
from astro_morph.distributed.engines import (
    BUILD_COMMAND,
    ENGINES,
    HorovodEngine,
    TensorFlowEngine,
    horovod_installed,
    launcher,
    require_horovod,
)
from astro_morph.distributed.runtime import (
    allgather_object,
    current_engine,
    init,
    is_root,
    rank,
    size,
)

__all__ = ["BUILD_COMMAND", "ENGINES", "HorovodEngine", "TensorFlowEngine", "init",
           "current_engine", "is_root", "rank", "size", "launcher", "require_horovod",
           "horovod_installed", "allgather_object",
           "DataParallelRun", "shard_indices", "weights_checksum"]
