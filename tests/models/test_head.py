"""The head-only stage of transfer learning on cached frozen-backbone features."""

import keras
import numpy as np
import pytest

from astro_morph import MorphologyClassifier
from astro_morph.catalogs import CLASSES, Schema
from astro_morph.models.head_stage import fit_head_on_features, frozen_features
from astro_morph.models.network import build_network
from astro_morph.models.vote_loss import compile_kwargs
from tests.helpers import toy_images


def _frozen_network(seed=0):
    keras.utils.set_random_seed(seed)
    model, backbone = build_network("compact", 16, 2, augment=True, seed=seed)
    backbone.trainable = False
    return model, backbone


def test_one_view_is_the_network_features_and_more_views_are_augmented():
    model, _ = _frozen_network()
    images, _ = toy_images(8)
    plain = frozen_features(model, images, views=1)
    expected = keras.Model(model.inputs, model.get_layer("features").output).predict(
        images, verbose=0)
    np.testing.assert_allclose(plain, expected, rtol=1e-5, atol=1e-6)
    augmented = frozen_features(model, images, views=3)
    assert augmented.shape == (24, plain.shape[1])
    # Each view is a new draw of the augmentation: the views differ from each other.
    assert not np.allclose(augmented[:8], augmented[8:16])
    assert not np.allclose(augmented[8:16], augmented[16:])
    np.testing.assert_allclose(augmented[:8], plain, rtol=1e-5, atol=1e-6)
    # No images, no features (of the right width), as for predictions.
    assert frozen_features(model, images[:0], views=2).shape == (0, plain.shape[1])


def test_the_head_learns_on_cached_features_and_the_backbone_does_not_move():
    model, backbone = _frozen_network()
    images, labels = toy_images(64, contrast=0.9)
    y = (labels == "spiral").astype(int)
    schema = Schema.from_classes(CLASSES)
    counts = schema.counts_from_labels(y)
    before_backbone = [w.copy() for w in backbone.get_weights()]
    before_head = model.get_layer("logits").get_weights()[0].copy()
    info = fit_head_on_features(model, images[:48], counts[:48], images[48:], counts[48:],
                                compile_kwargs=compile_kwargs(schema), views=2,
                                learning_rate=1e-2, batch_size=16)
    assert info["views"] == 2 and info["epochs"] >= 1
    # The trained head is the model's own layer (no copy to forget).
    assert not np.allclose(model.get_layer("logits").get_weights()[0], before_head)
    for before, after in zip(before_backbone, backbone.get_weights()):
        np.testing.assert_array_equal(before, after)
    # Random convolutional features of the ring/blob toys separate well: the head finds it.
    logits = model.predict(images[48:], verbose=0)
    assert np.mean(np.argmax(logits, 1) == y[48:]) >= 0.8
    assert info["val_accuracy"] >= 0.8


@pytest.mark.parametrize("views, expected", [(0, [(2, 1, 0.1), (4, 2, 1.0), (6, 4, 1.0)]),
                                             (4, [(0, 1, 0.1), (2, 2, 1.0), (4, 4, 1.0)])])
def test_cached_head_moves_the_unfreezing_schedule_back(views, expected):
    from astro_morph.models.training import unfreeze_schedule
    clf = MorphologyClassifier(weights="imagenet", backbone="mobilenet", feature_views=views)
    assert unfreeze_schedule(clf) == expected


def test_bad_feature_views_are_refused_before_training():
    from astro_morph import InputError
    images, labels = toy_images(16)
    with pytest.raises(InputError, match="feature_views"):
        MorphologyClassifier(feature_views=-1, input_size=16, crop_fraction=1.0,
                             verbose=0).fit(images, labels)


@pytest.mark.slow
def test_mobilenet_recipe_trains_its_head_on_cached_features(shared_weights, monkeypatch):
    monkeypatch.setenv("ASTRO_MORPH_WEIGHTS", str(shared_weights))
    images, labels = toy_images(48, side=32, ring=7, ring_width=2, blob=5)
    clf = MorphologyClassifier(backbone="mobilenet", weights="imagenet", input_size=32,
                               crop_fraction=1.0, epochs=2, batch_size=8, feature_views=2,
                               verbose=0)
    clf.fit(images, labels)
    head = clf.training_info_["head_stage"]
    assert head["views"] == 2 and head["epochs"] >= 1
    # The ImageNet features of the frozen backbone separate the toy classes.
    assert head["val_accuracy"] >= 0.75
    # The Keras loop then ran the unfreezing stages only (the first at epoch 0, at a
    # tenth of the learning rate).
    assert clf.training_info_["epochs_run"] == 2
    assert clf.history_["learning_rate"][0] == pytest.approx(1.5e-4)
    proba = clf.predict_proba(images)
    assert proba.shape == (48, 2) and np.allclose(proba.sum(1), 1)
