"""MorphologyClassifier: a CNN backbone fine-tuned to tell spirals from ellipticals."""

import os

import keras
import numpy as np

from astro_morph.exceptions import InputError
from astro_morph.models.backbones import get_backbone
from astro_morph.models.calibration import calibrated_probabilities, dihedral_views
from astro_morph.models.inputs import Preprocessing, prepare_images
from astro_morph.models.network import build_network
from astro_morph.models.training import OneProcess, train

__all__ = ["MorphologyClassifier"]


class MorphologyClassifier:
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
    crop_fraction : float
        Central fraction of each image kept (see `Preprocessing`).
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
    """

    def __init__(self, backbone="compact", input_size=None, weights=None,
                 classes=("elliptical", "spiral"), seed=0, epochs=100, batch_size=32,
                 learning_rate=1.5e-3, validation_fraction=0.15, patience=20, time_budget=None,
                 augment=True, colour_jitter=0.0, class_weight=None,
                 unfreeze_schedule="auto", crop_fraction=0.35, tta=True, anneal=True,
                 mixed_precision=False, verbose=1):
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
        self.crop_fraction = crop_fraction
        self.tta = tta
        self.anneal = anneal
        self.mixed_precision = mixed_precision
        self.verbose = verbose

    # -- helpers ------------------------------------------------------------------
    _PARAMS = ("backbone", "input_size", "weights", "classes", "seed", "epochs", "batch_size",
               "learning_rate", "validation_fraction", "patience", "time_budget", "augment",
               "colour_jitter", "class_weight", "unfreeze_schedule", "crop_fraction", "tta",
               "anneal", "mixed_precision", "verbose")

    def get_params(self, deep=True):
        """Hyper-parameters, as scikit-learn's ``get_params`` (``deep`` changes nothing:
        no parameter is itself an estimator to look into)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params):
        """Change hyper-parameters, as scikit-learn's ``set_params``; takes effect at the
        next `fit`.

        Examples
        --------
        >>> MorphologyClassifier().set_params(epochs=5, seed=1).get_params()["epochs"]
        5
        """
        unknown = sorted(set(params) - set(self._PARAMS))
        if unknown:
            raise InputError(f"unknown hyper-parameter(s) {unknown}; "
                             f"MorphologyClassifier takes {list(self._PARAMS)}.")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def _check_params(self):
        spec = get_backbone(self.backbone)
        size = self.input_size or spec.default_input_size
        if not isinstance(size, (int, np.integer)) or size < spec.min_input_size:
            raise InputError(f"input_size must be an integer of at least "
                             f"{spec.min_input_size} for {self.backbone}, got {size!r}.")
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise InputError(f"classes must be at least two distinct names, got {self.classes}.")
        if not 0 < self.validation_fraction < 0.5:
            raise InputError("validation_fraction must be between 0 and 0.5.")
        if not 0 < self.crop_fraction <= 1:
            raise InputError("crop_fraction must be in (0, 1].")
        if self.weights not in (None, "imagenet") and \
                not isinstance(self.weights, (str, MorphologyClassifier)):
            raise InputError("weights must be None, 'imagenet', the path of a model file or a "
                             "fitted MorphologyClassifier to continue from.")
        if self.weights == "imagenet" and not spec.pretrainable:
            raise InputError(f"the {self.backbone} backbone has no ImageNet weights; "
                             "use weights=None or another backbone.")
        if self.class_weight not in ("balanced", None):
            raise InputError("class_weight must be 'balanced' or None.")
        return Preprocessing(int(size), float(self.crop_fraction))

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise InputError("this MorphologyClassifier is not fitted yet: call fit(...) "
                             "or load a model with MorphologyClassifier.load / .pretrained().")

    def _schedule(self):
        if self.weights is None or self.unfreeze_schedule is None:
            return None
        if self.unfreeze_schedule == "auto":
            return [(2, 1, 0.1), (4, 2, 1.0), (6, 4, 1.0)]
        return list(self.unfreeze_schedule)

    def _build(self, preprocessing):
        start_from = None
        weights = self.weights
        if isinstance(weights, MorphologyClassifier):
            weights._check_fitted()
            start_from, weights = weights, None
        elif weights not in (None, "imagenet"):
            from astro_morph.models.io import load_classifier  # avoid an import cycle
            if not os.path.isfile(weights):
                raise InputError(
                    f"weights={weights!r} is neither None, 'imagenet' nor an existing model "
                    "file. (A loaded model that was continued from an in-memory classifier "
                    "records that here.) To train again, choose the starting weights: "
                    "set_params(weights=None, or a model file, or a fitted classifier).")
            start_from, weights = load_classifier(weights), None
        previous = keras.config.dtype_policy()
        if self.mixed_precision:
            keras.config.set_dtype_policy("mixed_float16")
        try:
            model, backbone = build_network(self.backbone, preprocessing.input_size,
                                            len(self.classes), weights=weights,
                                            augment=self.augment,
                                            colour_jitter=self.colour_jitter, seed=self.seed)
        finally:
            keras.config.set_dtype_policy(previous)
        if start_from is not None:
            try:
                model.set_weights(start_from.model_.get_weights())
            except ValueError as exc:
                raise InputError(
                    f"the checkpoint {self.weights!r} was trained with backbone "
                    f"{start_from.backbone!r} at input size "
                    f"{start_from.preprocessing_.input_size}; use the same backbone and "
                    f"input_size to continue from it ({exc}).") from exc
        return model, backbone

    # -- learning -----------------------------------------------------------------
    def fit(self, X, y=None, *, source=None, images_dir=None, cutout_kwargs=None,
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
        source : `~astro_morph.surveys.ImageSource`, optional
            Image source for positions.
        images_dir : str, optional
            Folder of the files named in a labels CSV.
        cutout_kwargs : dict, optional
            Options of `~astro_morph.make_cutouts` for positions.
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
        return train(self, OneProcess(), X, y, source=source, images_dir=images_dir,
                     cutout_kwargs=cutout_kwargs, history_path=history_path,
                     checkpoint_dir=checkpoint_dir)

    def fit_distributed(self, X, y=None, *, source=None, images_dir=None, cutout_kwargs=None,
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
        X, y, source, images_dir, cutout_kwargs, history_path, checkpoint_dir
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
        from astro_morph.distributed import HorovodRun  # TensorFlow + Horovod only here
        run = HorovodRun(warmup_epochs=warmup_epochs, fp16_compression=fp16_compression)
        return train(self, run, X, y, source=source, images_dir=images_dir,
                     cutout_kwargs=cutout_kwargs, history_path=history_path,
                     checkpoint_dir=checkpoint_dir)

    # -- prediction ---------------------------------------------------------------
    def _logits(self, images, batch_size=256):
        return np.asarray(self.model_.predict(images, batch_size=batch_size, verbose=0),
                          dtype=np.float64)

    def _view_probabilities(self, images, block=1024):
        """(n_views, N, n_classes) calibrated probabilities over the TTA views."""
        if not len(images):
            return np.zeros((8 if self.tta else 1, 0, len(self.classes_)))
        blocks = []
        for start in range(0, len(images), block):
            part = images[start:start + block]
            views = dihedral_views(part) if self.tta else [part]
            # One predict call over all views: Keras' per-call overhead is paid once.
            logits = self._logits(np.concatenate(views, axis=0))
            proba = calibrated_probabilities(logits, self.temperature_)
            blocks.append(proba.reshape(len(views), len(part), -1))
        return np.concatenate(blocks, axis=1)

    def _images(self, X, source=None, cutout_kwargs=None):
        self._check_fitted()
        images, _, flags = prepare_images(X, self.preprocessing_, source=source,
                                          cutout_kwargs=cutout_kwargs)
        return images, flags

    def predict_proba(self, X, *, source=None, cutout_kwargs=None):
        """Calibrated class probabilities, averaged over the 8 rotations/flips.

        Returns
        -------
        proba : `~numpy.ndarray`
            (N, n_classes), columns in the order of ``classes_``.
        """
        images, _ = self._images(X, source, cutout_kwargs)
        return self._view_probabilities(images).mean(axis=0)

    def predict(self, X, *, source=None, cutout_kwargs=None):
        """Most probable class name of each image."""
        proba = self.predict_proba(X, source=source, cutout_kwargs=cutout_kwargs)
        return np.asarray(self.classes_)[np.argmax(proba, axis=1)]

    def predict_with_spread(self, X, *, source=None, cutout_kwargs=None):
        """Mean probabilities and their standard deviation over the TTA views."""
        images, flags = self._images(X, source, cutout_kwargs)
        views = self._view_probabilities(images)
        return views.mean(axis=0), views.std(axis=0), flags

    def features(self, X, *, source=None, cutout_kwargs=None, batch_size=256):
        """The network's learned features (the pooled layer before the logits).

        For embeddings such as t-SNE (`astro_morph.evaluation.embed_features`)
        or for other classifiers.

        Returns
        -------
        features : `~numpy.ndarray`
            (N, n_features) float32.
        """
        images, _ = self._images(X, source, cutout_kwargs)
        extractor = keras.Model(self.model_.inputs, self.model_.get_layer("features").output)
        return np.asarray(extractor.predict(images, batch_size=batch_size, verbose=0),
                          dtype=np.float32)

    def classify(self, table, source, **kwargs):
        """Classify a catalog; see `astro_morph.classify` for the columns added."""
        from astro_morph.models.classify import classify
        return classify(table, source, classifier=self, **kwargs)

    # -- persistence --------------------------------------------------------------
    def save(self, path, **provenance):
        """Save to a ``.keras`` file (see `astro_morph.models.save_classifier`)."""
        from astro_morph.models.io import save_classifier
        self._check_fitted()
        return save_classifier(self, path, **provenance)

    @classmethod
    def load(cls, path):
        """Load a model saved by `save` (safe mode: no code from the file runs)."""
        from astro_morph.models.io import load_classifier
        return load_classifier(path)

    @classmethod
    def pretrained(cls):
        """The model shipped with astro_morph, trained on real SDSS Galaxy Zoo 1 galaxies."""
        from astro_morph.models.io import load_pretrained
        return load_pretrained()

    def __repr__(self):
        fitted = "fitted" if hasattr(self, "model_") else "not fitted"
        return f"<MorphologyClassifier backbone={self.backbone!r} ({fitted})>"
