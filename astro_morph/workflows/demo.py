"""The demo: the seed's science workflow end to end on the embedded mock survey, offline.

Mock SDSS-like and DES-like images of one sky (GalSim) -> crossmatched
catalogs -> cutouts reprojected onto one grid -> colour images -> a CNN
trained on SDSS-like galaxies -> results on SDSS-like and DES-like images of
the same test galaxies, beside a traditional baseline and a DES fine-tune ->
labels for unlabelled DES-like galaxies -> one round of recursive training ->
t-SNE of the learned features -> an HTML report.
"""

import os
import time

import numpy as np
from astropy import units as u
from astropy.table import Table

from astro_morph.catalogs.crossmatch import crossmatch
from astro_morph.catalogs.galaxyzoo import curate_galaxy_zoo, split_sets, summarize_sets
from astro_morph.catalogs.labels import POSITIVE_CLASS, THRESHOLD, classes_from_probability
from astro_morph.catalogs.tableio import write_table
from astro_morph.classification.classify import classify
from astro_morph.evaluation import (
    Report,
    accuracy_by_bin,
    embed_features,
    evaluate_across_surveys,
    plot_embedding,
    plot_roc_curves,
    plot_self_training,
    results_table,
    save_confident_gallery,
    save_misclassified_gallery,
    save_mosaic,
)
from astro_morph.exceptions import InputError
from astro_morph.imaging.cutouts import make_cutouts
from astro_morph.imaging.rgb import bands_to_rgb
from astro_morph.inputs.framing import Framing
from astro_morph.inputs.images import prepare_images
from astro_morph.inputs.preprocessing import Preprocessing
from astro_morph.logger import log
from astro_morph.models.baseline import FeatureClassifier
from astro_morph.models.classifier import MorphologyClassifier
from astro_morph.models.history import plot_history
from astro_morph.surveys.fits import FITSImageSource
from astro_morph.surveys.mock import MockSurvey
from astro_morph.workflows.selftrain import self_train
from astro_morph.workflows.transfer import fine_tune

__all__ = ["run_demo", "DEMO_FRAMING"]

#: Cutouts of the demo: 64 pixels of 0.396" (SDSS's pixel), 25" across; mock
#: galaxies sit 32" apart, so each cutout shows one galaxy. The CNN stores it,
#: so `classify` cuts the test and unlabelled galaxies the same way.
DEMO_FRAMING = Framing(field=64 * 0.396 * u.arcsec, size=64)
_STEPS = 9
#: Fewest mock galaxies that give every set of the demo both classes.
MIN_GALAXIES = 100
#: Fraction of hard mock galaxies (faint, small or edge-on): most mock galaxies are easy.
HARD_FRACTION = 0.5


def _step(number, text):
    log.info("[%d/%d] %s", number, _STEPS, text)


def _shared_data():
    """The real data folder ($ASTRO_MORPH_SHARED_DATA or ../shared/data), if present."""
    folder = os.environ.get("ASTRO_MORPH_SHARED_DATA", os.path.join(os.pardir, "shared", "data"))
    return folder if os.path.isdir(os.path.join(folder, "fits", "SN2006bh")) else None


def _images(table, source):
    """Colour cutouts of the rows of ``table`` from ``source``, as the classifiers take them
    (each classifier crops and resizes them its own way, as it did in training)."""
    whole = Preprocessing(input_size=DEMO_FRAMING.size, crop_fraction=1.0)
    images, _, _ = prepare_images(table, whole, framing=DEMO_FRAMING, source=source)
    return images


def _mock_overlap(output_dir, n_galaxies, seed, progress, written):
    """Render the mock survey, crossmatch its catalogs, write cutouts and a mosaic."""
    mock = MockSurvey(n_galaxies=n_galaxies, seed=seed, hard_fraction=HARD_FRACTION)
    written["mock"] = mock.write(os.path.join(output_dir, "mock"), overwrite=True)
    sources = {"SDSS": mock.source("sdss"), "DES": mock.source("des")}
    matched = crossmatch(mock.catalog("sdss"), mock.catalog("des"), max_separation=1 * u.arcsec)
    cutouts = {s: make_cutouts(src, matched, progress=progress,
                               **DEMO_FRAMING.cutout_kwargs(DEMO_FRAMING.field))
               for s, src in sources.items()}
    for survey, batch in cutouts.items():
        written[f"cutouts_{survey.lower()}"] = os.path.join(
            output_dir, f"cutouts_{survey.lower()}.fits")
        batch.write(written[f"cutouts_{survey.lower()}"], overwrite=True)
    r_sdss, r_des = cutouts["SDSS"].band("r"), cutouts["DES"].band("r")
    matched["r_correlation"] = [np.corrcoef(a.ravel(), b.ravel())[0, 1]
                                for a, b in zip(r_sdss, r_des)]
    titles = [f"{label[:4]} r={mag:.1f}" for label, mag in zip(matched["label"], matched["r_mag"])]
    written["mosaic"] = save_mosaic(
        [bands_to_rgb(cutouts["SDSS"]), bands_to_rgb(cutouts["DES"])],
        os.path.join(output_dir, "mosaic.png"), row_labels=["SDSS-like", "DES-like"],
        titles=titles, columns=12)
    written["matched"] = os.path.join(output_dir, "matched.ecsv")
    write_table(matched, written["matched"], overwrite=True)
    return mock, sources, matched


