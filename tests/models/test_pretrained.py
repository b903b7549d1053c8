"""The model shipped in the package: loads offline, small, and right on a real galaxy."""

import importlib.resources

import numpy as np
from astropy import units as u
from astropy.table import Table

from astro_morph import FITSImageSource, MorphologyClassifier, classify
from astro_morph.imaging import CUTOUT_FLAGS
from astro_morph.models.io import PRETRAINED_FILE


def test_pretrained_loads_offline_with_provenance():
    clf = MorphologyClassifier.pretrained()
    assert clf.classes_ == ("elliptical", "spiral")
    assert clf.backbone == "compact"
    assert "Galaxy Zoo" in clf.provenance_["training_data"]
    assert clf.training_info_["n_train"] + clf.training_info_["n_validation"] == 4870
    path = importlib.resources.files("astro_morph") / "data" / PRETRAINED_FILE
    assert path.stat().st_size < 5e6  # a few MB at most


def test_pretrained_calls_the_sn2006bh_barred_spiral_a_spiral(sn2006bh):
    des = FITSImageSource({b: sn2006bh / f"DES_{b}.fits" for b in "gri"}, survey="des")
    table = Table({"name": ["SN2006bh host"], "ra": [27.9520], "dec": [0.26352]})
    # Galaxy Zoo frames a galaxy in 10 R90; this one's R90 exceeds 20", more than the
    # 63" DES file holds, so we frame the widest field it allows (80", under half blank).
    result = classify(table, des, framing=80 * u.arcsec)
    assert result["morphology"][0] == "spiral"
    assert result["p_spiral"][0] > 0.5
    assert result["flag"][0] == CUTOUT_FLAGS["partial_coverage"]


def test_pretrained_on_real_gz1_images(shared_data):
    # These images were in the training set: a check that loading, preprocessing and
    # calibration line up with training, not a measure of generalisation.
    clf = MorphologyClassifier.pretrained()
    folder = shared_data / "sdss-gz1"
    labels = Table.read(folder / "labels.csv", format="ascii.csv")[:200]
    labels = labels[np.isin(labels["label"], clf.classes_)]
    labels["filename"] = [str(folder / name) for name in labels["filename"]]
    predicted = clf.predict(labels)  # a Table with a 'filename' column: the files are read
    assert np.mean(predicted == np.asarray(labels["label"])) > 0.85
