"""The first stage of transfer learning, cheaply: the head on cached frozen-backbone features.

While the backbone is frozen, each training step spends nearly all its time in the
backbone's forward pass, and the head alone learns. Computing the backbone's pooled
features once per augmented view of every training image and fitting the head on
those features gives the same stage for a few forward passes instead of one per
epoch, so the head can train to convergence before any backbone layer moves.
Keras only (no TensorFlow calls), like the rest of the model code.
"""

import time
import weakref

import keras
import numpy as np

from astro_morph.logger import log
from astro_morph.models.network import apply_head

__all__ = ["feature_extractor", "frozen_features", "fit_head_on_features"]

#: The feature extractor of each network (`feature_extractor`), while the network lives.
_EXTRACTORS = weakref.WeakKeyDictionary()


def feature_extractor(model):
    """The part of ``model`` from its input to its pooled features, as a Keras model.

    Built once per network (and shared by every later call), so that
    repeated calls reuse one traced prediction function.
    """
    extractor = _EXTRACTORS.get(model)
    if extractor is None:
        inputs = keras.Input(model.input_shape[1:])
        pooled = model.get_layer("features")(model.get_layer("backbone")(inputs,
                                                                          training=False))
        extractor = _EXTRACTORS[model] = keras.Model(inputs, pooled)
    return extractor


def frozen_features(model, images, *, views=1, batch_size=64):
    """Pooled backbone features of ``views`` views of ``images``: the images, then
    augmented draws of them.

    Parameters
    ----------
    model : `keras.Model`
        A network of ``build_network`` whose backbone is
        frozen (its batch normalisations then run on their stored statistics).
    images : `~numpy.ndarray`
        (N, S, S, 3) network inputs in [0, 1].
    views : int
        Number of views: the images as they are first, then each further view a
        new random draw of the network's augmentation layer (rotation, flips,
        shift, zoom, colour jitter).
    batch_size : int
        Images per forward pass.

    Returns
    -------
    features : `~numpy.ndarray`
        (views * N, n_features) float32, view after view.
    """
    layer_names = [layer.name for layer in model.layers]
    augmentation = model.get_layer("augmentation") if "augmentation" in layer_names else None
    extractor = feature_extractor(model)
    if not len(images):
        return np.zeros((0, extractor.output_shape[-1]), dtype=np.float32)
    features = []
    for view in range(views):
        for start in range(0, len(images), 1024):
            chunk = images[start:start + 1024]
            if view and augmentation is not None:
                # Called eagerly, batch by batch, so that every view is a new random draw
                # (the layer's seed state advances with each call).
                chunk = np.concatenate([
                    keras.ops.convert_to_numpy(augmentation(chunk[i:i + batch_size],
                                                            training=True))
                    for i in range(0, len(chunk), batch_size)])
            features.append(np.asarray(extractor.predict(chunk, batch_size=batch_size,
                                                         verbose=0), dtype=np.float32))
    return np.concatenate(features)


def fit_head_on_features(model, train_x, train_y, val_x, val_y, *, compile_kwargs, views=4,
                         learning_rate=1e-3, batch_size=32, sample_weight=None,
                         val_sample_weight=None, max_epochs=200, patience=10):
    """Train the classification head of ``model`` on cached frozen-backbone features.

    The head's own layers (dropout and logits) are trained, so ``model`` holds the
    result: the next stage (unfreezing the backbone from the top) starts from a
    converged head.

    Parameters
    ----------
    model : `keras.Model`
        Network with a frozen backbone (see `frozen_features`).
    train_x, train_y : `~numpy.ndarray`
        Training images and their vote counts (N, n_answers).
    val_x, val_y : `~numpy.ndarray`
        Validation images (one plain view each) and counts, for early stopping.
    compile_kwargs : dict
        Loss and metrics (``astro_morph.models.vote_loss.compile_kwargs`` of the schema).
    views : int
        Augmented views of each training image.
    learning_rate, batch_size : float, int
        As in the classifier's training.
    sample_weight, val_sample_weight : `~numpy.ndarray`, optional
        Loss weight of each training and validation image.
    max_epochs, patience : int
        Epochs over the cached features, and the early-stopping patience
        (the best head on the validation features is kept).

    Returns
    -------
    info : dict
        ``seconds_features``, ``seconds_head``, ``epochs``, ``val_accuracy``
        and ``views`` (what the stage cost and reached).
    """
    started = time.monotonic()
    train_features = frozen_features(model, train_x, views=views)
    val_features = frozen_features(model, val_x, views=1)
    features_done = time.monotonic()
    labels = np.concatenate([np.asarray(train_y)] * views)
    weights = None if sample_weight is None else np.tile(sample_weight, views)
    validation = (val_features, val_y) if val_sample_weight is None else (
        val_features, val_y, val_sample_weight)

    inputs = keras.Input(train_features.shape[1:])
    head = keras.Model(inputs, apply_head(model, inputs), name="head")
    head.compile(optimizer=keras.optimizers.Adam(learning_rate), **compile_kwargs)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    history = head.fit(train_features, labels, sample_weight=weights,
                       validation_data=validation, epochs=max_epochs, batch_size=batch_size,
                       callbacks=[stop], shuffle=True, verbose=0)
    best = int(np.argmin(history.history["val_loss"]))
    info = {"views": int(views),
            "seconds_features": round(features_done - started, 1),
            "seconds_head": round(time.monotonic() - features_done, 1),
            "epochs": len(history.history["val_loss"]),
            "val_accuracy": round(float(history.history["val_accuracy"][best]), 4)}
    log.info("head trained on cached features of %d views: %.0f s of features, %.0f s, "
             "%d epochs, validation accuracy %.3f", views, info["seconds_features"],
             info["seconds_head"], info["epochs"], info["val_accuracy"])
    return info