def _train(train, sdss, seed, progress):
    classifier = MorphologyClassifier(input_size=48, crop_fraction=0.75, epochs=40,
                                      batch_size=16, learning_rate=2e-3, patience=12, seed=seed,
                                      framing=DEMO_FRAMING, verbose=1 if progress else 0)
    return classifier.fit(train, train["label"], source=sdss)


def _mock_votes(matched, truth, seed, volunteers=40):
    """Galaxy Zoo-like debiased vote fractions for the mock galaxies.

    Each galaxy gets ``volunteers`` votes; a volunteer picks the true class
    with probability 0.95, or 0.7 for the hard cases (faint, small, edge-on),
    so some galaxies miss the clean and high-probability thresholds as in
    Galaxy Zoo. The true class moves to ``true_label``.
    """
    rng = np.random.default_rng([seed, 1])
    hard = np.asarray(truth["hard_case"])[np.asarray(matched["truth_id"])] != ""
    right = rng.binomial(volunteers, np.where(hard, 0.7, 0.95)) / volunteers
    matched.rename_column("label", "true_label")
    is_spiral = np.asarray(matched["true_label"]) == "spiral"
    matched["p_cs_debiased"] = np.where(is_spiral, right, 1 - right)
    matched["p_el_debiased"] = 1 - matched["p_cs_debiased"]
    return matched


def _compare(classifier, sets, sources, seed):
    """Results of the CNN, the baseline and the DES fine-tune on the FO and HP test sets."""
    pre = classifier.preprocessing_
    test = sets["test"]
    _, classified, agreement = evaluate_across_surveys(classifier, test, sources)
    truth, hp = np.asarray(test["label"]), np.asarray(test["hp"])
    rows = {}
    for survey in sources:
        p_survey = np.ma.filled(classified[f"{survey.lower()}_p_spiral"], np.nan)
        rows[f"CNN, {survey}-like, FO test"] = (truth, p_survey)
        rows[f"CNN, {survey}-like, HP test"] = (truth[hp], p_survey[hp])
    images = {s: _images(test, src) for s, src in sources.items()}
    images["train"] = _images(sets["train"], sources["SDSS"])
    baseline = FeatureClassifier(input_size=pre.input_size, crop_fraction=pre.crop_fraction,
                                 seed=seed).fit(
        images["train"], sets["train"]["label"])
    tune = sets["finetune"]
    tuned = fine_tune(classifier, _images(tune, sources["DES"]), tune["label"], verbose=0)
    p = {"CNN": rows["CNN, DES-like, FO test"][1],
         "baseline": baseline.predict_proba(images["DES"])[:, 1],
         f"CNN fine-tuned on {len(tune)} DES-like": tuned.predict_proba(images["DES"])[:, 1]}
    rows["baseline, SDSS-like, FO test"] = (truth, baseline.predict_proba(images["SDSS"])[:, 1])
    for name in list(p)[1:]:
        rows[f"{name}, DES-like, FO test"] = (truth, p[name])
    finite = {name: (y[np.isfinite(v)], v[np.isfinite(v)]) for name, (y, v) in rows.items()}
    return results_table(finite), agreement, images, p


def _label_unlabelled(classifier, unlabelled, des, output_dir, written):
    hidden = unlabelled["true_label"]
    unlabelled = unlabelled.copy()
    # These galaxies have no labels as far as we know.
    unlabelled.remove_columns(["label", "true_label", "p_cs_debiased", "p_el_debiased", "hp",
                               "fo"])
    labelled = classify(unlabelled, des, classifier=classifier, prefix="des_")
    written["labelled"] = write_table(labelled, os.path.join(output_dir, "des_labelled.ecsv"),
                                      overwrite=True)
    p = np.ma.filled(labelled["des_p_spiral"], np.nan)
    good = np.isfinite(p)
    accuracy = float(np.mean((p[good] >= THRESHOLD) == (np.asarray(hidden)[good]
                                                        == POSITIVE_CLASS)))
    return labelled, accuracy


