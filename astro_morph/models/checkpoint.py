"""Resumable training: the whole training state saved after every epoch.

Keras' own ``BackupAndRestore`` keeps the weights and the epoch number; a
killed run must also get back the optimizer's moments, the early-stopping and
learning-rate-plateau counters (with the best weights so far), the time
already spent and the history, or the restarted run would decide differently.
"""

import json
import os
import shutil
import time

import keras
import numpy as np

from astro_morph.exceptions import InputError
from astro_morph.logger import log
from astro_morph.utils.files import write_json
from astro_morph.utils.fingerprint import fingerprint

__all__ = ["TrainingCheckpoint", "training_fingerprint"]

_STATE = "state.json"
_COUNTERS = {"EarlyStopping": ("wait", "best", "best_epoch"),
             "ReduceLROnPlateau": ("wait", "best", "cooldown_counter")}


def training_fingerprint(images, labels, params, weights=None):
    """A hash of the training data, their weights and the hyper-parameters (what must
    match to resume)."""
    arrays = (images, labels) if weights is None else (images, labels, weights)
    return fingerprint(*arrays, settings=params)


def _save_arrays(path, arrays):
    np.savez(path, *[np.asarray(a) for a in arrays])


def _load_arrays(path):
    with np.load(path) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


class TrainingCheckpoint(keras.callbacks.Callback):
    """Save the training state after each epoch; restore it when training restarts.

    Each epoch's state goes into a new sub-folder, and only then does
    ``state.json`` (written atomically) point to it, so a kill at any moment
    leaves the previous complete state. Put this callback last: its
    ``on_train_begin`` restores the other callbacks' counters after they reset.

    Parameters
    ----------
    directory : str
        Folder of the checkpoint (created if needed).
    fingerprint : str
        Identity of the data and settings (`training_fingerprint`); a folder
        holding another run's state raises `~astro_morph.InputError`.
    callbacks : list of `keras.callbacks.Callback`
        The other callbacks whose state is saved (EarlyStopping,
        ReduceLROnPlateau, `~astro_morph.models.TimeBudget`).
    write : bool
        Write the state after each epoch (False on the other ranks of a
        distributed run, which only read it to resume).

    Attributes
    ----------
    initial_epoch : int
        Epochs already done by an earlier run (0 for a fresh start); pass it
        to ``model.fit(initial_epoch=...)``.
    history : dict
        History of the earlier epochs.
    """

    def __init__(self, directory, fingerprint, callbacks=(), write=True):
        super().__init__()
        self.directory = os.fspath(directory)
        self.write = write
        self.fingerprint = fingerprint
        self.callbacks = list(callbacks)
        self.initial_epoch, self.history, self._state = 0, {}, None
        state_path = os.path.join(self.directory, _STATE)
        if os.path.isfile(state_path):
            try:
                with open(state_path) as handle:
                    state = json.load(handle)
            except (OSError, ValueError) as exc:
                raise InputError(f"{state_path!r} is unreadable ({exc}); remove "
                                 f"{self.directory!r} to train afresh.") from exc
            if state.get("fingerprint") != fingerprint:
                raise InputError(
                    f"{self.directory!r} holds the checkpoint of a training run with other "
                    "data or settings; use the same ones to resume it, or remove the folder "
                    "(or choose another checkpoint folder) to train afresh.")
            self._state = state
            self.initial_epoch = int(state["epoch"])
            self.history = state["history"]
        if write:
            os.makedirs(self.directory, exist_ok=True)

    @property
    def seconds_spent(self):
        """Training seconds spent by earlier runs."""
        return float(self._state["seconds"]) if self._state else 0.0

    def on_train_begin(self, logs=None):
        """Restore weights, optimizer and counters saved by an interrupted run."""
        self._clock = time.monotonic()
        if self._state is None:
            return
        folder = os.path.join(self.directory, self._state["folder"])
        optimizer = self.model.optimizer
        if not optimizer.built:
            # The weights file of a compiled model holds the optimizer's variables
            # (Adam's moments, the step count, the learning rate): build it to receive them.
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(os.path.join(folder, "model.weights.h5"))
        for callback in self.callbacks:
            saved = self._state["callbacks"].get(type(callback).__name__, {})
            for name, value in saved.items():
                setattr(callback, name, value)
            if type(callback).__name__ == "EarlyStopping" and saved.get("has_best_weights"):
                callback.best_weights = _load_arrays(os.path.join(folder, "best.npz"))
        log.info("resuming training from the checkpoint in %s after epoch %d",
                 self.directory, self.initial_epoch)

    def on_epoch_end(self, epoch, logs=None):
        """Write this epoch's complete state, then point ``state.json`` at it."""
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if not self.write:
            return
        folder = f"epoch_{epoch + 1:05d}"
        path = os.path.join(self.directory, folder)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        self.model.save_weights(os.path.join(path, "model.weights.h5"))  # optimizer included
        counters = {}
        for callback in self.callbacks:
            name = type(callback).__name__
            saved = {attr: getattr(callback, attr) for attr in _COUNTERS.get(name, ())}
            saved = {k: (float(v) if isinstance(v, (np.floating, float)) else v)
                     for k, v in saved.items()}
            if name == "EarlyStopping":
                saved["has_best_weights"] = callback.best_weights is not None
                if callback.best_weights is not None:
                    _save_arrays(os.path.join(path, "best.npz"), callback.best_weights)
            if hasattr(callback, "state"):
                saved.update(callback.state())
            counters[name] = saved
        state = {"fingerprint": self.fingerprint, "epoch": epoch + 1, "folder": folder,
                 "history": self.history, "callbacks": counters,
                 "seconds": self._seconds()}
        write_json(os.path.join(self.directory, _STATE), state)
        previous = self._state["folder"] if self._state else None
        if previous and previous != folder:
            shutil.rmtree(os.path.join(self.directory, previous), ignore_errors=True)
        self._state = state

    def _seconds(self):
        return round(self.seconds_spent + time.monotonic() - self._clock, 3)

    def remove(self):
        """Delete the checkpoint folder (after a run has finished)."""
        if self.write:
            shutil.rmtree(self.directory, ignore_errors=True)
