"""Assemble the classifier network: augmentation, backbone, head (Keras only)."""

import keras
import numpy as np
from keras import layers

from astro_morph.models.augmentation import GalaxyAugmentation
from astro_morph.models.backbones import get_backbone
from astro_morph.models.vote_loss import LogConcentration

__all__ = ["build_network", "predict_logits", "apply_head"]

#: The layers after the pooled features, in order (files before the vote schemas
#: end at "logits").
HEAD_LAYERS = ("dropout", "logits", "log_concentrations")


def build_network(backbone_name, input_size, n_outputs, *, weights=None, augment=True,
                  colour_jitter=0.0, seed=None, dropout=0.3):
    """Images in [0, 1] -> one log-concentration per answer of a schema.

    Parameters
    ----------
    n_outputs : int
        The schema's number of answers (``Schema.n_answers``; 2 for two classes).

    Returns
    -------
    model : `keras.Model`
        Outputs log-concentrations (`~astro_morph.models.LogConcentration`); temperature
        scaling and the softmax within each question happen outside the
        network, so calibration never changes the saved weights.
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
    # float32 outputs under a mixed-precision policy too (stable softmax and loss).
    x = layers.Dense(n_outputs, name="logits", dtype="float32")(x)
    outputs = LogConcentration(name="log_concentrations", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"astro_morph_{backbone_name}"), backbone


def apply_head(model, features):
    """The layers of ``model`` after its pooled features, applied to ``features``."""
    names = {layer.name for layer in model.layers}
    for name in HEAD_LAYERS:
        if name in names:
            features = model.get_layer(name)(features)
    return features


def predict_logits(model, images, batch_size=256):
    """The network's outputs of a prepared image batch, as float64."""
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
