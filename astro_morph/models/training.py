"""How a MorphologyClassifier trains: data, callbacks, the Keras fit, calibration.

`MorphologyClassifier.fit` runs `train` with `OneProcess`;
`MorphologyClassifier.fit_distributed` runs it with
`astro_morph.distributed.HorovodRun`, which has the same methods for many ranks.
"""

import time

import keras
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight

from astro_morph.catalogs import parse_positions
from astro_morph.exceptions import InputError
from astro_morph.logger import log
from astro_morph.models.calibration import fit_temperature
from astro_morph.models.callbacks import ProgressiveUnfreezing, TimeBudget
from astro_morph.models.checkpoint import TrainingCheckpoint, training_fingerprint
from astro_morph.models.inputs import prepare_images, training_labels

__all__ = ["train", "OneProcess", "budget_seconds", "LOSS"]

#: Loss and metrics the classifier compiles with (logits out of the network).
LOSS = {"loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "metrics": ["accuracy"]}


class OneProcess:
    """How `MorphologyClassifier.fit` trains on one process.

    `astro_morph.distributed.HorovodRun` has the same methods for many ranks.
    """

    is_root = True
    identity = {}

    def shard(self, images, labels):
        return images, labels

    def wrap(self, model):
        return model

    def callbacks(self, steps_per_epoch):
        return []

    def time_budget(self, seconds, **kwargs):
        return TimeBudget(seconds, **kwargs)

    def start(self, model):
        pass


def budget_seconds(time_budget):
    """A time budget (seconds or a time Quantity) in seconds, or None."""
    if time_budget is None:
        return None
    if isinstance(time_budget, u.Quantity):
        return float(time_budget.to_value(u.s))
    return float(time_budget)


def _training_data(classifier, X, y, source, images_dir, cutout_kwargs):
    """Parse, encode and check the labelled inputs; split off the validation set."""
    preprocessing = classifier._check_params()
    if source is not None and isinstance(X, (Table, SkyCoord)):
        parse_positions(X, unique=True)  # a repeated galaxy would leak into validation
    images, found, _ = prepare_images(X, preprocessing, source=source,
                                      images_dir=images_dir, classes=classifier.classes,
                                      cutout_kwargs=cutout_kwargs)
    labels = training_labels(found, y, classifier.classes, len(images))
    counts = np.bincount(labels, minlength=len(classifier.classes))
    if np.any(counts < 2):
        raise InputError(f"every class needs at least 2 examples; counts {counts.tolist()} "
                         f"for {list(classifier.classes)}.")
    # At least one validation image per class (every class has two or more, and
    # the fraction is under a half, so each class keeps one for training too).
    n_val = max(int(np.ceil(classifier.validation_fraction * len(labels))),
                len(classifier.classes))
    split = train_test_split(images, labels, test_size=n_val, stratify=labels,
                             random_state=classifier.seed)
    return preprocessing, images, labels, counts, split


def train(classifier, run, X, y, *, source=None, images_dir=None, cutout_kwargs=None,
          history_path=None, checkpoint_dir=None):
    """Fit ``classifier`` on labelled inputs; the body of `MorphologyClassifier.fit`.

    Parameters
    ----------
    classifier : `~astro_morph.MorphologyClassifier`
        Its hyper-parameters set the recipe; its fitted attributes are set here.
    run : `OneProcess` or `~astro_morph.distributed.HorovodRun`
        How the data are sharded, the model wrapped, and which callbacks run.
    X, y, source, images_dir, cutout_kwargs, history_path, checkpoint_dir
        As in `~astro_morph.MorphologyClassifier.fit`.

    Returns
    -------
    classifier : `~astro_morph.MorphologyClassifier`
    """
    started = time.monotonic()
    preprocessing, images, labels, counts, split = _training_data(
        classifier, X, y, source, images_dir, cutout_kwargs)
    train_x, val_x, train_y, val_y = split
    # Each rank trains and validates on its own shard (the whole set on one process);
    # calibration below uses the whole validation set on every rank.
    train_x, train_y = run.shard(train_x, train_y)
    shard_val_x, shard_val_y = run.shard(val_x, val_y)

    keras.utils.set_random_seed(classifier.seed)
    model, backbone = classifier._build(preprocessing)
    trainer = run.wrap(model)  # the same layers; averages gradients across ranks
    trainer.compile(optimizer=keras.optimizers.Adam(classifier.learning_rate), **LOSS)
    steps = int(np.ceil(len(train_y) / classifier.batch_size))
    callbacks = [
        *run.callbacks(steps),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=classifier.patience,
                                      restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                          patience=max(1, classifier.patience // 2),
                                          min_lr=1e-5),
    ]
    checkpoint = None
    if checkpoint_dir is not None:
        params = {k: v for k, v in classifier.get_params().items()
                  if k not in ("verbose", "time_budget", "epochs")}
        checkpoint = TrainingCheckpoint(
            checkpoint_dir, training_fingerprint(images, labels, {**params, **run.identity}),
            write=run.is_root)
    initial_epoch = checkpoint.initial_epoch if checkpoint else 0
    schedule = classifier._schedule()
    if schedule:
        unfreezing = ProgressiveUnfreezing(backbone, schedule, compile_kwargs=LOSS)
        unfreezing.initial_epoch = initial_epoch
        callbacks.append(unfreezing)
    budget = budget_seconds(classifier.time_budget)
    if budget is not None:
        # Leave room for calibration after training, inside the same budget.
        remaining = budget - (time.monotonic() - started) - 0.05 * budget
        callbacks.append(run.time_budget(
            max(remaining, 1.0), anneal=classifier.anneal,
            already_spent=checkpoint.seconds_spent if checkpoint else 0.0))
    if checkpoint is not None:
        checkpoint.callbacks = [c for c in callbacks
                                if isinstance(c, (keras.callbacks.EarlyStopping,
                                                  keras.callbacks.ReduceLROnPlateau,
                                                  TimeBudget))]
        callbacks.append(checkpoint)  # last: it restores the others' counters
    class_weight = None
    if classifier.class_weight == "balanced":
        weights = compute_class_weight("balanced", classes=np.unique(train_y), y=train_y)
        class_weight = {int(c): float(w) for c, w in zip(np.unique(train_y), weights)}
    run.start(trainer)
    history = trainer.fit(train_x, train_y, validation_data=(shard_val_x, shard_val_y),
                          epochs=max(classifier.epochs, initial_epoch),
                          initial_epoch=initial_epoch, batch_size=classifier.batch_size,
                          class_weight=class_weight, callbacks=callbacks,
                          verbose=classifier.verbose if run.is_root else 0, shuffle=True)
    history = checkpoint.history if checkpoint else history.history

    classifier.model_ = model
    classifier.preprocessing_ = preprocessing
    classifier.classes_ = tuple(classifier.classes)
    classifier.history_ = {k: [float(v) for v in values] for k, values in history.items()}
    classifier.temperature_ = 1.0
    classifier.temperature_ = fit_temperature(classifier._logits(val_x), val_y)
    classifier.training_info_ = {
        "n_train": int(len(split[2])), "n_validation": int(len(val_y)),
        "class_counts": dict(zip(classifier.classes, counts.tolist())),
        "epochs_run": len(classifier.history_.get("loss", [])),
        "seconds": round(time.monotonic() - started, 1),
        "data": str(X) if isinstance(X, str) else type(X).__name__,
        **run.identity,
    }
    if checkpoint is not None:
        checkpoint.remove()
    if history_path is not None and run.is_root:
        from astro_morph.evaluation import plot_history
        plot_history(classifier.history_, history_path)
    log.info("trained %s in %.0f s (%d epochs); temperature %.2f", classifier.backbone,
             classifier.training_info_["seconds"], classifier.training_info_["epochs_run"],
             classifier.temperature_)
    return classifier
