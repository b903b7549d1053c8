"""Per-image loss weights in fit (sample_weight)."""

import numpy as np
import pytest

from astro_morph import InputError, MorphologyClassifier
from astro_morph.models.checkpoint import training_fingerprint
from tests.helpers import TINY, toy_images


def _fit(images, labels, weights, seed=0):
    clf = MorphologyClassifier(**{**TINY, "epochs": 12, "seed": seed, "augment": False,
                                  "learning_rate": 3e-3})
    return clf.fit(images, labels, sample_weight=weights)


def test_images_of_weight_zero_teach_nothing():
    # Half the images carry the wrong label. Weighted 0 they are ignored and the
    # model learns the true rule; weighted 1 they cancel it out.
    images, labels = toy_images(96, contrast=0.9)
    flipped = labels.copy()
    wrong = np.arange(len(labels)) % 4 >= 2  # every other pair: both classes
    flipped[wrong] = np.where(labels[wrong] == "spiral", "elliptical", "spiral")
    test, truth = toy_images(48, seed=7, contrast=0.9)
    ignored = _fit(images, flipped, np.where(wrong, 0.0, 1.0))
    assert np.mean(ignored.predict(test) == truth) >= 0.9
    counted = _fit(images, flipped, np.ones(len(labels)))
    assert np.mean(counted.predict(test) == truth) < np.mean(ignored.predict(test) == truth)


@pytest.mark.parametrize("weights, match", [
    (np.ones(5), "one number per training image"),
    (-np.ones(16), ">= 0"),
    (np.zeros(16), "at least one above 0"),
    (np.r_[np.nan, np.ones(15)], "finite"),
    (["a"] * 16, "must be numbers"),
])
def test_bad_sample_weights_are_refused_before_training(weights, match):
    images, labels = toy_images(16)
    with pytest.raises(InputError, match=match):
        MorphologyClassifier(**TINY).fit(images, labels, sample_weight=weights)


def test_weights_are_part_of_what_a_resumed_run_must_match():
    images, labels = np.zeros((2, 4, 4, 3)), np.array([0, 1])
    assert training_fingerprint(images, labels, {}, np.ones(2)) != training_fingerprint(
        images, labels, {}, np.array([1.0, 2.0]))
