"""One classifier, the same galaxies, every entry point: the same pixels, the same p_spiral."""

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from astro_morph import (
    FITSImageSource,
    MockSurvey,
    MorphologyClassifier,
    classify,
    classify_catalog,
    fine_tune,
)
from astro_morph.inputs import prepare_images
from astro_morph.models import training as training_module

from helpers import SMALL


class Recorder:
    """Wraps ``classifier.predict_views`` and keeps every image batch the network saw."""

    def __init__(self, classifier, monkeypatch):
        self.seen = []
        real = classifier.predict_views

        def predict_views(images, *args, **kwargs):
            self.seen.append(np.array(images))
            return real(images, *args, **kwargs)

        monkeypatch.setattr(classifier, "predict_views", predict_views)

    def take(self):
        images, self.seen = np.concatenate(self.seen), []
        return images


def _entry_points(classifier, table, source, tmp_path, monkeypatch, **options):
    """Network inputs and p_spiral of each entry point that cuts images for ``classifier``."""
    recorder = Recorder(classifier, monkeypatch)
    results = {}
    p = classifier.predict_proba(table, source=source, **options)[:, 1]
    results["predict_proba"] = (recorder.take(), p)
    classifier.predict(table, source=source, **options)
    results["predict"] = (recorder.take(), p)
    table_out = classify(table, source, classifier=classifier, **options)
    results["classify"] = (recorder.take(), np.ma.filled(table_out["p_spiral"], np.nan))
    out = tmp_path / f"classified_{len(list(tmp_path.iterdir()))}.ecsv"
    written = classify_catalog(table, source, out, classifier=classifier, chunk_size=3,
                               progress=False, **options)
    results["classify_catalog"] = (recorder.take(),
                                   np.ma.filled(written["p_spiral"], np.nan).astype(float))
    return results


def _assert_all_equal(results):
    (first_images, first_p), *others = results.values()
    for name, (images, p) in results.items():
        np.testing.assert_array_equal(images, first_images, err_msg=name)
        np.testing.assert_allclose(p, first_p, rtol=1e-6, atol=1e-7, err_msg=name)


def test_pretrained_sees_sn2006bh_the_same_way_through_every_entry_point(
        sn2006bh, tmp_path, monkeypatch):
    des = FITSImageSource({b: sn2006bh / f"DES_{b}.fits" for b in "gri"}, survey="des")
    table = Table({"name": ["SN2006bh host"], "ra": [27.9520], "dec": [0.26352]})
    classifier = MorphologyClassifier.pretrained()
    results = _entry_points(classifier, table, des, tmp_path, monkeypatch)
    _assert_all_equal(results)
    # The real barred spiral is a spiral whichever call an astronomer makes (it was
    # p_spiral 0.05 through predict_proba and 0.82 through classify before the framing
    # was stored in the model).
    p_spiral = results["classify"][1][0]
    print(f"SN2006bh p_spiral through every entry point: {p_spiral:.3f}")
    assert p_spiral > 0.5
    # An explicit override applies to every entry point alike.
    _assert_all_equal(_entry_points(classifier, table, des, tmp_path, monkeypatch,
                                    framing=80 * u.arcsec))


@pytest.fixture(scope="module")
def mock():
    return MockSurvey(n_galaxies=12, seed=8)


@pytest.mark.slow
def test_a_model_trained_on_positions_keeps_its_framing(mock, tmp_path, monkeypatch):
    seen_in_training = []
    real = training_module.prepare_images

    def recording(*args, **kwargs):
        images, labels, flags = real(*args, **kwargs)
        seen_in_training.append(images)
        return images, labels, flags

    monkeypatch.setattr(training_module, "prepare_images", recording)
    sdss, des = mock.source("sdss"), mock.source("des")
    catalog = mock.catalog("sdss")
    classifier = MorphologyClassifier(input_size=16, crop_fraction=0.75, epochs=1,
                                      batch_size=4, verbose=0, validation_fraction=0.25,
                                      framing=SMALL).fit(catalog, source=sdss)
    assert classifier.framing_ == SMALL
    # fit saw exactly the inputs that prediction makes of the same galaxies.
    images, _ = classifier.network_inputs(catalog, source=sdss)
    np.testing.assert_array_equal(seen_in_training[0], images)

    # The framing travels in the model file.
    classifier.save(tmp_path / "model.keras")
    loaded = MorphologyClassifier.load(tmp_path / "model.keras")
    assert loaded.framing_ == SMALL and loaded.framing == SMALL

    results = _entry_points(loaded, mock.catalog("des"), des, tmp_path, monkeypatch)
    _assert_all_equal(results)
    direct, _, _ = prepare_images(mock.catalog("des"), loaded.preprocessing_, framing=SMALL,
                                  source=des)
    np.testing.assert_array_equal(results["classify"][0], direct)

    # Fine-tuning cuts the new survey's galaxies the same way, and keeps the framing.
    tuned = fine_tune(loaded, mock.catalog("des"), source=des, epochs=1, verbose=0)
    assert tuned.framing_ == SMALL
    np.testing.assert_array_equal(seen_in_training[-1], direct)
