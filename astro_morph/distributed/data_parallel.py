"""Data-parallel training with Keras 3 (TensorFlow backend) on either engine.

Horovod's own Keras integration (``horovod.tensorflow.keras``) predates
Keras 3 and fails on its variables, and Keras 3 cannot ``fit`` inside
TensorFlow's multi-worker strategy, so the pieces are made here from the
engine's collectives (``astro_morph.distributed.engines``): an optimizer whose
``apply`` averages the gradients across ranks, a model whose epoch metrics
are averaged across ranks before any callback reads them, a learning-rate
warm-up and a time budget that follows rank 0's clock.
"""

import keras
import numpy as np
import tensorflow as tf

from astro_morph.distributed.runtime import broadcast_value, init
from astro_morph.exceptions import DistributedError, InputError
from astro_morph.logger import log
from astro_morph.utils.fingerprint import fingerprint

__all__ = ["DataParallelRun", "AllreduceModel", "allreduce_gradients", "LearningRateWarmup",
           "AverageBatchNormStatistics", "shard_indices",
           "weights_checksum"]


def allreduce_gradients(gradients, *, fp16=False):
    """Average gradients across ranks (one grouped allreduce; None entries stay None).

    Parameters
    ----------
    gradients : list of tensors or None
    fp16 : bool
        Send them as float16.
    """
    present = [i for i, g in enumerate(gradients) if g is not None]
    if not present:
        return list(gradients)
    averaged = init().allreduce([gradients[i] for i in present], name="astro_morph.gradients",
                                fp16=fp16)
    out = list(gradients)
    for i, g in zip(present, averaged):
        out[i] = g
    return out


class _AllreduceMixin:
    """Mixed into a Keras optimizer class: gradients are averaged before they are applied."""

    _fp16 = False

    def apply(self, grads, trainable_variables=None):
        return super().apply(allreduce_gradients(list(grads), fp16=self._fp16),
                             trainable_variables)


_OPTIMIZER_CLASSES = {}


def _allreduce_optimizer(optimizer, fp16):
    if isinstance(optimizer, _AllreduceMixin):
        return optimizer
    optimizer = keras.optimizers.get(optimizer)
    base = type(optimizer)
    if base not in _OPTIMIZER_CLASSES:
        _OPTIMIZER_CLASSES[base] = type(f"Allreduce{base.__name__}", (_AllreduceMixin, base), {})
    wrapped = _OPTIMIZER_CLASSES[base].from_config(optimizer.get_config())
    wrapped._fp16 = fp16
    return wrapped


class AllreduceModel(keras.Model):
    """A functional Keras model (sharing the layers of ``model``) for data-parallel training.

    Every ``compile`` wraps the optimizer so gradients are averaged across
    ranks at each step (recompiling, as progressive unfreezing does, keeps
    that); metrics read at the end of an epoch or of a validation pass are
    averaged across ranks, so callbacks decide the same on every rank. The
    step is not compiled by XLA, which cannot hold the collectives.
    """

    def __init__(self, model, *, fp16=False):
        super().__init__(inputs=model.inputs, outputs=model.outputs,
                         name=f"{model.name}_allreduce")
        self._allreduce_fp16 = fp16

    def compile(self, optimizer="rmsprop", **kwargs):
        """Compile with ``optimizer`` made to average gradients across ranks (no XLA)."""
        if kwargs.get("jit_compile") is True:
            raise DistributedError("distributed training cannot compile its step with XLA "
                                   "(the collectives are not XLA operations): leave "
                                   "jit_compile out.")
        kwargs["jit_compile"] = False
        super().compile(optimizer=_allreduce_optimizer(optimizer, self._allreduce_fp16),
                        **kwargs)

    def get_metrics_result(self):
        """Metric values; averaged across ranks when read outside a step (epoch ends)."""
        results = super().get_metrics_result()
        if tf.executing_eagerly() and results:
            names = sorted(results)
            values = init().allreduce(
                [tf.cast(tf.convert_to_tensor(results[k]), tf.float64) for k in names],
                name="astro_morph.metrics")
            results = {k: float(np.asarray(v)) for k, v in zip(names, values)}
        return results


class LearningRateWarmup(keras.callbacks.Callback):
    """Ramp the learning rate linearly to ``multiplier`` times its value over the first steps.

    The large effective batch of N ranks wants N times the learning rate,
    reached gradually (Goyal et al. 2017, "Accurate, large minibatch SGD").
    The ramp multiplies the current rate, so changes made by other callbacks
    (ReduceLROnPlateau, annealing, unfreezing) compose with it.

    Parameters
    ----------
    multiplier : float
        Final factor (the number of ranks).
    warmup_steps : int
        Steps of the ramp.
    steps_per_epoch : int
        Steps of one epoch (to place resumed runs on the ramp).

    Examples
    --------
    >>> LearningRateWarmup(4, warmup_steps=10, steps_per_epoch=5).factor(5)
    2.5
    """

    def __init__(self, multiplier, warmup_steps, steps_per_epoch):
        super().__init__()
        self.multiplier = float(multiplier)
        self.warmup_steps = max(1, int(warmup_steps))
        self.steps_per_epoch = int(steps_per_epoch)
        self._epoch, self._previous = 0, None

    def factor(self, step):
        """Learning-rate factor at global ``step``."""
        fraction = min(max(step, 0) / self.warmup_steps, 1.0)
        return 1.0 + (self.multiplier - 1.0) * fraction

    def on_epoch_begin(self, epoch, logs=None):
        """Remember the epoch (resumed runs start past zero)."""
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        """Scale the rate by this step's factor over the last one's."""
        step = self._epoch * self.steps_per_epoch + batch
        if step > self.warmup_steps + 1:
            return
        if self._previous is None:
            # Fresh runs start at factor 1; resumed ones were saved at the last step's factor.
            self._previous = self.factor(step - 1)
        new = self.factor(step)
        if new != self._previous:
            optimizer = self.model.optimizer
            optimizer.learning_rate = float(optimizer.learning_rate) * new / self._previous
        self._previous = new


