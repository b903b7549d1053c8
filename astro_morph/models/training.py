"""How a MorphologyClassifier trains: data, callbacks, the Keras fit, calibration.

`MorphologyClassifier.fit` runs `train` with `OneProcess`;
`MorphologyClassifier.fit_distributed` runs it with
`astro_morph.distributed.DataParallelRun`, which has the same methods for many ranks.
"""

import os
import time

import keras
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight

from astro_morph.catalogs.schema import Schema
from astro_morph.catalogs.trees import get_schema
from astro_morph.exceptions import InputError
from astro_morph.imaging.cutouts import CUTOUT_FLAGS, Cutouts
from astro_morph.inputs.framing import Framing, parse_framing
from astro_morph.inputs.images import prepare_images
from astro_morph.inputs.preprocessing import Preprocessing
from astro_morph.inputs.targets import sample_weights, training_votes
from astro_morph.logger import log
from astro_morph.models.backbones import get_backbone, imagenet_weights
from astro_morph.models.calibration import fit_temperature
from astro_morph.models.callbacks import ProgressiveUnfreezing, TimeBudget
from astro_morph.models.checkpoint import TrainingCheckpoint, training_fingerprint
from astro_morph.models.embedding import set_projection
from astro_morph.models.head_stage import fit_head_on_features
from astro_morph.models.history import plot_history
from astro_morph.models.io import read_model_file
from astro_morph.models.network import build_network, predict_logits
from astro_morph.models.vote_loss import compile_kwargs
from astro_morph.utils.validate import check_integer, check_number, check_quantity

__all__ = ["train", "OneProcess", "budget_seconds", "check_params", "build_model",
           "unfreeze_schedule", "classifier_schema"]


class OneProcess:
    """How `MorphologyClassifier.fit` trains on one process.

    `astro_morph.distributed.DataParallelRun` has the same methods for many ranks.
    """

    is_root = True
    identity = {}

    def shard(self, images, y, *others):
        return (images, y, *others)

    def wrap(self, model):
        return model

    def callbacks(self, steps_per_epoch):
        return []

    def agree(self, value, name=None):
        return value

    def start(self, model):
        pass


def budget_seconds(time_budget):
    """A time budget (seconds or a time Quantity) in seconds, or None."""
    if time_budget is None:
        return None
    if isinstance(time_budget, u.Quantity):
        return float(time_budget.to_value(u.s))
    return float(time_budget)


def classifier_schema(classifier):
    """The `~astro_morph.catalogs.Schema` a classifier learns: its ``schema``, else one
    question whose answers are its ``classes``."""
    if classifier.schema is not None:
        return get_schema(classifier.schema)
    return Schema.from_classes(classifier.classes)


def check_params(classifier):
    """Check a classifier's hyper-parameters; the `Preprocessing` they describe."""
    spec = get_backbone(classifier.backbone)
    size = classifier.input_size or spec.default_input_size
    if not isinstance(size, (int, np.integer)) or size < spec.min_input_size:
        raise InputError(f"input_size must be an integer of at least "
                         f"{spec.min_input_size} for {classifier.backbone}, got {size!r}.")
    classifier_schema(classifier)  # an unknown schema or bad classes fail before any work
    if not 0 < classifier.validation_fraction < 0.5:
        raise InputError("validation_fraction must be between 0 and 0.5.")
    if not 0 < classifier.crop_fraction <= 1:
        raise InputError("crop_fraction must be in (0, 1].")
    weights = classifier.weights
    if weights not in (None, "imagenet") and not isinstance(weights, (str, os.PathLike)) \
            and not hasattr(weights, "model_"):
        raise InputError("weights must be None, 'imagenet', the path of a model file or a "
                         "fitted MorphologyClassifier to continue from.")
    if weights == "imagenet" and not spec.pretrainable:
        raise InputError(f"the {classifier.backbone} backbone has no ImageNet weights; "
                         "use weights=None or another backbone.")
    if classifier.class_weight not in ("balanced", None):
        raise InputError("class_weight must be 'balanced' or None.")
    check_integer("epochs", classifier.epochs, low=1)
    check_integer("batch_size", classifier.batch_size, low=1)
    check_integer("patience", classifier.patience, low=0)
    check_integer("seed", classifier.seed, low=0)
    check_number("learning_rate", classifier.learning_rate, low=0, low_inclusive=False)
    check_number("colour_jitter", classifier.colour_jitter, low=0, high=1)
    check_integer("feature_views", classifier.feature_views, low=0)
    if classifier.time_budget is not None:
        check_quantity("time_budget", classifier.time_budget, u.s, low=0, default_unit=u.s)
    if classifier.framing is not None and not isinstance(classifier.framing, Framing):
        raise InputError("framing must be None or an astro_morph.Framing, got "
                         f"{type(classifier.framing).__name__}.")
    return Preprocessing(input_size=int(size), crop_fraction=float(classifier.crop_fraction))


