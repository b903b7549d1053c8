"""MorphologyClassifier: a CNN backbone fine-tuned to tell spirals from ellipticals."""

import os

import numpy as np

from astro_morph.catalogs.labels import CLASSES, predicted_index
from astro_morph.distributed.training import HorovodRun
from astro_morph.exceptions import InputError
from astro_morph.inputs.framing import Framing, parse_framing
from astro_morph.inputs.images import prepare_images
from astro_morph.inputs.preprocessing import Preprocessing
from astro_morph.models.calibration import calibrated_probabilities, dihedral_views
from astro_morph.models.head import frozen_features
from astro_morph.models.io import pretrained_path, read_model_file, write_model_file
from astro_morph.models.network import predict_logits
from astro_morph.models.params import HyperParameters
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
        Class names; the last is the "positive" class (``p_spiral``).
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

    def __init__(self, backbone="compact", input_size=None, weights=None,
                 classes=CLASSES, seed=0, epochs=100, batch_size=32,
                 learning_rate=1.5e-3, validation_fraction=0.15, patience=20, time_budget=None,
                 augment=True, colour_jitter=0.0, class_weight=None,
                 unfreeze_schedule="auto", feature_views=1, crop_fraction=0.35, framing=None,
                 tta=True, anneal=True, mixed_precision=False, verbose=1):
        self.backbone = backbone
        self.input_size = input_size
        self.weights = weights
        self.classes = classes
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
            Anything `~astro_morph.models.prepare_images` reads: an image batch,
            a labels CSV (``filename,label``) or class folders, positions with
            a ``source``...
        y : sequence, optional
            Labels (class names or indices), unless ``X`` carries them.
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
        """
        return train(self, OneProcess(), X, y, sample_weight=sample_weight, source=source,
                     images_dir=images_dir, history_path=history_path,
                     checkpoint_dir=checkpoint_dir)

    def fit_distributed(self, X, y=None, *, sample_weight=None, source=None, images_dir=None,
                        history_path=None, checkpoint_dir=None, warmup_epochs=2,
                        fp16_compression=False):
        """Train data-parallel on several processes (GPUs, nodes) with Horovod.

        Run the same script on every rank under a launcher, e.g.
        ``horovodrun -np 8 python train.py``. The arguments are those of `fit`;
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
            Horovod is not installed (the message gives the build command).
        DistributedError
            The script was not started by a launcher (``horovodrun``, ``mpirun``).
        """
        run = HorovodRun(warmup_epochs=warmup_epochs, fp16_compression=fp16_compression)
        return train(self, run, X, y, sample_weight=sample_weight, source=source,
                     images_dir=images_dir, history_path=history_path,
                     checkpoint_dir=checkpoint_dir)

    # -- prediction ---------------------------------------------------------------
    def network_inputs(self, X, *, source=None, framing=None, images_dir=None):
        """The images the network sees for ``X``, and their cutout flags.

        Positions are cut out of ``source`` at the model's framing
        (``framing_``) unless ``framing`` overrides it (a `~astro_morph.Framing`,
        a field width such as ``80 * u.arcsec``, or a dict of settings to
        change); every image is then cropped and resized as in training.

        Returns
        -------
        images : `~numpy.ndarray`
            (N, S, S, 3) float32 in [0, 1].
        flags : `~numpy.ndarray` or None
            `~astro_morph.imaging.CUTOUT_FLAGS` bits when cut from a source.
        """
        self.check_fitted()
        images, _, flags = prepare_images(X, self.preprocessing_,
                                          framing=parse_framing(framing, self.framing_),
                                          source=source, images_dir=images_dir)
        return images, flags

    def predict_views(self, images, block=1024):
        """Calibrated probabilities of prepared images over the TTA views.

        Parameters
        ----------
        images : `~numpy.ndarray`
            Network inputs, as `network_inputs` returns them.

        Returns
        -------
        proba : `~numpy.ndarray`
            (n_views, N, n_classes): 8 rotations/flips with ``tta``, else 1.
        """
        self.check_fitted()
        if not len(images):
            return np.zeros((8 if self.tta else 1, 0, len(self.classes_)))
        blocks = []
        for start in range(0, len(images), block):
            part = images[start:start + block]
            views = dihedral_views(part) if self.tta else [part]
            # One predict call over all views: Keras' per-call overhead is paid once.
            logits = predict_logits(self.model_, np.concatenate(views, axis=0))
            proba = calibrated_probabilities(logits, self.temperature_)
            blocks.append(proba.reshape(len(views), len(part), -1))
        return np.concatenate(blocks, axis=1)

    def predict_proba(self, X, *, source=None, framing=None):
        """Calibrated class probabilities, averaged over the 8 rotations/flips.

        Parameters
        ----------
        X, source, framing
            As in `network_inputs`.

        Returns
        -------
        proba : `~numpy.ndarray`
            (N, n_classes), columns in the order of ``classes_``.
        """
        images, _ = self.network_inputs(X, source=source, framing=framing)
        return self.predict_views(images).mean(axis=0)

    def predict(self, X, *, source=None, framing=None):
        """Predicted class name of each image (``p_spiral >= 0.5`` for two classes)."""
        proba = self.predict_proba(X, source=source, framing=framing)
        return np.asarray(self.classes_)[predicted_index(proba, self.classes_)]

    def predict_with_spread(self, X, *, source=None, framing=None):
        """Mean probabilities, their standard deviation over the TTA views, and flags."""
        images, flags = self.network_inputs(X, source=source, framing=framing)
        views = self.predict_views(images)
        return views.mean(axis=0), views.std(axis=0), flags

    def features(self, X, *, source=None, framing=None, batch_size=256):
        """The network's learned features (the pooled layer before the logits).

        For embeddings such as t-SNE (`astro_morph.evaluation.embed_features`)
        or for other classifiers.

        Returns
        -------
        features : `~numpy.ndarray`
            (N, n_features) float32.
        """
        images, _ = self.network_inputs(X, source=source, framing=framing)
        return frozen_features(self.model_, images, batch_size=batch_size)

    # -- persistence --------------------------------------------------------------
    def save(self, path, **provenance):
        """Save to a ``.keras`` file, atomically.

        The Keras model is saved in the native format; our record
        (hyper-parameters, classes, preprocessing, framing, temperature,
        history, the SHA-256 of the weights and any ``provenance`` given) is
        added to the same zip as ``astro_morph.json``.
        """
        self.check_fitted()
        params = self.get_params()
        if hasattr(params["weights"], "model_"):  # continued from an in-memory classifier
            start = getattr(params["weights"], "provenance_", {}).get("file")
            params["weights"] = f"continued from {start or 'an in-memory classifier'}"
        params["weights"] = None if params["weights"] is None else os.fspath(params["weights"])
        params["time_budget"] = None if params["time_budget"] is None else str(
            params["time_budget"])
        params["framing"] = None if params["framing"] is None else params["framing"].to_dict()
        config = {
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()},
            "classes": list(self.classes_),
            "preprocessing": self.preprocessing_.to_dict(),
            "framing": self.framing_.to_dict(),
            "temperature": self.temperature_,
            "history": self.history_,
            "training": self.training_info_,
            "provenance": provenance,
        }
        return write_model_file(path, self.model_, config)

    @classmethod
    def load(cls, path):
        """Load a model saved by `save` (Keras' safe mode: no code from the file runs).

        Raises
        ------
        ModelFileError
            Missing, corrupt, truncated, modified or foreign file.
        """
        path = os.fspath(path)
        model, config = read_model_file(path)
        params = dict(config["params"])
        params["classes"] = tuple(params["classes"])
        params["time_budget"] = None
        params["framing"] = None if params.get("framing") is None else Framing.from_dict(
            params["framing"])
        classifier = cls(**params)
        classifier.model_ = model
        classifier.classes_ = tuple(config["classes"])
        classifier.preprocessing_ = Preprocessing(**config["preprocessing"])
        # Files before format 2 were all trained on image files: the default framing.
        classifier.framing_ = Framing.from_dict(config["framing"]) if "framing" in config \
            else Framing()
        classifier.temperature_ = float(config["temperature"])
        classifier.history_ = config.get("history", {})
        classifier.training_info_ = config.get("training", {})
        classifier.provenance_ = dict(config.get("provenance", {}), file=os.path.basename(path),
                                      sha256=config["weights_sha256"])
        return classifier

    @classmethod
    def pretrained(cls):
        """The model shipped with astro_morph, trained on real SDSS Galaxy Zoo 1 galaxies."""
        return cls.load(pretrained_path())

    def __repr__(self):
        fitted = "fitted" if hasattr(self, "model_") else "not fitted"
        return f"<MorphologyClassifier backbone={self.backbone!r} ({fitted})>"
