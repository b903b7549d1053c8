"""Saving and loading classifiers: native .keras (safe mode) plus our JSON, with a checksum."""

import hashlib
import importlib.resources
import json
import os
import tempfile
import zipfile

import keras

from astro_morph.exceptions import ModelFileError
from astro_morph.models import augmentation, backbones  # noqa: F401  (register layers)
from astro_morph.models.inputs import Preprocessing

__all__ = ["save_classifier", "check_model_path", "load_classifier", "load_pretrained",
           "PRETRAINED_FILE", "model_checksum"]

#: The pretrained model shipped inside the package.
PRETRAINED_FILE = "gz1_compact.keras"
_CONFIG_NAME = "astro_morph.json"
_WEIGHTS_NAME = "model.weights.h5"
FORMAT_VERSION = 1


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def model_checksum(path):
    """SHA-256 of the weights stored in a model file."""
    with zipfile.ZipFile(path) as archive:
        return _sha256(archive.read(_WEIGHTS_NAME))


def check_model_path(path):
    """Refuse, before any training, a model path that `save_classifier` could not write."""
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ModelFileError(f"model files must end in .keras, got {path!r}; "
                             "name the output e.g. model.keras.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise ModelFileError(f"cannot write {path!r}: its folder {folder!r} does not exist "
                             "or is not writable.")
    return path


def save_classifier(classifier, path, **provenance):
    """Write a fitted classifier to ``path`` (a ``.keras`` zip) atomically.

    The Keras model is saved in the native format; our configuration
    (hyper-parameters, classes, preprocessing, temperature, history, the
    SHA-256 of the weights and any ``provenance`` given) is added to the same
    zip as ``astro_morph.json``. The file appears only once complete.
    """
    path = check_model_path(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(suffix=".keras", dir=folder)
    os.close(handle)
    try:
        # An uncompiled copy: the file holds the weights, not the optimiser's state
        # (a third of the size for Adam), which prediction never needs. (clone_model
        # would keep the compiled optimizer; a model rebuilt from its config has none.)
        model = keras.Model.from_config(classifier.model_.get_config())
        model.set_weights(classifier.model_.get_weights())
        model.save(tmp, overwrite=True)
        params = classifier.get_params()
        if hasattr(params["weights"], "model_"):  # continued from an in-memory classifier
            start = getattr(params["weights"], "provenance_", {}).get("file")
            params["weights"] = f"continued from {start or 'an in-memory classifier'}"
        params["time_budget"] = None if params["time_budget"] is None else str(
            params["time_budget"])
        config = {
            "format_version": FORMAT_VERSION,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()},
            "classes": list(classifier.classes_),
            "preprocessing": classifier.preprocessing_.to_dict(),
            "temperature": classifier.temperature_,
            "history": classifier.history_,
            "training": classifier.training_info_,
            "provenance": provenance,
            "weights_sha256": model_checksum(tmp),
        }
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(_CONFIG_NAME, json.dumps(config, indent=1))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; a model file is not
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _read_config(path):
    if not os.path.isfile(path):
        raise ModelFileError(f"model file {path!r} does not exist.")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _CONFIG_NAME not in names or _WEIGHTS_NAME not in names:
                raise ModelFileError(f"{path!r} is not an astro_morph model (no {_CONFIG_NAME}); "
                                     "it may come from another program. Train one with "
                                     "MorphologyClassifier.fit and save it.")
            config = json.loads(archive.read(_CONFIG_NAME))
            checksum = _sha256(archive.read(_WEIGHTS_NAME))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{path!r} is corrupt or truncated ({exc}); save or download "
                             "it again.") from exc
    if checksum != config.get("weights_sha256"):
        raise ModelFileError(f"the weights in {path!r} do not match their recorded checksum: "
                             "the file was modified or damaged.")
    return config


def load_classifier(path):
    """Load a classifier saved by `save_classifier`, in Keras' safe mode.

    Raises
    ------
    ModelFileError
        Missing, corrupt, truncated, modified or foreign file.
    """
    from astro_morph.models.classifier import MorphologyClassifier

    path = os.fspath(path)
    config = _read_config(path)
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for bad archives
        raise ModelFileError(f"Keras could not load {path!r} ({exc}).") from exc
    params = dict(config["params"])
    params["classes"] = tuple(params["classes"])
    params["time_budget"] = None
    classifier = MorphologyClassifier(**params)
    classifier.model_ = model
    classifier.classes_ = tuple(config["classes"])
    classifier.preprocessing_ = Preprocessing(**config["preprocessing"])
    classifier.temperature_ = float(config["temperature"])
    classifier.history_ = config.get("history", {})
    classifier.training_info_ = config.get("training", {})
    classifier.provenance_ = dict(config.get("provenance", {}), file=os.path.basename(path),
                                  sha256=config["weights_sha256"])
    return classifier


def load_pretrained():
    """The model shipped in ``astro_morph/data`` (no network needed)."""
    resource = importlib.resources.files("astro_morph") / "data" / PRETRAINED_FILE
    with importlib.resources.as_file(resource) as path:
        if not path.is_file():
            raise ModelFileError(f"the pretrained model {PRETRAINED_FILE} is missing from this "
                                 "installation; reinstall astro_morph.")
        return load_classifier(path)
