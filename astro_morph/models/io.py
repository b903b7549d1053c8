"""Model files: native .keras (safe mode) plus our JSON record, with a checksum.

This module reads and writes the files; `~astro_morph.MorphologyClassifier`
(``save``, ``load``, ``pretrained``) turns them into classifiers.
"""

import importlib.resources
import itertools
import json
import os
import zipfile

import keras

from astro_morph.exceptions import ModelFileError
from astro_morph.models import augmentation, backbones  # noqa: F401  (register layers)
from astro_morph.utils.files import atomic_path, check_output_path
from astro_morph.utils.fingerprint import fingerprint

__all__ = ["write_model_file", "read_model_file", "read_model_config", "check_model_path",
           "pretrained_path", "model_checksum", "PRETRAINED_FILE", "FORMAT_VERSION"]

#: The pretrained model shipped inside the package.
PRETRAINED_FILE = "sdss_compact.keras"
#: Version of our record: 2 adds the framing of the training images.
FORMAT_VERSION = 2
_CONFIG_NAME = "astro_morph.json"
_WEIGHTS_NAME = "model.weights.h5"


def model_checksum(path):
    """SHA-256 of the weights stored in a model file."""
    with zipfile.ZipFile(path) as archive:
        return fingerprint(archive.read(_WEIGHTS_NAME))


def check_model_path(path):
    """Refuse, before any training, a model path that `write_model_file` could not write."""
    return check_output_path(path, ".keras", ModelFileError)


def write_model_file(path, model, config):
    """Write a Keras model and our JSON ``config`` to ``path`` (a ``.keras`` zip), atomically.

    The model is saved uncompiled (the weights, not the optimiser's state,
    which prediction never needs); ``config`` gains ``format_version`` and
    the SHA-256 of the weights. The file appears only once complete.
    """
    path = check_model_path(path)
    with atomic_path(path, overwrite=True) as tmp:
        # A model rebuilt from its config has no optimizer (clone_model would keep it).
        copy = keras.Model.from_config(model.get_config())
        copy.set_weights(model.get_weights())
        copy.save(tmp, overwrite=True)
        record = {"format_version": FORMAT_VERSION, **config,
                  "weights_sha256": model_checksum(tmp)}
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(_CONFIG_NAME, json.dumps(record, indent=1))
    return path


def read_model_config(path):
    """Our JSON record of a model file, after checking the weights' checksum."""
    path = os.fspath(path)
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
            checksum = fingerprint(archive.read(_WEIGHTS_NAME))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{path!r} is corrupt or truncated ({exc}); save or download "
                             "it again.") from exc
    if checksum != config.get("weights_sha256"):
        raise ModelFileError(f"the weights in {path!r} do not match their recorded checksum: "
                             "the file was modified or damaged.")
    return config


def read_model_file(path):
    """The Keras model (safe mode, uncompiled) and our record of a model file.

    Raises
    ------
    ModelFileError
        Missing, corrupt, truncated, modified or foreign file.
    """
    path = os.fspath(path)
    config = read_model_config(path)
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for bad archives
        written = _keras_version_of(path)
        hint = (f" It was written by Keras {written} and this is Keras {keras.__version__}: "
                "upgrade Keras (pip install --upgrade keras)."
                if written and _version_key(written) > _version_key(keras.__version__) else "")
        raise ModelFileError(f"Keras could not load {path!r} ({exc}).{hint}") from exc
    return model, config


def _keras_version_of(path):
    """The Keras version that wrote a ``.keras`` file (its metadata.json), or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            return str(json.loads(archive.read("metadata.json"))["keras_version"])
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None


def _version_key(version):
    """``"3.15.1"`` -> (3, 15, 1), ignoring suffixes such as ``.dev0`` or ``rc1``."""
    key = []
    for part in version.split("."):
        digits = "".join(itertools.takewhile(str.isdigit, part))
        if not digits:
            break
        key.append(int(digits))
    return tuple(key)


def pretrained_path():
    """Path of the model shipped in ``astro_morph/data`` (no network needed)."""
    resource = importlib.resources.files("astro_morph") / "data" / PRETRAINED_FILE
    if not resource.is_file():
        raise ModelFileError(f"the pretrained model {PRETRAINED_FILE} is missing from this "
                             "installation; reinstall astro_morph.")
    return os.fspath(resource)