def unfreeze_schedule(classifier):
    """The progressive-unfreezing schedule of a classifier (None: train whole).

    With ``feature_views`` the head-only epochs before the first stage are done
    on cached features (`astro_morph.models.fit_head_on_features`), so the Keras
    loop starts with the first unfreezing stage: the schedule's epochs move back
    by as many.
    """
    if classifier.weights is None or classifier.unfreeze_schedule is None:
        return None
    if classifier.unfreeze_schedule == "auto":
        schedule = [(2, 1, 0.1), (4, 2, 1.0), (6, 4, 1.0)]
    else:
        schedule = sorted(tuple(stage) for stage in classifier.unfreeze_schedule)
    if classifier.feature_views and schedule:
        first = schedule[0][0]
        schedule = [(epoch - first, n_top, factor) for epoch, n_top, factor in schedule]
    return schedule


def _starting_weights(weights):
    """(weights list, backbone, input size, schema name) of a fitted classifier or a model
    file."""
    if hasattr(weights, "model_"):
        return (weights.model_.get_weights(), weights.backbone,
                weights.preprocessing_.input_size, weights.schema_.name)
    if not os.path.isfile(weights):
        raise InputError(
            f"weights={weights!r} is neither None, 'imagenet' nor an existing model "
            "file. (A loaded model that was continued from an in-memory classifier "
            "records that here.) To train again, choose the starting weights: "
            "set_params(weights=None, or a model file, or a fitted classifier).")
    model, config = read_model_file(weights)
    return (model.get_weights(), config["params"]["backbone"],
            config["preprocessing"]["input_size"],
            config.get("schema", {}).get("name", "classes"))


def build_model(classifier, preprocessing):
    """The network of a classifier, with its starting weights; (model, backbone)."""
    start_from = None
    weights = classifier.weights
    # A model file of ours (.keras) or a fitted classifier to continue from; a backbone
    # weights file (.h5) goes to the backbone, as "imagenet" does.
    if hasattr(weights, "model_") or (isinstance(weights, (str, os.PathLike))
                                      and weights != "imagenet"
                                      and not os.fspath(weights).endswith(".h5")):
        start_from, weights = _starting_weights(weights), None
    previous = keras.config.dtype_policy()
    if classifier.mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    try:
        model, backbone = build_network(classifier.backbone, preprocessing.input_size,
                                        classifier_schema(classifier).n_answers,
                                        weights=weights,
                                        augment=classifier.augment,
                                        colour_jitter=classifier.colour_jitter,
                                        seed=classifier.seed)
    finally:
        keras.config.set_dtype_policy(previous)
    if start_from is not None:
        try:
            model.set_weights(start_from[0])
        except ValueError as exc:
            raise InputError(
                f"the checkpoint {classifier.weights!r} was trained with backbone "
                f"{start_from[1]!r} at input size {start_from[2]}, answering schema "
                f"{start_from[3]!r}; use the same backbone, input_size and schema to "
                f"continue from it ({exc}).") from exc
    return model, backbone


def _inputs_kind(X):
    if isinstance(X, (Table, SkyCoord)) and not (isinstance(X, Table)
                                                 and "filename" in X.colnames):
        return "cutouts"
    if isinstance(X, np.ndarray) or (isinstance(X, list) and X
                                     and not isinstance(X[0], (str, os.PathLike))):
        return "arrays"
    return "cutouts" if isinstance(X, Cutouts) else "image files"


