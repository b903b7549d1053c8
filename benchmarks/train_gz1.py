"""Benchmark: the default recipe on real SDSS Galaxy Zoo 1 images, stratified 80/20.

Usage: python benchmarks/train_gz1.py [../shared/data/sdss-gz1] [--minutes 20]

Trains MorphologyClassifier() on a stratified 80% of the spiral and elliptical
images within the time budget and prints the seed's metrics on the other 20%,
with the wall time and the model size, beside the traditional baseline
(FeatureClassifier: photutils morphology measurements and gradient-boosted
trees) trained and tested on the same split.
"""

import argparse
import csv
import os
import tempfile
import time

import astropy.units as u
import numpy as np
from astropy.table import Table
from sklearn.model_selection import train_test_split

from astro_morph import FeatureClassifier, MorphologyClassifier
from astro_morph.evaluation import results_table

parser = argparse.ArgumentParser()
parser.add_argument("data", nargs="?", default="../shared/data/sdss-gz1")
parser.add_argument("--minutes", type=float, default=20.0)
parser.add_argument("--save", help="also save the trained model here")
args = parser.parse_args()

with open(os.path.join(args.data, "labels.csv")) as handle:
    rows = [r for r in csv.DictReader(handle) if r["label"] in ("spiral", "elliptical")]
paths = [os.path.join(args.data, r["filename"]) for r in rows]
labels = np.array([r["label"] for r in rows])
train_paths, test_paths, train_labels, test_labels = train_test_split(
    paths, labels, test_size=0.2, stratify=labels, random_state=2019)

start = time.perf_counter()
classifier = MorphologyClassifier(time_budget=args.minutes * u.min, verbose=2)
# File names in, as a user would: the classifier crops and resizes each image once.
classifier.fit(Table({"filename": train_paths}), train_labels)
train_seconds = time.perf_counter() - start

test = Table({"filename": test_paths})
p_spiral = classifier.predict_proba(test)[:, classifier.classes_.index("spiral")]

start = time.perf_counter()
baseline = FeatureClassifier().fit(Table({"filename": train_paths}), train_labels)
p_baseline = baseline.predict_proba(test)[:, 1]
baseline_seconds = time.perf_counter() - start
table = results_table({"CNN (default recipe), GZ1 held-out 20%": (test_labels, p_spiral),
                       "traditional baseline, same split": (test_labels, p_baseline)})
with tempfile.TemporaryDirectory() as folder:
    path = args.save or os.path.join(folder, "benchmark.keras")
    classifier.save(path, training_data="sdss-gz1 stratified 80% (benchmark)")
    size_mb = os.path.getsize(path) / 1e6
info = classifier.training_info_
print(f"train images {len(train_paths)}, test images {len(test_paths)}, "
      f"epochs {info['epochs_run']}, temperature {classifier.temperature_:.2f}")
table.pprint(max_width=-1)
print(f"wall time (training incl. loading) {train_seconds / 60:.1f} min, model {size_mb:.1f} MB; "
      f"baseline {baseline_seconds:.0f} s")
gain = table["accuracy"][0] - table["accuracy"][1]
print(f"CNN accuracy - baseline accuracy: {100 * gain:+.1f} points")
print(f"accuracy {table['accuracy'][0]:.4f} ROC AUC {table['roc_auc'][0]:.4f}")
