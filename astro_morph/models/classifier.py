"""MorphologyClassifier: a CNN backbone fine-tuned on Galaxy Zoo labels or votes."""

import os

from astro_morph.catalogs.labels import CLASSES
from astro_morph.distributed.data_parallel import DataParallelRun
from astro_morph.exceptions import InputError
from astro_morph.models import prediction
from astro_morph.models.io import pretrained_path, read_model_file, write_model_file
from astro_morph.models.params import HyperParameters
from astro_morph.models.record import classifier_params, classifier_record, restore_fitted
from astro_morph.models.training import OneProcess, train

__all__ = ["MorphologyClassifier"]


class MorphologyClassifier(HyperParameters):
    """Galaxy morphology classifier with the scikit-learn estimator contract.

    Hyper-parameters are stored as given; `fit` learns; `predict_proba` and
    `predict` never train; fitted state ends with ``_``.

    Parameters
    ----------
    backbone : str
        ``"compact"`` (a small CNN that trains from scratch on a CPU in
        minutes; the default and the shipped model), ``"xception"`` (the seed
        paper's choice), ``"resnet50"``, ``"inception_v3"``, ``"densenet121"``
        or ``"efficientnet_b0"``.
    input_size : int, optional
        Side of the network input; default the backbone's (64 for compact).
    weights : None, "imagenet", path or MorphologyClassifier
        Initial weights: random, ImageNet through Keras' own loader, or a
        model file of ours or a fitted classifier to continue from (same
        backbone and input size; see `astro_morph.fine_tune`).
    classes : tuple of str
        Class names of class labels; the last is the "positive" class
        (``p_spiral``). Used when ``schema`` is None.
    schema : `~astro_morph.catalogs.Schema` or str, optional
        What the network learns: the questions of a decision tree and their
        answers, e.g. ``"gz2"`` (the Galaxy Zoo 2 tree), ``"gz1"``,
        ``"gz1+gz2"`` or a `~astro_morph.catalogs.Schema` of one's own. It is
        trained on vote counts (a Dirichlet-multinomial loss per question)
        and predicts every answer's vote fraction (`predict_votes`). Default:
        one question whose answers are ``classes``.
    seed : int
        Seed of the weights, augmentation, split and shuffling.
    epochs, batch_size, learning_rate : int, int, float
        Training schedule (Adam).
    validation_fraction : float
        Stratified fraction held out for early stopping and calibration.
    patience : int
        Early-stopping patience in epochs (the best weights are restored);
        ReduceLROnPlateau uses half of it.
    time_budget : float or `~astropy.units.Quantity`, optional
        Wall-clock limit of `fit` (seconds if a float); training stops cleanly
        and keeps the best weights.
    augment : bool
        Random rotations/flips, shifts and zooms during training.
    colour_jitter : float
        Relative per-channel brightness jitter during training (0 disables).
    class_weight : "balanced" or None
        ``"balanced"`` weights classes inversely to their frequency (better
        recall of a rare class); the default None keeps the sample's own
        balance, which maximises accuracy at the 0.5 threshold.
    unfreeze_schedule : "auto", None or list of (epoch, n_groups, lr_factor)
        Progressive unfreezing of a pretrained backbone ("auto": head for 2
        epochs, then the top quarter, half, everything at lr x 0.1 each).
        Ignored for a randomly initialised backbone, which trains whole.
    feature_views : int
        With pretrained weights and an unfreezing schedule, the head-only stage
        trains to convergence on the frozen backbone's features of this many
        views of each training image (the image itself, then augmented draws),
        computed once (`astro_morph.models.fit_head_on_features`), instead of one
        backbone pass per image and epoch; training then starts at the first
        unfreezing stage.
        0 trains the head inside the Keras loop for the schedule's first epochs.
    crop_fraction : float
        Central fraction of each image kept (see `~astro_morph.Preprocessing`).
    framing : `~astro_morph.Framing`, optional
        How `fit` cuts galaxies out of survey images when given positions and
        a source (default ``Framing()``: 100 arcsec over 128 pixels). The
        framing is stored with the model (``framing_``) and every entry point
        that cuts images for it (`predict_proba`, `~astro_morph.classify`,
        `~astro_morph.classify_catalog`, ...) uses it unless told otherwise.
        A model trained on image files or arrays keeps this framing for
        survey images too: Galaxy Zoo JPEGs show ten Petrosian R90, which the
        default field matches for R90 = 10 arcsec.
    tta : bool
        Average predictions over the 8 rotations/flips.
    anneal : bool
        With a ``time_budget``, decay the learning rate linearly over the
        budget (see `~astro_morph.models.TimeBudget`), so a budgeted run ends
        converged; ReduceLROnPlateau still halves it on plateaus.
    mixed_precision : bool
        Train and predict in float16 with float32 weights (Keras'
        ``mixed_float16`` policy, with loss scaling): about twice the speed
        on a recent GPU; slower on a CPU.
    verbose : int
        Keras verbosity during `fit` (0 silent, 1 progress bar, 2 one line per epoch).

    Raises
    ------
    InputError
        Bad hyper-parameters, when `fit` checks them (as in scikit-learn, the
        constructor only stores them).

    See Also
    --------
    MorphologyClassifier.pretrained : the shipped model.
    astro_morph.classify : the classifier's columns added to a catalogue.
    astro_morph.fine_tune : continue a fitted classifier on another survey.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((16, 32, 32, 3)).astype("float32")
    >>> labels = ["spiral", "elliptical"] * 8
    >>> clf = MorphologyClassifier(input_size=16, epochs=1, batch_size=8, verbose=0)
    >>> clf.fit(images, labels).predict_proba(images[:2]).shape
    (2, 2)
    >>> clf.set_params(epochs=5, seed=1).get_params()["epochs"]
    5
    """

    def __init__(self, *, backbone="compact", input_size=None, weights=None,
                 classes=CLASSES, schema=None, seed=0, epochs=100, batch_size=32,
                 learning_rate=1.5e-3, validation_fraction=0.15, patience=20, time_budget=None,
                 augment=True, colour_jitter=0.0, class_weight=None,
                 unfreeze_schedule="auto", feature_views=1, crop_fraction=0.35, framing=None,
                 tta=True, anneal=True, mixed_precision=False, verbose=1):
        self.backbone = backbone
        self.input_size = input_size
        self.weights = weights
        self.classes = classes
        self.schema = schema
        self.seed = seed
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.time_budget = time_budget
        self.augment = augment
        self.colour_jitter = colour_jitter
        self.class_weight = class_weight
        self.unfreeze_schedule = unfreeze_schedule
        self.feature_views = feature_views
        self.crop_fraction = crop_fraction
        self.framing = framing
        self.tta = tta
        self.anneal = anneal
        self.mixed_precision = mixed_precision
        self.verbose = verbose

    # -- helpers ------------------------------------------------------------------
    def check_fitted(self):
        """Raise `~astro_morph.InputError` unless fitted or loaded; return self."""
        if not hasattr(self, "model_"):
            raise InputError("this MorphologyClassifier is not fitted yet: call fit(...) "
                             "or load a model with MorphologyClassifier.load / .pretrained().")
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    # -- learning -----------------------------------------------------------------
    def fit(self, X, y=None, *, sample_weight=None, source=None, images_dir=None,
            history_path=None, checkpoint_dir=None):
        """Train on labelled images.

        Parameters
        ----------
        X : array, str, Table, SkyCoord or Cutouts
            Anything `~astro_morph.inputs.prepare_images` reads: an image batch,
            a labels CSV (``filename,label``) or class folders, positions with
            a ``source``...
        y : sequence, `~astropy.table.Table` or array, optional
            Labels (class names or indices: one vote each for an answer of
            the schema's label question), unless ``X`` carries them; or
            votes: a table of Galaxy Zoo vote columns
            (`~astro_morph.catalogs.Schema.counts_from_table`) or an
            (N, n_answers) array of vote counts, 0 where a question was not
            answered (it then teaches nothing about that question).
        sample_weight : sequence of float, optional
            Weight of each image in the loss (one per image of ``X``, in order),
            e.g. to give a small set from another survey or labelling as much
            say as a large one; multiplied by the class weights when
            ``class_weight="balanced"``. Validation losses are weighted alike.
        source : `~astro_morph.surveys.ImageSource`, optional
            Image source for positions (cut out at ``framing``; positions
            off the images are left out with a warning).
        images_dir : str, optional
            Folder of the files named in a labels CSV.
        history_path : str, optional
            Write the training curves there as a PNG.
        checkpoint_dir : str, optional
            Save the whole training state there after every epoch. If a run
            is killed, the same call resumes after its last finished epoch
            (with the same data and hyper-parameters; another run's folder
            raises `~astro_morph.InputError`). Removed once `fit` succeeds.

        Returns
        -------
        self

        Raises
        ------
        InputError
            Bad hyper-parameters, unreadable inputs, labels that are no class or
            answer of the schema, votes of the wrong width or negative.

        See Also
        --------
        fit_distributed : the same on many GPUs (Horovod or TensorFlow collectives).
        astro_morph.catalogs.Schema.counts_from_table : vote columns to counts.
        """
        return train(self, OneProcess(), X, y, sample_weight=sample_weight, source=source,
                     images_dir=images_dir, history_path=history_path,
                     checkpoint_dir=checkpoint_dir)

    def fit_distributed(self, X, y=None, *, sample_weight=None, source=None, images_dir=None,
                        history_path=None, checkpoint_dir=None, engine="auto",
                        warmup_epochs=2, fp16_compression=False):
        """Train data-parallel on several processes (GPUs, nodes) with Horovod or
        TensorFlow's collectives.

        Run the same script on every rank under a launcher, e.g.
        ``horovodrun -np 8 python train.py`` (Horovod) or ``python -m
        astro_morph.distributed.launch -np 8 python train.py`` (TensorFlow).
        The arguments are those of `fit`;
        every rank reads the same inputs and trains on its own shard of the
        training set (``batch_size`` images per rank and step). Gradients are
        averaged across ranks at every step, the learning rate grows from
        ``learning_rate`` to ``learning_rate x ranks`` over the first
        ``warmup_epochs`` (Goyal et al. 2017), and the epoch metrics are
        averaged across ranks before early stopping, ReduceLROnPlateau,
        progressive unfreezing or the time budget read them, so every rank
        decides the same and ends with the same model. Checkpoints, the
        history PNG and the progress bar come from rank 0 only. See
        `astro_morph.distributed`.

        Parameters
        ----------
        X, y, sample_weight, source, images_dir, history_path, checkpoint_dir
            As in `fit`. ``checkpoint_dir`` must be on a file system that
            every rank sees to resume a multi-node run.
        engine : {"auto", "horovod", "tensorflow"}
            What carries the gradients between ranks (`astro_morph.distributed.init`):
            Horovod (TensorFlow <= 2.18, the default where it is installed)
            or TensorFlow's own collectives (any TensorFlow); ``"auto"`` also
            follows the launcher (``TF_CONFIG`` means TensorFlow). Both give
            every rank the same weights.
        warmup_epochs : float
            Epochs over which the learning rate ramps up to ``learning_rate``
            times the number of ranks.
        fp16_compression : bool
            Send gradients as float16 in the allreduce (half the traffic).

        Returns
        -------
        self

        Raises
        ------
        MissingDependencyError
            The Horovod engine without Horovod installed (the message gives the
            build command and the other engine).
        DistributedError
            The script was not started by a launcher (``horovodrun``,
            ``mpirun``, ``astro_morph.distributed.launch``), or ``engine`` is
            no engine.
        """
        run = DataParallelRun(engine=engine, warmup_epochs=warmup_epochs,
                              fp16_compression=fp16_compression)
        return train(self, run, X, y, sample_weight=sample_weight, source=source,
                     images_dir=images_dir, history_path=history_path,
                     checkpoint_dir=checkpoint_dir)

    # -- prediction: astro_morph.models.prediction ----------------------------------
    network_inputs = prediction.network_inputs
    predict_views = prediction.predict_views
    predict_votes = prediction.predict_votes
    predict_proba = prediction.predict_proba
    predict = prediction.predict
    features = prediction.features
    embed = prediction.embed
    fit_embedding = prediction.fit_embedding

    # -- persistence --------------------------------------------------------------
    def save(self, path, **provenance):
        """Save to a ``.keras`` file, atomically.

        The Keras model is saved in the native format; our record
        (hyper-parameters, classes, schema, preprocessing, framing,
        temperature, history, the SHA-256 of the weights and any
        ``provenance`` given; ``astro_morph.models.record``) is added to the
        same zip as ``astro_morph.json``.

        Raises
        ------
        InputError
            A classifier that is not fitted.
        ModelFileError
            A path that is not a ``.keras`` file, or whose folder does not exist.

        See Also
        --------
        load : read it back.
        """
        self.check_fitted()
        return write_model_file(path, self.model_, classifier_record(self, provenance))

    @classmethod
    def load(cls, path):
        """Load a model saved by `save` (Keras' safe mode: no code from the file runs).

        Raises
        ------
        ModelFileError
            Missing, corrupt, truncated, modified or foreign file.

        See Also
        --------
        save : write a fitted classifier.
        pretrained : the model shipped with astro_morph.
        """
        path = os.fspath(path)
        model, config = read_model_file(path)
        return restore_fitted(cls(**classifier_params(config)), model, config, path)

    @classmethod
    def pretrained(cls):
        """The model shipped with astro_morph, trained on real SDSS Galaxy Zoo galaxies.

        It answers the Galaxy Zoo 1 question and the Galaxy Zoo 2 tree
        (schema ``"gz1+gz2"``); ``p_spiral`` follows Galaxy Zoo 1's rule.
        """
        return cls.load(pretrained_path())

    def __repr__(self):
        fitted = "fitted" if hasattr(self, "model_") else "not fitted"
        return f"<MorphologyClassifier backbone={self.backbone!r} ({fitted})>"
