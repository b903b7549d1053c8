"""Training behaviour as small Keras callbacks: progressive unfreezing, time budget, history."""

import time

import keras
import numpy as np

from astro_morph.exceptions import InputError
from astro_morph.logger import log

__all__ = ["ProgressiveUnfreezing", "TimeBudget", "layer_groups", "set_trainable_groups"]


def _weighted_layers(model):
    """The layers that hold weights, in order, looking inside nested models (the
    ``keras.applications`` network sits inside our backbone as one layer)."""
    layers = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            layers.extend(_weighted_layers(layer))
        elif layer.weights:
            layers.append(layer)
    return layers


def layer_groups(backbone, n_groups):
    """Split the backbone's weighted layers into ``n_groups`` contiguous groups, input first."""
    weighted = _weighted_layers(backbone)
    if not weighted:
        return []
    n_groups = max(1, min(n_groups, len(weighted)))
    bounds = np.linspace(0, len(weighted), n_groups + 1).astype(int)
    return [weighted[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def set_trainable_groups(backbone, groups, n_top):
    """Make only the top ``n_top`` groups of ``backbone`` trainable (batch norms stay frozen
    when a pretrained backbone is fine-tuned, as Keras recommends)."""
    backbone.trainable = n_top > 0
    if n_top <= 0:
        return
    top = {id(layer) for group in groups[len(groups) - n_top:] for layer in group}
    for group in groups:
        for layer in group:
            is_norm = isinstance(layer, keras.layers.BatchNormalization)
            layer.trainable = id(layer) in top and not is_norm


class ProgressiveUnfreezing(keras.callbacks.Callback):
    """Unfreeze a backbone from the top in stages, each at a lower learning rate.

    Training starts with the backbone frozen (only the classification head
    learns). At each epoch listed in ``schedule`` more groups of backbone
    layers become trainable and the learning rate is multiplied by the
    stage's factor; the model is recompiled so the change takes effect.

    Parameters
    ----------
    backbone : `keras.Model`
        The backbone sub-model inside the classifier.
    schedule : list of (int, int, float)
        ``(epoch, n_top_groups, learning_rate_factor)`` per stage, e.g.
        ``[(3, 1, 0.1), (6, 2, 0.1)]``.
    n_groups : int
        Number of groups the backbone's layers are split into.
    compile_kwargs : dict
        Loss and metrics to recompile with.

    Attributes
    ----------
    stages_ : list of (int, int)
        ``(epoch, number of trainable backbone weights)`` recorded at each change.
    """

    def __init__(self, backbone, schedule, *, n_groups=4, compile_kwargs=None):
        super().__init__()
        if any(len(stage) != 3 for stage in schedule):
            raise InputError("each unfreezing stage is (epoch, n_top_groups, lr_factor).")
        self.backbone = backbone
        self.schedule = sorted(schedule)
        self.groups = layer_groups(backbone, n_groups)
        self.compile_kwargs = compile_kwargs or {}
        self.initial_epoch = 0
        self.stages_ = []

    def on_train_begin(self, logs=None):
        """Freeze the whole backbone (the head trains first), or, when training
        resumes at ``initial_epoch``, apply the stage in effect then."""
        n_top, rate = 0, float(self.model.optimizer.learning_rate)
        for start, top, factor in self.schedule:
            if start <= self.initial_epoch:
                n_top, rate = top, rate * factor
        set_trainable_groups(self.backbone, self.groups, n_top)
        self._recompile(rate)
        self.stages_.append((self.initial_epoch, len(self.backbone.trainable_weights)))

    def on_epoch_begin(self, epoch, logs=None):
        """Apply the stage that starts at this epoch, if any."""
        for start, n_top, factor in self.schedule:
            if epoch == start and epoch > self.initial_epoch:
                rate = float(self.model.optimizer.learning_rate) * factor
                set_trainable_groups(self.backbone, self.groups, n_top)
                self._recompile(rate)
                n_weights = len(self.backbone.trainable_weights)
                self.stages_.append((epoch, n_weights))
                log.info("epoch %d: top %d backbone group(s) unfrozen (%d weights), lr %.2g",
                         epoch, n_top, n_weights, rate)

    def _recompile(self, learning_rate):
        optimizer = keras.optimizers.Adam(learning_rate)
        self.model.compile(optimizer=optimizer, **self.compile_kwargs)
        self.model.make_train_function(force=True)


class TimeBudget(keras.callbacks.Callback):
    """Stop training cleanly once a wall-clock budget is spent, annealing towards it.

    Checked after every batch; the epoch in progress ends early and callbacks
    such as early stopping still restore the best weights. With ``anneal``,
    the learning rate also decays linearly with the fraction of the run
    done, to ``floor`` times its value at the end (budget-aware training,
    Li, Yumer & Ramanan 2020: a run that knows its budget ends converged
    rather than cut off mid-descent). The fraction done is the larger of the
    budget spent and the epochs run, so a fast machine that finishes its
    epochs before the budget still ends annealed. Changes made by other
    callbacks (ReduceLROnPlateau, progressive unfreezing) compose with the
    decay.

    Parameters
    ----------
    seconds : float
        Budget in seconds, counted from the start of training.
    anneal : bool
        Decay the learning rate over the budget.
    floor : float
        Fraction of the learning rate left when the budget is spent.
    already_spent : float
        Seconds of the budget spent by an earlier, interrupted run.
    agree : callable, optional
        Makes every process read the same clock: called with this process's
        elapsed seconds, returns the seconds to act on (distributed training
        passes rank 0's, broadcast, so all ranks anneal and stop at the same
        step). Default: this process's own clock.

    Examples
    --------
    >>> TimeBudget(600).seconds
    600.0
    """

    def __init__(self, seconds, *, anneal=False, floor=0.02, already_spent=0.0, agree=None):
        super().__init__()
        if not seconds > 0:
            raise InputError(f"time_budget must be positive, got {seconds}.")
        self.seconds = float(seconds)
        self.anneal = anneal
        self.floor = float(floor)
        self.already_spent = float(already_spent)
        self.agree = agree
        self.stopped_ = False

    def on_train_begin(self, logs=None):
        """Start the clock."""
        self._start = time.monotonic() - self.already_spent
        self._set_rate = self._factor = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        """Note the epoch, for the fraction of the run done."""
        self._epoch = epoch

    def elapsed(self):
        """Seconds of the budget spent so far (distributed training shares rank 0's clock)."""
        elapsed = time.monotonic() - self._start
        return elapsed if self.agree is None else self.agree(elapsed)

    def state(self):
        """What a checkpoint must keep for the decay to continue where it was."""
        return {name: getattr(self, name, None) for name in ("_base", "_factor", "_set_rate")}

    def fraction_done(self, *, batch=0):
        """The larger of the budget spent and the epochs run, as a fraction."""
        done = self.elapsed() / self.seconds
        params = self.params or {}
        epochs, steps = params.get("epochs"), params.get("steps")
        if epochs and steps:
            done = max(done, (self._epoch + batch / steps) / epochs)
        return done

    def on_train_batch_begin(self, batch, logs=None):
        """Set the learning rate for the fraction of the run done."""
        if not self.anneal:
            return
        optimizer = self.model.optimizer
        current = float(optimizer.learning_rate)
        if self._set_rate is None or not np.isclose(current, self._set_rate, rtol=1e-5):
            # First batch, or another callback changed the rate: that is the new base.
            self._base = current / (self._factor or 1.0)
        self._factor = max(self.floor, 1.0 - self.fraction_done(batch=batch))
        self._set_rate = self._base * self._factor
        optimizer.learning_rate = self._set_rate
        # Read back what the optimizer stores (float32), so the comparison above is exact.
        self._set_rate = float(optimizer.learning_rate)

    def on_train_batch_end(self, batch, logs=None):
        """Ask Keras to stop once the budget is spent."""
        if self.elapsed() > self.seconds:
            self.model.stop_training = True
            if not self.stopped_:
                log.info("time budget of %.0f s spent: stopping", self.seconds)
            self.stopped_ = True
