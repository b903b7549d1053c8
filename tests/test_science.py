"""The seed's science workflow: curation, cross-survey tables, baseline, t-SNE, recursive
training, fine-tuning and the report."""

import html
import re

import numpy as np
import pytest
from astropy.table import Table

from astro_morph import (
    FeatureClassifier,
    InputError,
    MorphologyClassifier,
    curate_galaxy_zoo,
    embed_features,
    fine_tune,
    self_train,
    split_sets,
    summarize_sets,
    write_report,
)
from astro_morph.catalogs import HP_THRESHOLDS
from astro_morph.evaluation import (
    Report,
    accuracy_by_bin,
    plot_self_training,
    results_table,
    survey_agreement,
)
from astro_morph.models import morphology_features

TINY = {"input_size": 16, "crop_fraction": 1.0, "batch_size": 8, "verbose": 0}


def _toy_images(n=48, seed=0, contrast=0.8):
    """Spirals carry a blue ring, ellipticals a red blob."""
    rng = np.random.default_rng(seed)
    images = rng.random((n, 16, 16, 3)).astype("float32") * 0.2
    labels = np.array(["spiral", "elliptical"] * (n // 2))
    yy, xx = np.mgrid[:16, :16]
    radius = np.hypot(xx - 7.5, yy - 7.5)
    images[labels == "spiral", :, :, 2] += (np.abs(radius - 4) < 1.2) * contrast
    images[labels == "elliptical", :, :, 0] += (radius < 3) * contrast
    return np.clip(images, 0, 1), labels


@pytest.fixture(scope="module")
def toy_model():
    images, labels = _toy_images()
    return MorphologyClassifier(epochs=6, seed=1, **TINY).fit(images, labels)


# -- Galaxy Zoo curation -------------------------------------------------------------
def test_hp_and_fo_membership_at_the_thresholds():
    gz = Table({"p_cs_debiased": [0.985, 0.9849, 0.80, 0.79, 0.0, 0.0, 0.0],
                "p_el_debiased": [0.0, 0.0, 0.0, 0.0, 0.926, 0.9259, 0.5]})
    curated = curate_galaxy_zoo(gz)
    assert curated["label"].tolist() == ["spiral", "spiral", "spiral", "", "elliptical",
                                         "elliptical", ""]
    assert curated["hp"].tolist() == [True, False, False, False, True, False, False]
    assert curated["fo"].tolist() == [True, True, True, False, True, True, False]
    assert curated.meta["galaxy_zoo"]["spiral_threshold"] == HP_THRESHOLDS["spiral"] == 0.985
    assert "label" not in gz.colnames  # the input is not modified
    stricter = curate_galaxy_zoo(gz, spiral_threshold=0.99, elliptical_threshold=0.95)
    assert not stricter["hp"].any()


def test_curation_reads_raw_fractions_and_names_missing_columns():
    curated = curate_galaxy_zoo(Table({"P_CS": [0.9], "P_EL": [0.05]}))
    assert curated["label"][0] == "spiral" and curated.meta["galaxy_zoo"]["spiral_column"] == "P_CS"
    with pytest.raises(InputError, match="p_cs_debiased"):
        curate_galaxy_zoo(Table({"ra": [1.0]}))
    with pytest.raises(InputError, match="vote fraction"):
        curate_galaxy_zoo(Table({"P_CS": [0.9], "P_EL": [0.05]}), clean_threshold=1.5)


def test_split_sets_is_stratified_and_summarised():
    labels = np.array(["spiral"] * 30 + ["elliptical"] * 70)
    split = split_sets(labels, (0.6, 0.2, 0.2), seed=3)
    assert (split == "train").sum() == 60 and (split == "test").sum() == 20
    assert ((split == "test") & (labels == "spiral")).sum() == 6
    summary = summarize_sets({name: labels[split == name] for name in ("train", "test")})
    assert summary["spirals"].tolist() == [18, 6] and summary["total"].tolist() == [60, 20]
    with pytest.raises(InputError, match="summing to 1"):
        split_sets(labels, (0.5, 0.2, 0.2))


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
    images, labels = _toy_images(n=40)
    clf = FeatureClassifier(input_size=16, crop_fraction=1.0).fit(images, labels)
    test_images, test_labels = _toy_images(n=20, seed=5)
    assert np.mean(clf.predict(test_images) == test_labels) >= 0.9
    assert clf.predict_proba(test_images).shape == (20, 2)
    with pytest.raises(InputError, match="not fitted"):
        FeatureClassifier().predict(test_images)
    with pytest.raises(InputError, match="labels"):
        FeatureClassifier(input_size=16, crop_fraction=1.0).fit(images, labels[:3])


# -- embedding --------------------------------------------------------------------------
def test_embedding_silhouette_separates_learned_from_random(toy_model):
    images, labels = _toy_images(n=40, seed=2)
    features = toy_model.features(images)
    assert features.shape[0] == 40 and features.dtype == np.float32
    learned = embed_features(features, toy_model.predict(images), labels)
    shuffled = embed_features(features, np.random.default_rng(0).permutation(labels))
    assert learned.meta["silhouette_label"] > 0.2
    assert learned.meta["silhouette_label"] > shuffled.meta["silhouette_predicted"] + 0.2
    assert {"x", "y", "predicted", "label"} <= set(learned.colnames)
    with pytest.raises(InputError, match="at least 5"):
        embed_features(features[:3], ["spiral"] * 3)


# -- fine-tuning and recursive training ---------------------------------------------------------
def test_fine_tune_starts_from_the_given_weights(toy_model):
    images, labels = _toy_images(n=16, seed=4)
    # A negligible learning rate: the fine-tuned model is the starting model.
    tuned = fine_tune(toy_model, images, labels, epochs=1, learning_rate_factor=1e-7)
    np.testing.assert_allclose(tuned.model_.get_weights()[0], toy_model.model_.get_weights()[0],
                               atol=1e-5)
    assert tuned is not toy_model and tuned.preprocessing_ == toy_model.preprocessing_
    with pytest.raises(InputError, match="MorphologyClassifier"):
        fine_tune("model.keras", images, labels)


def test_a_loaded_fine_tune_says_how_to_train_again(toy_model, tmp_path):
    # Saved after continuing from an in-memory classifier, the model records where it
    # started; fitting the loaded model again asks for starting weights instead of
    # looking for a file named after that record.
    images, labels = _toy_images(n=16, seed=4)
    tuned = fine_tune(toy_model, images, labels, epochs=1)
    loaded = MorphologyClassifier.load(tuned.save(tmp_path / "tuned.keras"))
    assert loaded.weights.startswith("continued from")
    with pytest.raises(InputError, match="set_params"):
        loaded.fit(images, labels)
    loaded.set_params(weights=str(tmp_path / "tuned.keras"), epochs=1).fit(images, labels)
    assert loaded.predict_proba(images).shape == (16, 2)


def test_self_train_adds_confident_galaxies_and_records_each_round(toy_model):
    images, labels = _toy_images(n=48, seed=0)
    pool, pool_truth = _toy_images(n=40, seed=7)
    test_images, test_labels = _toy_images(n=24, seed=8)
    best, history = self_train(toy_model, (images, labels), pool,
                               test_sets={"toy": (test_images, test_labels)}, rounds=2,
                               per_round=10, threshold=0.6, patience=2, epochs=2)
    assert history["round"].tolist()[0] == 0 and len(history) >= 2
    assert history["n_added"].tolist() == sorted(history["n_added"].tolist())
    assert history["n_added"][1] == 10 and history["n_train"][1] == 58
    assert history["accuracy_toy"][0] == pytest.approx(
        np.mean(toy_model.predict(test_images) == test_labels))
    best_round = history.meta["best_round"]
    assert history["mean_accuracy"][best_round] == max(history["mean_accuracy"])
    assert isinstance(best, MorphologyClassifier)
    with pytest.raises(InputError, match="test set"):
        self_train(toy_model, (images, labels), pool, test_sets={})
    with pytest.raises(InputError, match="tuple"):
        self_train(toy_model, images, pool, test_sets={"toy": (test_images, test_labels)})


def test_self_train_judges_and_retrains_on_the_images_as_fit_takes_them():
    # The class shows only in a thin ring that the classifier's crop (0.75) keeps and a
    # second crop would cut away: self_train must not crop the images twice.
    def ringed(n, seed):
        rng = np.random.default_rng(seed)
        images = rng.random((n, 16, 16, 3)).astype("float32") * 0.1
        labels = np.array(["spiral", "elliptical"] * (n // 2))
        yy, xx = np.mgrid[:16, :16]
        ring = (np.hypot(xx - 7.5, yy - 7.5) > 4.9) & (np.hypot(xx - 7.5, yy - 7.5) < 5.9)
        images[labels == "spiral", :, :, 2] += ring * 0.8
        images[labels == "elliptical", :, :, 0] += ring * 0.8
        return np.clip(images, 0, 1), labels

    images, labels = ringed(48, 0)
    cropping = MorphologyClassifier(epochs=6, seed=1, input_size=16, crop_fraction=0.75,
                                    batch_size=8, verbose=0).fit(images, labels)
    test_images, test_labels = ringed(24, 8)
    assert np.mean(cropping.predict(test_images) == test_labels) > 0.9
    pool, _ = ringed(20, 7)
    _, history = self_train(cropping, (images, labels), pool, rounds=1, per_round=5,
                            threshold=0.5, epochs=1, test_sets={"toy": (test_images,
                                                                        test_labels)})
    assert history["accuracy_toy"][0] == pytest.approx(
        np.mean(cropping.predict(test_images) == test_labels))
    with pytest.raises(InputError, match="image batches"):
        self_train(cropping, (images, labels), Table({"ra": [1.0], "dec": [2.0]}),
                   test_sets={"toy": (test_images, test_labels)})


def test_self_train_stops_when_nothing_is_confident():
    # Barely visible features and one epoch: a classifier unsure of everything.
    images, labels = _toy_images(n=32, contrast=0.02)
    unsure = MorphologyClassifier(epochs=1, seed=2, learning_rate=1e-5, **TINY).fit(images,
                                                                                     labels)
    pool, _ = _toy_images(n=10, seed=3, contrast=0.02)
    highest = unsure.predict_proba(pool).max()
    assert highest < 0.95
    _, history = self_train(unsure, (images, labels), pool, test_sets={"toy": (images, labels)},
                            threshold=(highest + 1) / 2)
    assert history["round"].tolist() == [0] and history["n_added"].tolist() == [0]


# -- the report -------------------------------------------------------------------------
def _links(page):
    return re.findall(r'src="([^"]+)"', page)


def test_report_links_resolve_and_missing_figures_are_refused(toy_model, tmp_path):
    images, labels = _toy_images(n=40, seed=9)
    page = write_report(toy_model, images, labels, tmp_path / "report", name="toy")
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
