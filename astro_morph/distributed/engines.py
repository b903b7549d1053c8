"""The two engines that carry data-parallel work between processes.

Training and classification on many processes need three collectives:
averaging tensors across ranks (gradients, metrics, batch-norm statistics),
broadcasting them from one rank, and gathering a Python object from every
rank. Every rank must call the same collectives in the same order. Each
engine gives them, one process per GPU:

- `HorovodEngine` (``engine="horovod"``): Horovod 0.28.1, started by
  ``horovodrun`` or MPI. Horovod builds against TensorFlow 2.18 at most.
- `TensorFlowEngine` (``engine="tensorflow"``): TensorFlow's own collectives
  (those of ``tf.distribute.MultiWorkerMirroredStrategy``, ring all-reduce
  over gRPC on CPUs, NCCL on GPUs), started with ``TF_CONFIG`` in each
  process, e.g. by ``python -m astro_morph.distributed.launch``. Any
  TensorFlow from 2.16 to the newest.

Keras 3 cannot train a model inside a multi-worker strategy's scope (its
``fit`` fails there), so the strategy serves as the communication layer
only: the model trains with Keras as on one process, and the engine's
collectives average its gradients, as Horovod's do.
"""

import json
import os
import pickle

import numpy as np
import tensorflow as tf

from astro_morph.exceptions import DistributedError, MissingDependencyError
from astro_morph.logger import log

__all__ = ["HorovodEngine", "TensorFlowEngine", "ENGINES", "BUILD_COMMAND", "LAUNCHER_VARIABLES",
           "launcher", "require_horovod", "horovod_installed", "engine_name"]

#: How Horovod 0.28.1 is built against the installed TensorFlow (CPU: gloo; add
#: ``HOROVOD_GPU_OPERATIONS=NCCL`` on a GPU machine with NCCL installed).
BUILD_COMMAND = ("HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITHOUT_PYTORCH=1 HOROVOD_WITHOUT_MXNET=1 "
                 "HOROVOD_WITH_GLOO=1 pip install --no-cache-dir --no-build-isolation "
                 "horovod==0.28.1")

#: Environment variables that Horovod's launchers (horovodrun, MPI) set in every rank.
LAUNCHER_VARIABLES = {
    "HOROVOD_RANK": "horovodrun (gloo)",
    "OMPI_COMM_WORLD_RANK": "Open MPI (mpirun / horovodrun --mpi)",
    "PMI_RANK": "MPICH / Intel MPI",
    "PMIX_RANK": "PMIx (srun --mpi=pmix)",
}

_REDUCIBLE = (tf.float16, tf.bfloat16, tf.float32, tf.float64, tf.int32, tf.int64)

_LOCAL_LAUNCH = "python -m astro_morph.distributed.launch -np 2 python script.py"


def _import_horovod():
    """``horovod.tensorflow``, or the exception that importing it raised (not installed,
    or built against another TensorFlow: its op library then fails to load)."""
    try:
        import horovod.tensorflow as hvd
    except (ImportError, tf.errors.NotFoundError) as exc:
        return exc
    return hvd


def horovod_installed():
    """Whether ``horovod.tensorflow`` imports (built against this TensorFlow)."""
    return not isinstance(_import_horovod(), Exception)


def require_horovod():
    """Import ``horovod.tensorflow``, or raise `~astro_morph.MissingDependencyError`
    naming how to build it and the engine that needs no build.

    Returns
    -------
    hvd : module
        ``horovod.tensorflow``.

    Raises
    ------
    MissingDependencyError
        Horovod is not installed, or was built against another TensorFlow.
    """
    hvd = _import_horovod()
    if isinstance(hvd, Exception):
        raise MissingDependencyError(
            "the Horovod engine needs Horovod built against the installed TensorFlow "
            "(<= 2.18): install TensorFlow 2.18 first, then `pip install "
            '"astro_morph[distributed]"` with the build flags, i.e. '
            f"`{BUILD_COMMAND}` (add HOROVOD_GPU_OPERATIONS=NCCL on GPUs); or use "
            "engine='tensorflow', which needs nothing beyond TensorFlow. "
            f"Import failed with: {hvd}") from hvd
    return hvd


