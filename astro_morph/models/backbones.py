"""CNN backbones: one registry entry per architecture (adding one = adding an entry).

Model code here uses ``keras`` only, so that any Keras backend can run inference.
"""

import functools
import os
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass

import keras
from keras import layers, ops

from astro_morph.config import WEIGHTS_ENV, conf
from astro_morph.exceptions import InputError, ModelFileError

__all__ = ["Backbone", "BACKBONES", "get_backbone", "compact_cnn", "ImageNetPreprocess",
           "imagenet_weights"]


@dataclass(frozen=True)
class Backbone:
    """How to build one feature extractor.

    Attributes
    ----------
    name : str
        Registry key (``"xception"``, ``"compact"``...).
    build : callable
        ``build(input_shape, weights)`` returning a Keras model from images
        scaled to [0, 1] to a 4-d feature map.
    default_input_size : int
        Image side the architecture was designed for.
    min_input_size : int
        Smallest side it accepts.
    pretrainable : bool
        Whether ``weights="imagenet"`` exists for it.
    weights_files : tuple of str
        Names of its ImageNet no-top weights files, looked for in a weights folder
        (see ``imagenet_weights``): Keras' own download name first.
    """

    name: str
    build: Callable
    default_input_size: int
    min_input_size: int
    _: KW_ONLY
    pretrainable: bool = True
    weights_files: tuple = ()


