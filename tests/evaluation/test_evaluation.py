"""Evaluation: results tables, agreement, bins, t-SNE, the report."""

import html
import re

import numpy as np
import pytest
from astropy.table import Table

from astro_morph import (
    InputError,
    embed_features,
    write_report,
)
from astro_morph.evaluation import (
    Report,
    accuracy_by_bin,
    plot_self_training,
    results_table,
    survey_agreement,
)

from helpers import toy_images


# -- tables of results --------------------------------------------------------------------
def test_results_agreement_and_bins():
    truth = np.array(["spiral", "elliptical"] * 5)
    p_sdss = np.where(truth == "spiral", 0.9, 0.1)
    p_des = p_sdss.copy()
    p_des[:2] = 1 - p_des[:2]  # two galaxies change class between the surveys
    table = results_table({"SDSS": (truth, p_sdss), "DES": (truth, p_des)})
    assert table["accuracy"].tolist() == [1.0, 0.8]
    agreement = survey_agreement(p_sdss, p_des)
    assert agreement["agreement"][0] == pytest.approx(0.8)
    assert agreement["mean_abs_difference"][0] == pytest.approx(0.16)
    bins = accuracy_by_bin(truth, p_des, np.arange(10.0), [0, 4.5, 10], name="r_mag")
    assert bins["n"].tolist() == [5, 5] and bins["accuracy"].tolist() == [0.6, 1.0]
    with pytest.raises(InputError):
        survey_agreement([0.1, 0.2], [0.1])

# -- embedding --------------------------------------------------------------------------
def test_embedding_silhouette_separates_learned_from_random(toy_model):
    images, labels = toy_images(n=40, seed=2)
    features = toy_model.features(images)
    assert features.shape[0] == 40 and features.dtype == np.float32
    learned = embed_features(features, toy_model.predict(images), y_true=labels)
    shuffled = embed_features(features, np.random.default_rng(0).permutation(labels))
    assert learned.meta["silhouette_label"] > 0.2
    assert learned.meta["silhouette_label"] > shuffled.meta["silhouette_predicted"] + 0.2
    assert {"x", "y", "predicted", "label"} <= set(learned.colnames)
    with pytest.raises(InputError, match="at least 5"):
        embed_features(features[:3], ["spiral"] * 3)

# -- the report -------------------------------------------------------------------------
def _links(page):
    return re.findall(r'src="([^"]+)"', page)


def test_report_links_resolve_and_missing_figures_are_refused(toy_model, tmp_path):
    images, labels = toy_images(n=40, seed=9)
    page = write_report(toy_model, images, labels, output_dir=tmp_path / "report", name="toy")
    text = (tmp_path / "report" / "report.html").read_text()
    assert page.endswith("report.html")
    links = _links(text)
    assert {"roc.png", "confusion.png", "training.png", "tsne.png", "confident.png"} <= set(links)
    for link in links:
        assert (tmp_path / "report" / html.unescape(link)).read_bytes()[:4] == b"\x89PNG"
    assert "roc_auc" in text and "silhouette" in text
    report = Report(tmp_path / "other")
    report.add_figure("never written", report.path("missing.png"))
    with pytest.raises(InputError, match="never written"):
        report.write()
    assert not (tmp_path / "other" / "report.html").exists()
    with pytest.raises(InputError, match="outside the report folder"):
        report.add_figure("elsewhere", tmp_path / "report" / "roc.png")


def test_self_training_plot(tmp_path):
    history = Table({"round": [0, 1], "n_added": [0, 10], "accuracy_des": [0.9, 0.92],
                     "mean_accuracy": [0.9, 0.92]})
    assert plot_self_training(history, tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
