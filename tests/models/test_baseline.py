"""The traditional baseline: morphology features and gradient-boosted trees."""


import numpy as np
import pytest

from astro_morph import (
    FeatureClassifier,
    InputError,
)
from astro_morph.models import morphology_features

from helpers import toy_images


# -- traditional baseline ---------------------------------------------------------------
def test_morphology_features_measure_what_they_say():
    yy, xx = np.mgrid[-20:21, -20:21]
    concentrated = np.exp(-np.hypot(xx, yy) / 1.5)
    extended = np.exp(-np.hypot(xx, yy) / 6.0)
    lopsided = extended * (1 + 0.8 * (xx > 0))
    flat = np.exp(-np.hypot(xx, yy / 0.3) / 4.0)
    images = np.stack([np.repeat(im[:, :, None], 3, axis=2) / im.max()
                       for im in (concentrated, extended, lopsided, flat)])
    table = morphology_features(images)
    assert table["concentration"][0] > table["concentration"][1]
    assert table["asymmetry"][2] > 10 * max(table["asymmetry"][1], 1e-3)
    assert table["ellipticity"][3] > 0.5 > table["ellipticity"][1]
    assert table["r50"][1] > table["r50"][0]
    assert np.all(np.isfinite(np.stack([table[c] for c in table.colnames])))


def test_feature_classifier_learns_and_refuses_bad_input():
    images, labels = toy_images(n=40)
    clf = FeatureClassifier(input_size=16, crop_fraction=1.0).fit(images, labels)
    test_images, test_labels = toy_images(n=20, seed=5)
    assert np.mean(clf.predict(test_images) == test_labels) >= 0.9
    assert clf.predict_proba(test_images).shape == (20, 2)
    with pytest.raises(InputError, match="not fitted"):
        FeatureClassifier().predict(test_images)
    with pytest.raises(InputError, match="labels"):
        FeatureClassifier(input_size=16, crop_fraction=1.0).fit(images, labels[:3])
