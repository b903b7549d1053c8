"""The seed paper's results table on real data: the shipped model beside the from-scratch baseline.

Usage: python benchmarks/seed_table.py [--baseline MODEL.keras] [--minutes 8]
                                       [--save-baseline MODEL.keras] [--model MODEL.keras]

The shipped model learns every shared Galaxy Zoo galaxy (the GZ1 and GZ2 test parts
included), so its rows here are not held-out figures: ``--model`` scores another file
in its place, such as the same recipe trained with the test parts held out
(benchmarks/gz_tree.py, which prints these figures for it beside the previous model).

Test sets (benchmarks/realdata.py): the GZ1 test part (stratified 20%, seed 2019), the
held-out half of the GZ2 set (another cutout service; docs/scripts/train_shipped_model.py
may train on the other half) and its high-probability (HP) part, and for a model that
saw no GZ2 galaxy (its record says so) all 582 GZ2 spirals and ellipticals and their
312 HP galaxies. The from-scratch baseline is the default recipe,
``MorphologyClassifier()``: the compact CNN at 64 pixels on the GZ1 training part,
trained here within ``--minutes`` (8, as in benchmarks/model_selection.py) unless
``--baseline`` names a file of it. Prints
precision, recall, false-positive rate, accuracy, F1 and ROC AUC of each, then
``classify``'s speed with the shipped model and default settings (positions on a mock
DES tile: cutouts, colour images, 8-view test-time augmentation), in galaxies per
second, the best of three runs.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter

import argparse  # noqa: E402
import time

import astropy.units as u
from astropy.table import Table, vstack
from realdata import gz1_split, gz2_set, require_data

from astro_morph import MockSurvey, MorphologyClassifier, classify
from astro_morph.catalogs import positive_index
from astro_morph.evaluation import results_table

parser = argparse.ArgumentParser()
parser.add_argument("--baseline", help="a model file of the baseline recipe (else trained)")
parser.add_argument("--save-baseline", help="save the baseline trained here to this file")
parser.add_argument("--minutes", type=float, default=8.0, help="baseline training budget")
parser.add_argument("--galaxies", type=int, default=512, help="galaxies for the speed test")
parser.add_argument("--model", help="score this model file instead of the shipped one")
args = parser.parse_args()
require_data()

gz1_train, gz1_test = gz1_split()
gz2_all, _, gz2_held = gz2_set()
shipped = MorphologyClassifier.load(args.model) if args.model \
    else MorphologyClassifier.pretrained()
if args.baseline:
    baseline = MorphologyClassifier.load(args.baseline)
else:
    baseline = MorphologyClassifier(time_budget=args.minutes * u.min, verbose=0)
    baseline.fit(Table({"filename": gz1_train.paths}), gz1_train.labels)
    if args.save_baseline:
        baseline.save(args.save_baseline, training_data="sdss-gz1 stratified 80% (seed 2019)")


def p_spiral(classifier, part):
    proba = classifier.predict_proba(Table({"filename": part.paths}))
    return proba[:, positive_index(classifier.classes_)]


tables = []
for name, classifier in (("shipped", shipped), ("from-scratch baseline", baseline)):
    p_held = p_spiral(classifier, gz2_held)
    sets = {"GZ1 test": (gz1_test.labels, p_spiral(classifier, gz1_test)),
            "GZ2 held-out half": (gz2_held.labels, p_held),
            "GZ2 held-out HP": (gz2_held.labels[gz2_held.hp], p_held[gz2_held.hp])}
    training_data = getattr(classifier, "provenance_", {}).get("training_data", "")
    if "Galaxy Zoo 2" not in training_data:
        p_all = p_spiral(classifier, gz2_all)
        sets["GZ2 all 582"] = (gz2_all.labels, p_all)
        sets["GZ2 HP 312"] = (gz2_all.labels[gz2_all.hp], p_all[gz2_all.hp])
    table = results_table(sets)
    table["model"] = name
    tables.append(table)
table = vstack(tables, metadata_conflicts="silent")
table = table[["model", "test_set", "n", "precision", "recall", "fpr", "accuracy", "f1",
               "roc_auc"]]
table.pprint(max_lines=-1, max_width=-1)

mock = MockSurvey(n_galaxies=args.galaxies, seed=5)
catalog, source = mock.catalog("des"), mock.source("des")
source.images_for("g", None)  # render the tiles before timing
classify(catalog[:8], source, classifier=shipped)  # warm-up (tracing, caches)
best = float("inf")
for _ in range(3):
    started = time.perf_counter()
    classify(catalog, source, classifier=shipped)
    best = min(best, time.perf_counter() - started)
info = shipped.training_info_
print(f"shipped model: {shipped.provenance_['file']}, {shipped.backbone} at "
      f"{shipped.preprocessing_.input_size} px, trained {info.get('seconds', 0) / 60:.0f} min")
print(f"classify (default settings, {len(catalog)} galaxies): "
      f"{len(catalog) / best:.0f} galaxies/s")
