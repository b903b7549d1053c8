"""CNN backbones: one registry entry per architecture (adding one = adding an entry).

Model code here uses ``keras`` only, so that any Keras backend can run inference.
"""

from collections.abc import Callable
from dataclasses import dataclass

import keras
from keras import layers, ops

from astro_morph.exceptions import InputError

__all__ = ["Backbone", "BACKBONES", "get_backbone", "compact_cnn", "ImageNetPreprocess"]


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
    """

    name: str
    build: Callable
    default_input_size: int
    min_input_size: int
    pretrainable: bool = True


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


def _applications(constructor, mode):
    """Wrap a keras.applications constructor: [0, 1] images in, feature map out."""
    def build(input_shape, weights):
        inputs = keras.Input(input_shape)
        scaled = ImageNetPreprocess(mode, name="imagenet_preprocess")(inputs)
        base = constructor(include_top=False, weights=weights, input_shape=input_shape)
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
    "xception": Backbone("xception", _applications(_apps.Xception, "tf"), 299, 71),
    "resnet50": Backbone("resnet50", _applications(_apps.ResNet50, "caffe"), 224, 32),
    "inception_v3": Backbone("inception_v3", _applications(_apps.InceptionV3, "tf"), 299, 75),
    "densenet121": Backbone("densenet121", _applications(_apps.DenseNet121, "torch"), 224, 32),
    "efficientnet_b0": Backbone("efficientnet_b0", _applications(_apps.EfficientNetB0, "raw"),
                                224, 32),
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