@keras.saving.register_keras_serializable(package="astro_morph")
class ImageNetPreprocess(layers.Layer):
    """Map [0, 1] RGB images to what an ImageNet-trained network expects.

    A serialisable layer (not a Lambda) so that models load in Keras' safe mode.

    Parameters
    ----------
    mode : {'tf', 'caffe', 'torch', 'raw'}
        ``'tf'``: scale to [-1, 1] (Xception, Inception); ``'caffe'``: BGR, 0-255,
        ImageNet mean removed (ResNet50); ``'torch'``: ImageNet mean and standard
        deviation (DenseNet); ``'raw'``: 0-255 (EfficientNet rescales itself).
    """

    _MEAN = (0.485, 0.456, 0.406)
    _STD = (0.229, 0.224, 0.225)

    def __init__(self, mode="tf", **kwargs):
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, images):
        """Rescale [0, 1] images for the backbone."""
        if self.mode == "tf":
            return images * 2.0 - 1.0
        if self.mode == "caffe":
            bgr = ops.flip(images, axis=-1) * 255.0
            return bgr - ops.convert_to_tensor([103.939, 116.779, 123.68], dtype=bgr.dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor(self._MEAN, dtype=images.dtype)
            return (images - mean) / ops.convert_to_tensor(self._STD, dtype=images.dtype)
        return images * 255.0

    def get_config(self):
        """Serialisable configuration (for .keras files)."""
        return {**super().get_config(), "mode": self.mode}


def _weights_folders():
    """Where ImageNet weights files are looked for, in order."""
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return [folder for folder in (os.environ.get(WEIGHTS_ENV), conf.weights_dir,
                                  os.path.join(keras_home, "models")) if folder]


def imagenet_weights(name):
    """The local ImageNet weights file of backbone ``name``, or None.

    Looked for, in order, in the folder named by the environment variable
    ``ASTRO_MORPH_WEIGHTS``, in ``astro_morph.conf.weights_dir``, and in
    Keras' own cache (``~/.keras/models``), under the backbone's
    ``weights_files`` names.
    """
    for folder in _weights_folders():
        for file_name in get_backbone(name).weights_files:
            path = os.path.join(folder, file_name)
            if os.path.isfile(path):
                return path
    return None


def _resolve_weights(name, weights):
    """None, a local weights file, or "imagenet" for Keras to download."""
    if weights is None:
        return None
    if weights == "imagenet":
        return imagenet_weights(name) or "imagenet"
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise InputError(f"weights file {path!r} of the {name} backbone does not exist.")
    return path


def _applications(constructor, mode, name):
    """Wrap a keras.applications constructor: [0, 1] images in, feature map out."""

    def build(input_shape, weights):
        weights = _resolve_weights(name, weights)
        inputs = keras.Input(input_shape)
        scaled = ImageNetPreprocess(mode, name="imagenet_preprocess")(inputs)
        try:
            base = constructor(include_top=False, weights=weights, input_shape=input_shape)
        except Exception as exc:  # Keras raises a bare Exception for a failed download
            if weights != "imagenet":
                raise ModelFileError(f"could not load the {name} weights from {weights!r} "
                                     f"({exc}); give the backbone's ImageNet no-top weights "
                                     "file.") from exc
            wanted = get_backbone(name).weights_files[0]
            raise ModelFileError(
                f"the ImageNet weights of the {name} backbone are not on this machine and "
                f"could not be downloaded ({str(exc).splitlines()[0]}). Put {wanted!r} "
                "(Keras' file, from a machine with internet: ~/.keras/models) in a folder "
                f"and name it in astro_morph.conf.weights_dir or the {WEIGHTS_ENV} "
                "environment variable, or pass weights=<path of that file>.") from exc
        return keras.Model(inputs, base(scaled), name=f"{base.name}_backbone")

    return build


def compact_cnn(input_shape, weights=None, filters=(16, 32, 64, 128)):
    """A small VGG-style CNN that trains from scratch on a CPU in minutes.

    Four blocks of two 3x3 convolutions with batch normalisation and max pooling.
    ``weights`` must be None (there are no ImageNet weights for it).
    """
    if weights is not None:
        raise InputError("the compact backbone has no pretrained ImageNet weights; "
                         "use weights=None or another backbone.")
    inputs = keras.Input(input_shape)
    x = inputs
    for block, width in enumerate(filters):
        for conv in range(2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False,
                              name=f"block{block + 1}_conv{conv + 1}")(x)
            # Faster-moving statistics suit the few hundred steps of a CPU training run.
            x = layers.BatchNormalization(momentum=0.9, name=f"block{block + 1}_bn{conv + 1}")(x)
            x = layers.Activation("relu", name=f"block{block + 1}_relu{conv + 1}")(x)
        x = layers.MaxPooling2D(name=f"block{block + 1}_pool")(x)
    return keras.Model(inputs, x, name="compact_backbone")


_apps = keras.applications
BACKBONES = {
    "xception": Backbone("xception", _applications(_apps.Xception, "tf", "xception"), 299, 71,
                         weights_files=("xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                        "xception_imagenet_notop.weights.h5")),
    "mobilenet": Backbone("mobilenet", _applications(
        functools.partial(_apps.MobileNet, alpha=1.0), "tf", "mobilenet"), 224, 32,
        weights_files=("mobilenet_1_0_224_tf_no_top.h5",
                       "mobilenet_1.0_imagenet_notop.weights.h5")),
    "resnet50": Backbone("resnet50", _applications(_apps.ResNet50, "caffe", "resnet50"), 224,
                         32, weights_files=(
                             "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",)),
    "inception_v3": Backbone("inception_v3", _applications(_apps.InceptionV3, "tf",
                                                           "inception_v3"), 299, 75,
                             weights_files=(
                                 "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",)),
    "densenet121": Backbone("densenet121", _applications(_apps.DenseNet121, "torch",
                                                         "densenet121"), 224, 32,
                            weights_files=("densenet121_weights_tf_dim_ordering_tf_kernels_"
                                           "notop.h5",)),
    "efficientnet_b0": Backbone("efficientnet_b0", _applications(_apps.EfficientNetB0, "raw",
                                                                 "efficientnet_b0"), 224, 32,
                                weights_files=("efficientnetb0_notop.h5",)),
    "compact": Backbone("compact", compact_cnn, 64, 16, pretrainable=False),
}


def get_backbone(name):
    """Return the registered `Backbone` called ``name``.

    Examples
    --------
    >>> get_backbone("xception").default_input_size
    299
    """
    try:
        return BACKBONES[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown backbone {name!r}; choose one of {sorted(BACKBONES)}.") \
            from None