def launcher(*, environ=None):
    """Name of the Horovod or MPI launcher that started this process, or None.

    Examples
    --------
    >>> launcher(environ={"HOROVOD_RANK": "0"})
    'horovodrun (gloo)'
    >>> launcher(environ={}) is None
    True
    """
    environ = os.environ if environ is None else environ
    for variable, name in LAUNCHER_VARIABLES.items():
        if variable in environ:
            return name
    return None


def engine_name(engine="auto", *, environ=None):
    """The engine ``engine`` means in this process: ``"horovod"`` or ``"tensorflow"``.

    ``"auto"`` follows how the process was started: ``TF_CONFIG`` without a
    Horovod launcher means the TensorFlow engine; otherwise Horovod where it
    is installed (the default), else TensorFlow.

    Parameters
    ----------
    engine : {"auto", "horovod", "tensorflow"}
    environ : mapping, optional
        The environment to read (default: ``os.environ``).

    Returns
    -------
    name : str

    Raises
    ------
    DistributedError
        ``engine`` is no engine.

    Examples
    --------
    >>> engine_name("auto", environ={"TF_CONFIG": "{}"})
    'tensorflow'
    >>> engine_name("Horovod")
    'horovod'
    """
    environ = os.environ if environ is None else environ
    name = str(engine).lower()
    if name == "auto":
        if "TF_CONFIG" in environ and launcher(environ=environ) is None:
            return "tensorflow"
        return "horovod" if horovod_installed() else "tensorflow"
    if name not in ENGINES:
        raise DistributedError(f"engine={engine!r} is not an engine: give one of "
                               f"{['auto', *ENGINES]}.")
    return name


