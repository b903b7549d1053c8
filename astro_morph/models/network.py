"""Assemble the classifier network: augmentation, backbone, head (Keras only)."""

import keras
import numpy as np
from keras import layers

from astro_morph.models.augmentation import GalaxyAugmentation
from astro_morph.models.backbones import get_backbone

__all__ = ["build_network", "build_network_for_tests", "predict_logits", "LOSS"]

#: Loss and metrics a network of `build_network` compiles with (it outputs logits).
LOSS = {"loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "metrics": ["accuracy"]}


def build_network(backbone_name, input_size, n_classes, weights=None, augment=True,
                  colour_jitter=0.0, seed=None, dropout=0.3):
    """Images in [0, 1] -> class logits.

    Returns
    -------
    model : `keras.Model`
        Outputs logits (temperature scaling and softmax happen outside the
        network, so calibration never changes the saved weights).
    backbone : `keras.Model`
        The feature extractor inside ``model`` (named ``"backbone"``).
    """
    spec = get_backbone(backbone_name)
    inputs = keras.Input((input_size, input_size, 3), name="images")
    x = inputs
    if augment:
        x = GalaxyAugmentation(colour_jitter=colour_jitter, rotation=True, seed=seed,
                               name="augmentation")(x)
    backbone = spec.build((input_size, input_size, 3), weights)
    backbone.name = "backbone"
    x = backbone(x)
    x = layers.GlobalAveragePooling2D(name="features")(x)
    x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    # float32 logits under a mixed-precision policy too (stable softmax and loss).
    logits = layers.Dense(n_classes, name="logits", dtype="float32")(x)
    return keras.Model(inputs, logits, name=f"astro_morph_{backbone_name}"), backbone


def build_network_for_tests(backbone_name, input_size):
    """A network with random weights and no augmentation (for tests and benchmarks)."""
    return build_network(backbone_name, input_size, 2, weights=None, augment=False)


def predict_logits(model, images, batch_size=256):
    """The network's logits of a prepared image batch, as float64."""
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