def _curated_sets(report, matched, truth, seed):
    """Galaxy Zoo-like labels, the full-overlap galaxies split into the demo's sets."""
    # Labels as Galaxy Zoo would give them: the full-overlap (FO) galaxies with a clean
    # class, and the high-probability (HP) subset.
    curated = curate_galaxy_zoo(_mock_votes(matched, truth, seed))
    curated = curated[curated["fo"]]
    names = ("train", "test", "finetune", "unlabelled")
    curated["set"] = split_sets(curated["label"], fractions=(0.45, 0.25, 0.1, 0.2), seed=seed,
                                names=names)
    sets = {name: curated[curated["set"] == name] for name in names}
    report.add_table("Data sets (crossmatched mock SDSS x DES galaxies, Galaxy Zoo-like labels)",
                     summarize_sets({"training (SDSS-like)": sets["train"],
                                     "FO test": sets["test"],
                                     "HP test": sets["test"][sets["test"]["hp"]],
                                     "fine-tuning (DES-like)": sets["finetune"],
                                     "unlabelled (DES-like)": sets["unlabelled"]}),
                     caption="Mock volunteer votes (40 per galaxy) give each galaxy Galaxy "
                             "Zoo-like vote fractions; FO: clean class (fraction >= 0.8), "
                             "HP: spiral >= 0.985 or elliptical >= 0.926.")
    return sets


def _evaluation_section(report, classifier, sets, sources, seed):
    results, agreement, images, p = _compare(classifier, sets, sources, seed)
    truth = np.asarray(sets["test"]["label"])
    report.add_table("Results on the test galaxies", results)
    report.add_table("Agreement between the SDSS-like and DES-like predictions", agreement)
    for column, name in (("r_mag", "magnitude"), ("half_light_radius", "size")):
        report.add_table(f"Accuracy by {name} (CNN, DES-like images, FO test)", accuracy_by_bin(
            truth, p["CNN"], sets["test"][column], 3, name=column))
    curves = {name: (truth, values) for name, values in p.items()}
    report.add_figure("ROC curves on the DES-like FO test images",
                      plot_roc_curves(curves, report.path("roc.png")))
    wrong = save_misclassified_gallery(images["DES"], truth, p["CNN"],
                                       report.path("misclassified.png"))
    if wrong:
        report.add_figure("Misclassified test galaxies (DES-like images)", wrong)
    return results, images


def _labelling_section(report, classifier, unlabelled, des, output_dir, written):
    labelled, label_accuracy = _label_unlabelled(classifier, unlabelled, des, output_dir,
                                                 written)
    images = _images(unlabelled, des)
    p_spiral = np.ma.filled(labelled["des_p_spiral"], np.nan)
    report.add_text("Labelling unlabelled DES-like galaxies",
                    f"{len(labelled)} galaxies labelled and written to des_labelled.ecsv; "
                    f"against their hidden mock truth the labels are {label_accuracy:.1%} right.")
    report.add_figure("Most confident spirals and ellipticals among them",
                      save_confident_gallery(images, p_spiral, report.path("confident.png")))
    return images, p_spiral, label_accuracy


def _self_training_section(report, classifier, sets, images, unlabelled_images):
    truth = np.asarray(sets["test"]["label"])
    tests = {"SDSS-like": (images["SDSS"], truth), "DES-like": (images["DES"], truth)}
    _, history = self_train(classifier, (images["train"], sets["train"]["label"]),
                            unlabelled_images, test_sets=tests, rounds=1, epochs=8)
    report.add_table("Recursive training", history)
    report.add_figure("Accuracy against galaxies added",
                      plot_self_training(history, report.path("self_training.png")))
    return history


def _embedding_section(report, classifier, images, p_spiral, true_labels, seed):
    predicted = classes_from_probability(p_spiral)
    embedding = embed_features(classifier.features(images), predicted, y_true=true_labels,
                               seed=seed)
    report.add_figure("t-SNE of the learned features (unlabelled DES-like galaxies)",
                      plot_embedding(embedding, report.path("tsne.png")),
                      caption=f"silhouette score of the predicted classes "
                              f"{embedding.meta['silhouette_predicted']:.3f} (-1 to 1; higher "
                              f"is better separated); colour: predicted class; marker: hidden "
                              f"true class")
    return embedding


