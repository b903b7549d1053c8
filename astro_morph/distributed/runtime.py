"""Starting the engine of a distributed run once per process, and asking it who we are."""

import numpy as np
import tensorflow as tf

from astro_morph.distributed.engines import (
    ENGINES,
    engine_name,
    horovod_installed,
    require_horovod,
)
from astro_morph.exceptions import DistributedError

__all__ = ["init", "current_engine", "rank", "size", "is_root", "broadcast_value",
           "allgather_object"]

_STARTED = {}


def init(*, engine="auto"):
    """Start the distributed engine once per process; give each rank its GPU.

    On GPUs each rank sees only the GPU of its local rank, with memory
    growth; on CPUs the cores of a host are shared between its ranks. Safe
    to call more than once (the engine started first stays). Call it at the
    top of a script that builds TensorFlow models before
    `~astro_morph.MorphologyClassifier.fit_distributed`.

    Parameters
    ----------
    engine : {"auto", "horovod", "tensorflow"}
        ``"horovod"``: Horovod, under ``horovodrun`` or MPI (TensorFlow
        <= 2.18). ``"tensorflow"``: TensorFlow's own collectives, each process
        started with ``TF_CONFIG`` (``python -m astro_morph.distributed.launch``
        on one machine), any TensorFlow. ``"auto"``: TensorFlow when
        ``TF_CONFIG`` is set without a Horovod launcher, else Horovod where
        it is installed, else TensorFlow.

    Returns
    -------
    engine : `~astro_morph.distributed.HorovodEngine` or `~astro_morph.distributed.TensorFlowEngine`
        Its ``rank()``, ``size()`` and collectives.

    Raises
    ------
    MissingDependencyError
        The Horovod engine without Horovod installed (the message gives the
        build command).
    DistributedError
        No launcher started this process, or another engine already runs.

    See Also
    --------
    astro_morph.MorphologyClassifier.fit_distributed : data-parallel training.
    astro_morph.classify_catalog : a catalogue shared between ranks.
    """
    name = engine_name(engine)
    if _STARTED:
        started = next(iter(_STARTED.values()))
        if started.name != name and str(engine).lower() != "auto":
            raise DistributedError(f"the {started.name} engine already runs in this process; "
                                   f"engine={engine!r} cannot start beside it.")
        return started
    _STARTED[name] = ENGINES[name]()
    return _STARTED[name]


def current_engine():
    """The engine `init` started in this process, or None (one process)."""
    if _STARTED:
        return next(iter(_STARTED.values()))
    # Horovod started by the user's own script (hvd.init()) counts too.
    if horovod_installed() and require_horovod().is_initialized():
        return init(engine="horovod")
    return None


def rank():
    """This process's rank (0 on one process or before `init`)."""
    started = current_engine()
    return started.rank() if started else 0


def size():
    """Number of ranks (1 on one process or before `init`)."""
    started = current_engine()
    return started.size() if started else 1


def is_root():
    """True on rank 0, the one that writes files and prints progress."""
    return rank() == 0


def broadcast_value(value, name, root_rank=0):
    """Rank ``root_rank``'s float ``value`` on every rank (a collective: all ranks call it)."""
    (out,) = init().broadcast([tf.constant(value, dtype=tf.float64)], name=name,
                              root=root_rank)
    return float(np.asarray(out))


def allgather_object(obj, name):
    """A list of every rank's ``obj`` (picklable), in rank order, on every rank."""
    return init().allgather_object(obj, name=name)