def _training_data(classifier, X, y, source, images_dir, sample_weight=None):
    """Parse, turn into vote counts and check the labelled inputs; split off the
    validation set.

    The split is (train images, validation images, train counts, validation
    counts, train weights, validation weights); weights are ones without
    ``sample_weight``."""
    preprocessing = check_params(classifier)
    schema = classifier_schema(classifier)
    framing = parse_framing(classifier.framing, Framing())
    # unique: a galaxy given twice would leak into the validation set.
    images, found, flags = prepare_images(X, preprocessing, framing=framing, source=source,
                                          images_dir=images_dir,
                                          classes=schema.label_names, unique=True)
    labels = training_votes(found, y, schema, len(images))
    weights = sample_weights(sample_weight, len(images))
    weights = np.ones(len(images)) if weights is None else weights
    if flags is not None:
        outside = (flags & CUTOUT_FLAGS["outside_footprint"]) > 0
        if outside.any():
            log.warning("%d of %d training positions are outside the images: left out",
                        int(outside.sum()), len(outside))
            images, labels, weights = images[~outside], labels[~outside], weights[~outside]
    strata = _strata(schema, labels)
    # At least one validation image per stratum (every stratum has two or more, and
    # the fraction is under a half, so each keeps one for training too).
    n_val = max(int(np.ceil(classifier.validation_fraction * len(labels))),
                len(np.unique(strata)))
    split = train_test_split(images, labels, weights, test_size=n_val, stratify=strata,
                             random_state=classifier.seed)
    return preprocessing, framing, images, labels, weights, schema, split


def _strata(schema, counts):
    """Groups of a stratified split (`~astro_morph.catalogs.Schema.strata`): every class
    of class labels needs two examples; rarer groups of votes join the largest."""
    strata = schema.strata(counts, min_size=1 if schema.is_classes else 2)
    if np.any(strata < 0):
        raise InputError(f"{int(np.sum(strata < 0))} galaxies have no votes for any question "
                         "of the schema: leave them out of training.")
    sizes = np.bincount(strata, minlength=schema.n_answers)
    if schema.is_classes and np.any(sizes < 2):
        raise InputError(f"every class needs at least 2 examples; counts {sizes.tolist()} "
                         f"for {list(schema.label_question.answers)}.")
    if sizes.max() < 2:
        raise InputError(f"at least 2 galaxies with votes are needed, got {len(strata)}.")
    return strata


def _weights_source(classifier):
    """Where the starting weights came from, for the model's record."""
    weights = classifier.weights
    if weights is None:
        return "random"
    if hasattr(weights, "model_"):
        return "an in-memory classifier"
    if weights == "imagenet":
        return imagenet_weights(classifier.backbone) or "ImageNet, downloaded by Keras"
    return os.fspath(weights)


def _step_weights(classifier, schema, counts, weights):
    """Per-image loss weights: ``sample_weight`` times the class weights (if "balanced";
    the classes are the strata of the split)."""
    if classifier.class_weight != "balanced":
        return np.asarray(weights, dtype=np.float32)
    labels = schema.strata(counts)
    classes = np.unique(labels)
    balanced = compute_class_weight("balanced", classes=classes, y=labels)
    per_class = np.zeros(int(classes.max()) + 1)
    per_class[classes] = balanced
    return (weights * per_class[labels]).astype(np.float32)


