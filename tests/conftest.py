"""Shared fixtures: the real survey data folder and a small mock survey."""

import os
import pathlib

import numpy as np
import pytest

from astro_morph import MockSurvey, MorphologyClassifier

from helpers import SMALL, TINY, synthetic_gz2_votes, toy_images

_DEFAULT_SHARED = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def _shared_data_dir():
    path = pathlib.Path(os.environ.get("ASTRO_MORPH_SHARED_DATA", _DEFAULT_SHARED))
    return path.resolve() if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data():
    """The real survey data folder (../shared/data or $ASTRO_MORPH_SHARED_DATA); skips if absent."""
    path = _shared_data_dir()
    if path is None:
        pytest.skip("real survey data not found: set ASTRO_MORPH_SHARED_DATA to ../shared/data")
    return path


@pytest.fixture(scope="session")
def shared_weights():
    """The folder of real ImageNet weights (../shared/weights or $ASTRO_MORPH_WEIGHTS)."""
    path = pathlib.Path(os.environ.get("ASTRO_MORPH_WEIGHTS", _DEFAULT_SHARED.parent / "weights"))
    if not (path / "mobilenet_1.0_imagenet_notop.weights.h5").is_file():
        pytest.skip("ImageNet weights not found: set ASTRO_MORPH_WEIGHTS to ../shared/weights")
    return path.resolve()


@pytest.fixture(scope="session")
def sn2006bh(shared_data):
    """Folder of the real DES/SDSS/PS1 images of the SN2006bh host galaxy."""
    return shared_data / "fits" / "SN2006bh"


@pytest.fixture(scope="session")
def mock_survey():
    """A small mock survey, rendered once per test session."""
    return MockSurvey(n_galaxies=16, seed=11)


#: Doctests that train a network for longer than a few seconds.
SLOW_DOCTESTS = {"astro_morph.workflows.transfer.fine_tune",
                 "astro_morph.models.classifier.MorphologyClassifier"}


def pytest_collection_modifyitems(items):
    """Mark the slow doctests ``slow`` (test functions carry the marker themselves)."""
    for item in items:
        if item.name in SLOW_DOCTESTS:
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
    """Print how many distinct bad inputs the bad-input suite fed through (and passed)."""
    passed = [r.nodeid for r in terminalreporter.stats.get("passed", [])]
    count = sum(("::test_bad_input[" in n or "::test_bad_command_line[" in n) for n in passed)
    if count:
        terminalreporter.write_line(f"bad-input suite: {count} distinct bad inputs, each "
                                    "answered by an astro_morph error naming the fix")


@pytest.fixture
def labelled_folder():
    """Write a folder of small labelled images and its labels.csv; returns the CSV path.

    Ellipticals carry a red square, spirals (and "other") a blue one, on faint noise:
    learnable in a few epochs.
    """
    def write(folder, n=16, classes=("spiral", "elliptical"), side=32, suffix=".png"):
        from PIL import Image
        rng = np.random.default_rng(0)
        rows = ["filename,label"]
        low, high = side * 3 // 8, side * 5 // 8
        for i in range(n):
            label = classes[i % len(classes)]
            image = (rng.random((side, side, 3)) * 60).astype(np.uint8)
            image[low:high, low:high, 0 if label == "elliptical" else 2] = 250
            Image.fromarray(image).save(folder / f"{i}{suffix}")
            rows.append(f"{i}{suffix},{label}")
        (folder / "labels.csv").write_text("\n".join(rows) + "\n")
        return folder / "labels.csv"
    return write


@pytest.fixture(scope="session")
def toy_model():
    """A small classifier fitted on toy galaxies (a blue ring or a red blob)."""
    images, labels = toy_images()
    return MorphologyClassifier(epochs=6, seed=1, **TINY).fit(images, labels)


@pytest.fixture(scope="session")
def small_mock():
    """A mock survey of 12 galaxies for the classification tests."""
    return MockSurvey(n_galaxies=12, seed=4)


@pytest.fixture(scope="session")
def small_model(small_mock):
    """A tiny classifier trained on the small mock's SDSS cutouts (positions + source)."""
    clf = MorphologyClassifier(input_size=16, epochs=2, batch_size=4, verbose=0, seed=0,
                               crop_fraction=1.0, validation_fraction=0.25, framing=SMALL)
    return clf.fit(small_mock.catalog("sdss"), source=small_mock.source("sdss"))


@pytest.fixture(scope="session")
def gz2_model(small_mock):
    """A tiny classifier of the GZ2 tree trained on the small mock's SDSS cutouts."""
    catalog = small_mock.catalog("sdss")
    clf = MorphologyClassifier(schema="gz2", input_size=16, epochs=2, batch_size=4, verbose=0,
                               seed=0, crop_fraction=1.0, validation_fraction=0.25,
                               framing=SMALL)
    return clf.fit(catalog, synthetic_gz2_votes(catalog["label"]),
                   source=small_mock.source("sdss"))