def _batch_norm_statistics(layer):
    """The moving means and variances of every BatchNormalization inside ``layer``."""
    found = []
    if isinstance(layer, keras.layers.BatchNormalization):
        found += [layer.moving_mean, layer.moving_variance]
    for sub in getattr(layer, "layers", []):
        found += _batch_norm_statistics(sub)
    return found


class AverageBatchNormStatistics(keras.callbacks.Callback):
    """Average the batch-norm moving statistics across ranks before each validation
    and at the end, so every rank validates, and ends with, the same model.

    Each rank updates its moving means and variances from its own batches
    (they are not gradients, so the allreduce does not reach them).
    """

    def _average(self):
        variables = _batch_norm_statistics(self.model)
        if variables:
            averaged = init().allreduce([v.value for v in variables],
                                        name="astro_morph.batch_norm")
            for variable, value in zip(variables, averaged):
                variable.assign(value)

    def on_test_begin(self, logs=None):
        """Before validation."""
        self._average()

    def on_train_end(self, logs=None):
        """After the last epoch."""
        self._average()


def shard_indices(n, rank, size, *, whole=False):
    """Items of rank ``rank`` among ``size``: every ``size``-th item from the ``rank``-th.

    The one rule by which ranks share work: training rows
    (`DataParallelRun`) and a catalogue's chunks
    (``astro_morph.classification.runner.CatalogRunner``) alike.

    Parameters
    ----------
    n, rank, size : int
        Items, this rank, ranks.
    whole : bool
        Keep every item (a catalogue's chunks: each must be done once). By
        default the last ``n % size`` items are left out, so that every
        rank gets the same count (training: an extra step on one rank would
        wait forever).

    Examples
    --------
    >>> shard_indices(7, 1, 2)
    array([1, 3, 5])
    >>> shard_indices(7, 0, 2, whole=True)
    array([0, 2, 4, 6])
    """
    stop = n if whole else n // size * size
    return np.arange(rank, stop, size)


def weights_checksum(model):
    """A SHA-256 of all weights of ``model`` (equal on every rank after training)."""
    return fingerprint(*model.get_weights())


class DataParallelRun:
    """How `~astro_morph.MorphologyClassifier.fit_distributed` trains on many ranks.

    Parameters
    ----------
    engine : {"auto", "horovod", "tensorflow"}
        The engine of `astro_morph.distributed.init`.
    warmup_epochs : float
        Epochs of the learning-rate ramp to ``learning_rate x ranks``.
    fp16_compression : bool
        Average gradients as float16.

    Raises
    ------
    MissingDependencyError, DistributedError
        As `astro_morph.distributed.init`.
    """

    def __init__(self, *, engine="auto", warmup_epochs=2, fp16_compression=False):
        self.engine = init(engine=engine)
        self.rank, self.size = self.engine.rank(), self.engine.size()
        self.is_root = self.rank == 0
        self.warmup_epochs = float(warmup_epochs)
        self.fp16 = bool(fp16_compression)
        # A checkpoint of another number of ranks holds other shards' history.
        self.identity = {"ranks": self.size}

    def shard(self, images, y, *others):
        """This rank's rows of ``images``, ``y`` (and any further per-row arrays)."""
        rows = shard_indices(len(y), self.rank, self.size)
        if not len(rows):
            raise InputError(f"{len(y)} images cannot be shared among {self.size} ranks: "
                             "give more images or run fewer ranks.")
        return tuple(array[rows] for array in (images, y, *others))

    def wrap(self, model):
        """The model trained on this rank: the same layers, gradients averaged."""
        return AllreduceModel(model, fp16=self.fp16)

    def callbacks(self, steps_per_epoch):
        """Callbacks that run before the others (batch-norm averaging, learning-rate ramp)."""
        callbacks = [AverageBatchNormStatistics()]
        if self.size > 1:
            steps = int(round(self.warmup_epochs * steps_per_epoch))
            callbacks.append(LearningRateWarmup(self.size, steps, steps_per_epoch))
        return callbacks

    def agree(self, value, *, name="astro_morph.clock"):
        """Rank 0's ``value`` on every rank (a collective: every rank calls it), so that
        time budgets and clocks decide the same everywhere (a rank that stopped alone
        would leave the others waiting)."""
        return broadcast_value(value, name=name)

    def start(self, model):
        """Give every rank rank 0's initial weights."""
        self.engine.broadcast_variables(model.variables)
        if self.is_root:
            log.info("training on %d ranks (%s engine)", self.size, self.engine.name)