def _share_devices(local_rank, local_size):
    """One GPU per local rank (memory growth), or this rank's share of the CPU cores."""
    gpus = tf.config.list_physical_devices("GPU")
    try:
        if gpus:
            gpu = gpus[local_rank % len(gpus)]
            tf.config.experimental.set_memory_growth(gpu, True)
            tf.config.set_visible_devices(gpu, "GPU")
        else:
            threads = max(1, (os.cpu_count() or 1) // max(local_size, 1))
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    except RuntimeError as exc:
        if gpus:  # every rank would share the first GPU
            raise DistributedError(
                "TensorFlow had already started before this rank could be given its GPU: "
                "call astro_morph.distributed.init() at the top of the script, before any "
                f"model is built ({exc}).") from exc
        log.warning("TensorFlow had already started: the CPU threads of this rank are not "
                    "limited to its share of the cores (call astro_morph.distributed.init() "
                    "first to set them)")
    return bool(gpus)


class HorovodEngine:
    """Collectives of Horovod (``horovodrun``, MPI), one process per GPU.

    Raises
    ------
    MissingDependencyError
        Horovod is not installed (the message gives the build command).
    DistributedError
        The process was not started by a launcher.
    """

    name = "horovod"

    def __init__(self):
        hvd = require_horovod()
        if not hvd.is_initialized():
            if launcher() is None:
                raise DistributedError(
                    "the Horovod engine runs one process per GPU, started by a launcher: run "
                    "the script with `horovodrun -np 2 -H localhost:2 python script.py` (or "
                    "mpirun); or choose engine='tensorflow' and start it with "
                    f"`{_LOCAL_LAUNCH}`; on one process, use fit() / classify() without "
                    "distributed.")
            hvd.init()
            _share_devices(hvd.local_rank(), hvd.local_size())
        self.hvd = hvd

    def rank(self):
        """This process's rank."""
        return self.hvd.rank()

    def size(self):
        """Number of ranks."""
        return self.hvd.size()

    def allreduce(self, tensors, *, name, fp16=False):
        """The mean over ranks of each tensor of ``tensors`` (one grouped call).

        Parameters
        ----------
        tensors : list of tensors or arrays
        name : str
            The collective's name (Horovod matches ranks' calls by it).
        fp16 : bool
            Send floating tensors as float16.

        Returns
        -------
        list of tensors
        """
        hvd = self.hvd
        compression = hvd.Compression.fp16 if fp16 else hvd.Compression.none
        return hvd.grouped_allreduce(list(tensors), op=hvd.Average, compression=compression,
                                     name=name)

    def broadcast(self, tensors, *, name, root=0):
        """Rank ``root``'s value of each tensor of ``tensors`` (a list), on every rank."""
        return [self.hvd.broadcast(t, root_rank=root, name=f"{name}.{i}")
                for i, t in enumerate(tensors)]

    def broadcast_variables(self, variables, *, root=0):
        """Give every rank rank ``root``'s values of ``variables`` (Keras variables)."""
        self.hvd.broadcast_variables([v.value for v in variables], root_rank=root)

    def allgather_object(self, obj, *, name):
        """A list of every rank's ``obj`` (picklable), in rank order."""
        return self.hvd.allgather_object(obj, name=name)


class TensorFlowEngine:
    """Collectives of TensorFlow's multi-worker runtime, one process per GPU.

    Each process is started with ``TF_CONFIG`` naming the cluster's workers
    and its own index, as TensorFlow's multi-worker training expects
    (``python -m astro_morph.distributed.launch -np N python script.py``
    does it for the processes of one machine; on a cluster, the scheduler or
    job script sets it on each node). Rank = the worker's index.

    Raises
    ------
    DistributedError
        ``TF_CONFIG`` is missing or malformed, or TensorFlow had started
        before the engine could configure its collectives.
    """

    name = "tensorflow"

    def __init__(self):
        workers, index = _workers_from_tf_config(os.environ.get("TF_CONFIG"))
        host = workers[index].rsplit(":", 1)[0]
        local = [i for i, worker in enumerate(workers) if worker.rsplit(":", 1)[0] == host]
        on_gpus = _share_devices(local.index(index), len(local))
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=(tf.distribute.experimental.CommunicationImplementation.NCCL
                            if on_gpus else
                            tf.distribute.experimental.CommunicationImplementation.RING))
        try:
            self.strategy = tf.distribute.MultiWorkerMirroredStrategy(
                communication_options=options)
        except (RuntimeError, ValueError) as exc:
            raise DistributedError(
                "TensorFlow's collectives could not start: call "
                "astro_morph.distributed.init(engine='tensorflow') at the top of the script, "
                f"before any model is built or TensorFlow runs an operation ({exc}).") from exc
        self._rank, self._size = index, len(workers)
        if self.strategy.num_replicas_in_sync != self._size:
            raise DistributedError(
                f"each worker must see one device; this one holds "
                f"{self.strategy.num_replicas_in_sync // self._size} (start one process per "
                "GPU)")

    def rank(self):
        """This process's rank (its worker index in ``TF_CONFIG``)."""
        return self._rank

    def size(self):
        """Number of workers."""
        return self._size

    def _reduce(self, tensors, op):
        # The collectives reduce floating types, int32 and int64; others travel as int64.
        tensors = [tf.convert_to_tensor(t) for t in tensors]
        dtypes = [t.dtype for t in tensors]
        tensors = [t if t.dtype in _REDUCIBLE else tf.cast(t, tf.int64) for t in tensors]

        def on_replica(*values):
            # Placed on this replica's device (the collective needs a device to reduce to).
            values = [tf.identity(v) for v in values]
            return tf.distribute.get_replica_context().all_reduce(op, values)

        reduced = self.strategy.run(on_replica, args=tuple(tensors))
        return [tf.cast(self.strategy.experimental_local_results(t)[0], dtype)
                for t, dtype in zip(reduced, dtypes)]

    def allreduce(self, tensors, *, name, fp16=False):
        """The mean over workers of each tensor of ``tensors``.

        Parameters
        ----------
        tensors : list of tensors or arrays
        name : str
            Unused: TensorFlow matches the workers' collectives by their order.
        fp16 : bool
            Send floating tensors as float16.

        Returns
        -------
        list of tensors
        """
        tensors = [tf.convert_to_tensor(t) for t in tensors]
        if not tensors:
            return []
        if fp16:
            dtypes = [t.dtype for t in tensors]
            tensors = [tf.cast(t, tf.float16) if t.dtype.is_floating else t for t in tensors]
            reduced = self._reduce(tensors, tf.distribute.ReduceOp.MEAN)
            return [tf.cast(t, dtype) for t, dtype in zip(reduced, dtypes)]
        return self._reduce(tensors, tf.distribute.ReduceOp.MEAN)

    def broadcast(self, tensors, *, name, root=0):
        """Rank ``root``'s value of each tensor, on every worker (a sum where the
        other workers give zeros)."""
        tensors = [tf.convert_to_tensor(t) for t in tensors]
        mine = tensors if self._rank == root else [tf.zeros_like(t) for t in tensors]
        return self._reduce(mine, tf.distribute.ReduceOp.SUM) if mine else []

    def broadcast_variables(self, variables, *, root=0):
        """Give every worker worker ``root``'s values of ``variables`` (Keras variables)."""
        variables = list(variables)
        values = self.broadcast([v.value for v in variables], name=None, root=root)
        for variable, value in zip(variables, values):
            variable.assign(value)

    def allgather_object(self, obj, *, name):
        """A list of every worker's ``obj`` (picklable), in rank order.

        The pickled bytes travel as int32 words in a sum where the other
        workers give zeros (exact for integers).
        """
        data = pickle.dumps(obj)
        words = np.frombuffer(data + bytes(-len(data) % 4), dtype=np.int32)
        lengths = np.zeros(self._size, np.int64)
        lengths[self._rank] = len(data)
        lengths = np.asarray(self._reduce([lengths], tf.distribute.ReduceOp.SUM)[0])
        rows = np.zeros((self._size, -(-int(lengths.max()) // 4)), np.int32)
        rows[self._rank, :len(words)] = words
        rows = np.asarray(self._reduce([rows], tf.distribute.ReduceOp.SUM)[0])
        return [pickle.loads(row.tobytes()[:n]) for row, n in zip(rows, lengths)]


def _workers_from_tf_config(text):
    """The worker addresses and this process's index, from ``TF_CONFIG``."""
    if not text:
        raise DistributedError(
            "the TensorFlow engine runs one process per GPU, each started with TF_CONFIG "
            f"naming the workers and its index: run the script with `{_LOCAL_LAUNCH}` on one "
            "machine, or set TF_CONFIG on each node (see the distributed docs); on one "
            "process, use fit() / classify() without distributed.")
    try:
        config = json.loads(text)
        cluster, task = dict(config["cluster"]), dict(config["task"])
        workers = cluster["worker"]
        if isinstance(workers, str) or not all(isinstance(w, str) for w in workers):
            raise TypeError("the workers must be a list of 'host:port' strings")
        workers = list(workers)
        index = int(task["index"])
        kind = task.get("type", "worker")
    except (ValueError, KeyError, TypeError) as exc:
        raise DistributedError(
            "TF_CONFIG must be JSON like {\"cluster\": {\"worker\": [\"host1:port\", "
            "\"host2:port\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}; "
            f"got {text!r} ({exc})") from exc
    if kind != "worker" or not 0 <= index < len(workers):
        raise DistributedError(
            f"TF_CONFIG's task must be a worker with an index below {len(workers)} "
            f"(the workers listed); got type {kind!r}, index {index}")
    others = sorted(set(cluster) - {"worker"})
    if others:
        raise DistributedError(
            f"TF_CONFIG's cluster may hold workers only (one per GPU), not {others}: list "
            "every process under \"worker\".")
    return workers, index


#: The engines by name.
ENGINES = {"horovod": HorovodEngine, "tensorflow": TensorFlowEngine}
