"""Both estimators follow scikit-learn's contract: clone and the parameter checks pass."""

import numpy as np
import pytest
from astropy import units as u
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from astro_morph import FeatureClassifier, Framing, InputError, MorphologyClassifier

ESTIMATORS = [MorphologyClassifier(epochs=3, framing=Framing(field=30 * u.arcsec, size=32)),
              FeatureClassifier(input_size=32, framing=Framing(size=64))]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", [check_get_params_invariance, check_set_params,
                                   check_no_attributes_set_in_init,
                                   check_parameters_default_constructible],
                         ids=lambda c: c.__name__)
def test_scikit_learn_parameter_checks(estimator, check):
    check(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_clone_keeps_hyper_parameters_and_drops_fitted_state(estimator):
    fitted = clone(estimator)
    fitted.model_ = "fitted state"
    copy = clone(fitted)
    assert copy.get_params() == estimator.get_params()
    assert not hasattr(copy, "model_")
    with pytest.raises(InputError, match="not fitted"):
        copy.check_fitted()


def test_predict_and_the_columns_share_one_threshold():
    rng = np.random.default_rng(0)
    images = rng.random((16, 16, 16, 3)).astype("float32")
    clf = MorphologyClassifier(input_size=16, crop_fraction=1.0, epochs=1, batch_size=8,
                               verbose=0).fit(images, ["spiral", "elliptical"] * 8)
    proba = clf.predict_proba(images)
    expected = np.where(proba[:, 1] >= 0.5, "spiral", "elliptical")
    np.testing.assert_array_equal(clf.predict(images), expected)