def train(classifier, run, X, y, *, sample_weight=None, source=None, images_dir=None,
          history_path=None, checkpoint_dir=None):
    """Fit ``classifier`` on labelled inputs; the body of `MorphologyClassifier.fit`.

    Parameters
    ----------
    classifier : `~astro_morph.MorphologyClassifier`
        Its hyper-parameters set the recipe; its fitted attributes are set here.
    run : `OneProcess` or `~astro_morph.distributed.DataParallelRun`
        How the data are sharded, the model wrapped, and which callbacks run.
    X, y, sample_weight, source, images_dir, history_path, checkpoint_dir
        As in `~astro_morph.MorphologyClassifier.fit`.

    Returns
    -------
    classifier : `~astro_morph.MorphologyClassifier`
    """
    started = time.monotonic()
    preprocessing, framing, images, labels, weights, schema, split = _training_data(
        classifier, X, y, source, images_dir, sample_weight)
    loss = compile_kwargs(schema)
    train_x, val_x, train_y, val_y, train_w, val_w = split
    # Each rank trains and validates on its own shard (the whole set on one process);
    # calibration below uses the whole validation set on every rank.
    train_x, train_y, train_w = run.shard(train_x, train_y, train_w)
    shard_val_x, shard_val_y, shard_val_w = run.shard(val_x, val_y, val_w)
    # Loss weights of each image: its sample weight times its class weight.
    step_weights = _step_weights(classifier, schema, train_y, train_w)
    val_weights = shard_val_w.astype(np.float32)

    keras.utils.set_random_seed(classifier.seed)
    model, backbone = build_model(classifier, preprocessing)
    trainer = run.wrap(model)  # the same layers; averages gradients across ranks
    trainer.compile(optimizer=keras.optimizers.Adam(classifier.learning_rate), **loss)
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
        params["schema"] = schema.to_dict()
        checkpoint = TrainingCheckpoint(
            checkpoint_dir, training_fingerprint(images, labels, {**params, **run.identity},
                                                 weights),
            write=run.is_root)
    initial_epoch = checkpoint.initial_epoch if checkpoint else 0
    schedule = unfreeze_schedule(classifier)
    head_stage = None
    if schedule and classifier.feature_views and initial_epoch == 0:
        # The head-only stage on cached frozen-backbone features (a resumed run has
        # its head in the checkpoint already; with several ranks, run.start gives every
        # rank rank 0's head).
        backbone.trainable = False
        head_stage = fit_head_on_features(
            model, train_x, train_y, shard_val_x, shard_val_y, compile_kwargs=loss,
            views=classifier.feature_views,
            learning_rate=classifier.learning_rate, batch_size=classifier.batch_size,
            sample_weight=step_weights, val_sample_weight=val_weights)
    if schedule:
        unfreezing = ProgressiveUnfreezing(backbone, schedule, compile_kwargs=loss)
        unfreezing.initial_epoch = initial_epoch
        callbacks.append(unfreezing)
    budget = budget_seconds(classifier.time_budget)
    if budget is not None:
        # Leave room for calibration after training, inside the same budget.
        remaining = budget - (time.monotonic() - started) - 0.05 * budget
        callbacks.append(TimeBudget(
            run.agree(max(remaining, 1.0), name="astro_morph.budget"),
            anneal=classifier.anneal, agree=run.agree,
            already_spent=checkpoint.seconds_spent if checkpoint else 0.0))
    if checkpoint is not None:
        checkpoint.callbacks = [c for c in callbacks
                                if isinstance(c, (keras.callbacks.EarlyStopping,
                                                  keras.callbacks.ReduceLROnPlateau,
                                                  TimeBudget))]
        callbacks.append(checkpoint)  # last: it restores the others' counters
    run.start(trainer)
    history = trainer.fit(train_x, train_y,
                          sample_weight=step_weights,
                          validation_data=(shard_val_x, shard_val_y, val_weights),
                          epochs=max(classifier.epochs, initial_epoch),
                          initial_epoch=initial_epoch, batch_size=classifier.batch_size,
                          callbacks=callbacks,
                          verbose=classifier.verbose if run.is_root else 0, shuffle=True)
    history = checkpoint.history if checkpoint else history.history

    classifier.model_ = model
    classifier.provenance_ = {}  # a model file's, if the classifier was loaded: no longer
    classifier.preprocessing_ = preprocessing
    classifier.framing_ = framing
    classifier.schema_ = schema
    classifier.classes_ = tuple(schema.classes)
    classifier.history_ = {k: [float(v) for v in values] for k, values in history.items()}
    classifier.temperature_ = 1.0
    classifier.temperature_ = fit_temperature(predict_logits(model, val_x), val_y, schema.bounds)
    # The same training images on every rank: every rank fits the same directions.
    set_projection(classifier, split[0], seed=classifier.seed)
    classifier.training_info_ = {
        "n_train": int(len(split[2])), "n_validation": int(len(val_y)),
        "galaxies_per_question": dict(zip([q.name for q in schema.questions],
                                          schema.answered(labels).sum(axis=0).tolist())),
        "epochs_run": len(classifier.history_.get("loss", [])),
        "seconds": round(time.monotonic() - started, 1),
        "data": str(X) if isinstance(X, str) else type(X).__name__,
        "inputs": _inputs_kind(X),
        "weights_source": _weights_source(classifier),
        **({"head_stage": head_stage} if head_stage else {}),
        **run.identity,
    }
    if checkpoint is not None:
        checkpoint.remove()
    if history_path is not None and run.is_root:
        plot_history(classifier.history_, history_path)
    log.info("trained %s in %.0f s (%d epochs); temperature %.2f", classifier.backbone,
             classifier.training_info_["seconds"], classifier.training_info_["epochs_run"],
             classifier.temperature_)
    return classifier
