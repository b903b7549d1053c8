"""Horovod start-up: finding Horovod and the launcher, one device per rank, collectives."""

import os

import numpy as np
import tensorflow as tf

from astro_morph.exceptions import DistributedError, MissingDependencyError
from astro_morph.logger import log

__all__ = ["require_horovod", "launcher", "init", "rank", "size", "is_root",
           "broadcast_value", "allgather_object", "BUILD_COMMAND"]

#: How Horovod 0.28.1 is built against the installed TensorFlow (CPU: gloo; add
#: ``HOROVOD_GPU_OPERATIONS=NCCL`` on a GPU machine with NCCL installed).
BUILD_COMMAND = ("HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITHOUT_PYTORCH=1 HOROVOD_WITHOUT_MXNET=1 "
                 "HOROVOD_WITH_GLOO=1 pip install --no-cache-dir --no-build-isolation "
                 "horovod==0.28.1")

# Environment variables that launchers set in every rank they start.
_LAUNCHER_VARIABLES = {
    "HOROVOD_RANK": "horovodrun (gloo)",
    "OMPI_COMM_WORLD_RANK": "Open MPI (mpirun / horovodrun --mpi)",
    "PMI_RANK": "MPICH / Intel MPI",
    "PMIX_RANK": "PMIx (srun --mpi=pmix)",
}


def require_horovod():
    """Import ``horovod.tensorflow``, or raise `~astro_morph.MissingDependencyError`
    naming how to build it."""
    try:
        import horovod.tensorflow as hvd
    except ImportError as exc:
        raise MissingDependencyError(
            "distributed training needs Horovod built against TensorFlow: install TensorFlow "
            'first, then `pip install "astro_morph[distributed]"` with the build flags, i.e. '
            f"`{BUILD_COMMAND}` (add HOROVOD_GPU_OPERATIONS=NCCL on GPUs); "
            f"import failed with: {exc}") from exc
    return hvd


def launcher(environ=None):
    """Name of the launcher that started this process, or None when run directly.

    Examples
    --------
    >>> launcher({"HOROVOD_RANK": "0"})
    'horovodrun (gloo)'
    >>> launcher({}) is None
    True
    """
    environ = os.environ if environ is None else environ
    for variable, name in _LAUNCHER_VARIABLES.items():
        if variable in environ:
            return name
    return None


def init():
    """Start Horovod once per process: check the launcher, give each rank one GPU.

    On GPUs each rank sees only the GPU of its local rank, with memory
    growth; on CPUs the cores of a host are shared between its ranks.
    Safe to call more than once. Call it at the top of a script if the
    script builds TensorFlow models before `~astro_morph.MorphologyClassifier.fit_distributed`.

    Returns
    -------
    hvd : module
        ``horovod.tensorflow``, initialised.
    """
    hvd = require_horovod()
    if hvd.is_initialized():
        return hvd
    if launcher() is None:
        raise DistributedError(
            "distributed training runs one process per GPU, started by a launcher: run the "
            "script with `horovodrun -np 2 -H localhost:2 python script.py` (or mpirun); "
            "on one process, use fit() / classify() without distributed.")
    hvd.init()
    gpus = tf.config.list_physical_devices("GPU")
    try:
        if gpus:
            gpu = gpus[hvd.local_rank() % len(gpus)]
            tf.config.experimental.set_memory_growth(gpu, True)
            tf.config.set_visible_devices(gpu, "GPU")
        else:
            threads = max(1, (os.cpu_count() or 1) // hvd.local_size())
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    except RuntimeError as exc:
        if gpus:  # every rank would share the first GPU
            raise DistributedError(
                "TensorFlow had already started before Horovod could give this rank its GPU: "
                "call astro_morph.distributed.init() at the top of the script, before any "
                f"model is built ({exc}).") from exc
        log.warning("TensorFlow had already started: the CPU threads of this rank are not "
                    "limited to its share of the cores (call astro_morph.distributed.init() "
                    "first to set them)")
    return hvd


def rank():
    """This process's rank (0 without Horovod or before `init`)."""
    hvd = _initialised()
    return hvd.rank() if hvd else 0


def size():
    """Number of ranks (1 without Horovod or before `init`)."""
    hvd = _initialised()
    return hvd.size() if hvd else 1


def is_root():
    """True on rank 0, the one that writes files and prints progress."""
    return rank() == 0


def _initialised():
    try:
        import horovod.tensorflow as hvd
    except ImportError:
        return None
    return hvd if hvd.is_initialized() else None


def broadcast_value(value, name, root_rank=0):
    """Rank ``root_rank``'s float ``value`` on every rank (a collective: all ranks call it)."""
    hvd = require_horovod()
    out = hvd.broadcast(tf.constant(value, dtype=tf.float64), root_rank=root_rank, name=name)
    return float(np.asarray(out))


def allgather_object(obj, name):
    """A list of every rank's ``obj`` (picklable), in rank order, on every rank."""
    hvd = require_horovod()
    return hvd.allgather_object(obj, name=name)
