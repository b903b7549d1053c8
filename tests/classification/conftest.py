"""Fixtures of the classification tests: a small mock survey and a model trained on it."""

import pytest

from astro_morph import MockSurvey, MorphologyClassifier

from helpers import SMALL


@pytest.fixture(scope="session")
def mock():
    return MockSurvey(n_galaxies=12, seed=4)


@pytest.fixture(scope="session")
def mock_model(mock):
    """A tiny classifier trained on mock SDSS cutouts (positions + source input path)."""
    clf = MorphologyClassifier(input_size=16, epochs=2, batch_size=4, verbose=0, seed=0,
                               crop_fraction=1.0, validation_fraction=0.25, framing=SMALL)
    return clf.fit(mock.catalog("sdss"), source=mock.source("sdss"))