def _sn2006bh(report):
    folder = _shared_data()
    if folder is None:
        report.add_text("A real galaxy: SN2006bh's host",
                        "The real DES images of SN2006bh's host were not found (set "
                        "ASTRO_MORPH_SHARED_DATA to the shared data folder to include them).")
        return None
    des = FITSImageSource({b: os.path.join(folder, "fits", "SN2006bh", f"DES_{b}.fits")
                           for b in "gri"}, survey="des")
    result = classify(Table({"name": ["SN2006bh host"], "ra": [27.9520], "dec": [0.26352]}),
                      des, framing=80 * u.arcsec)
    report.add_table("A real galaxy: SN2006bh's host (DES g, r, i; the pretrained model)",
                     result["name", "ra", "dec", "p_spiral", "p_spiral_std", "morphology",
                            "flag"])
    return result


def run_demo(*, output_dir="astro_morph_demo", n_galaxies=400, seed=0, progress=False):
    """Run the seed's workflow on a mock SDSS + DES overlap and write an HTML report.

    Renders ``n_galaxies`` with GalSim as an SDSS-like and a DES-like survey,
    crossmatches the catalogs, and splits the matched galaxies into a
    training set, a test set, a few for fine-tuning on DES and an
    "unlabelled" set (its labels are hidden and only used to score the
    labelling). Then it trains a CNN on SDSS-like cutouts, evaluates it on
    SDSS-like and DES-like images of the same test galaxies beside a
    traditional baseline and a DES fine-tune, labels the unlabelled galaxies
    from their DES-like images, runs one round of recursive training, embeds
    the learned features with t-SNE, classifies the real SN2006bh host with
    the pretrained model when the shared data is present, and writes:

    - ``mock/``: the mock survey's FITS images and ECSV catalogs;
    - ``matched.ecsv``, ``cutouts_sdss.fits``, ``cutouts_des.fits``, ``mosaic.png``;
    - ``des_labelled.ecsv``: the unlabelled galaxies with morphology columns;
    - ``report.html`` and its PNGs.

    Parameters
    ----------
    output_dir : str
        Folder for the products (created).
    n_galaxies : int
        Number of mock galaxies (at least ``MIN_GALAXIES``).
    seed : int
        Random seed of the mock survey, the splits and the training.
    progress : bool
        Show progress bars and per-epoch lines (default False; ``astro-morph
        demo`` shows them unless ``--quiet``).

    Returns
    -------
    summary : dict
        Paths written, counts, the results table and the wall time.
    """
    if n_galaxies < MIN_GALAXIES:
        raise InputError(f"the demo needs n_galaxies >= {MIN_GALAXIES} (enough labelled "
                         f"galaxies for every set), got {n_galaxies}.")
    start = time.perf_counter()
    os.makedirs(output_dir, exist_ok=True)
    written = {}
    _step(1, f"rendering {n_galaxies} mock galaxies as SDSS-like and DES-like images")
    mock, sources, matched = _mock_overlap(output_dir, n_galaxies, seed, progress, written)
    report = Report(output_dir,
                    title="astro_morph demo: the seed's workflow on a mock SDSS + DES sky")
    sets = _curated_sets(report, matched, mock.truth, seed)
    report.add_figure("The same galaxies seen by both surveys", written["mosaic"])

    _step(2, f"training the CNN on {len(sets['train'])} SDSS-like galaxies")
    classifier = _train(sets["train"], sources["SDSS"], seed, progress)
    report.add_figure("Training curves", plot_history(classifier.history_,
                                                      report.path("training.png")))
    _step(3, "evaluating on SDSS-like and DES-like images of the test galaxies; baseline; "
             "DES fine-tune")
    results, images = _evaluation_section(report, classifier, sets, sources, seed)
    _step(4, f"labelling {len(sets['unlabelled'])} unlabelled DES-like galaxies")
    unlabelled_images, p_unlabelled, label_accuracy = _labelling_section(
        report, classifier, sets["unlabelled"], sources["DES"], output_dir, written)
    _step(5, "one round of recursive training on the most confident labels")
    history = _self_training_section(report, classifier, sets, images, unlabelled_images)
    _step(6, "t-SNE of the learned features of the unlabelled galaxies")
    embedding = _embedding_section(report, classifier, unlabelled_images, p_unlabelled,
                                   sets["unlabelled"]["true_label"], seed)
    _step(7, "classifying a real galaxy (SN2006bh's host) with the pretrained model")
    sn2006bh = _sn2006bh(report)
    _step(8, "writing the report")
    written["report"] = report.write()
    seconds = time.perf_counter() - start
    _step(9, f"done in {seconds:.0f} s: {written['report']}")
    return {"written": written, "n_galaxies": n_galaxies, "n_matched": len(matched),
            "median_r_correlation": float(np.median(matched["r_correlation"])),
            "results": results, "self_training": history,
            "silhouette": embedding.meta["silhouette_predicted"],
            "label_accuracy": label_accuracy, "sn2006bh": sn2006bh, "seconds": seconds}
