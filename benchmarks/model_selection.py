"""Model selection at equal wall time: ImageNet backbones against the from-scratch CNN.

Usage: python benchmarks/model_selection.py [--minutes 8] [--size 96]
                                            [--models compact,mobilenet,xception]
                                            [--out benchmarks/results/model_selection]

Each model trains on the GZ1 training part (benchmarks/realdata.py: stratified 80%,
seed 2019) from the image files, within the same wall-clock budget (reading the
files included), and is tested on the GZ1 test part and on all 582 GZ2 spirals and
ellipticals (another cutout service; none of them used here) with the seed's
metrics. ImageNet backbones follow the seed's recipe: the head first on cached
frozen-backbone features (4 augmented views), then progressive unfreezing from the
top at lower learning rates, batch normalisations frozen. Writes one JSON and one
probability file per model (a finished model is not trained again: delete its JSON
to rerun), the ROC curves of every model on each test set in one PNG per set, and
prints the results table with the training times.
"""

import argparse
import json
import os
import time

import astropy.units as u
import numpy as np
from astropy.table import Table, vstack
from realdata import gz1_split, gz2_set, require_data

from astro_morph import MorphologyClassifier
from astro_morph.catalogs import positive_index
from astro_morph.evaluation import plot_roc_curves, results_table

parser = argparse.ArgumentParser()
parser.add_argument("--minutes", type=float, default=8.0, help="training budget per model")
parser.add_argument("--size", type=int, default=96, help="network input side (pixels)")
parser.add_argument("--models", default="compact,compact@64,mobilenet,xception",
                    help="backbones, each at --size or at NAME@SIZE pixels")
parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "model_selection"))
args = parser.parse_args()
require_data()
os.makedirs(args.out, exist_ok=True)

train, gz1_test = gz1_split()
gz2_all, _, _ = gz2_set()
names = args.models.split(",")

def parse(entry):
    """(backbone, input size, file stem) of a --models entry."""
    backbone, _, size = entry.partition("@")
    size = int(size or args.size)
    return backbone, size, f"{backbone}_{size}"


for entry in names:
    name, size, stem = parse(entry)
    record = os.path.join(args.out, f"{stem}.json")
    if os.path.isfile(record):
        print(f"{stem}: already measured ({record})")
        continue
    weights = None if name == "compact" else "imagenet"
    classifier = MorphologyClassifier(backbone=name, weights=weights, input_size=size,
                                      time_budget=args.minutes * u.min, verbose=2)
    started = time.perf_counter()
    classifier.fit(Table({"filename": train.paths}), train.labels)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    positive = positive_index(classifier.classes_)
    p_gz1 = classifier.predict_proba(Table({"filename": gz1_test.paths}))[:, positive]
    rate = len(gz1_test) / (time.perf_counter() - started)
    p_gz2 = classifier.predict_proba(Table({"filename": gz2_all.paths}))[:, positive]
    np.savez(os.path.join(args.out, f"{stem}.npz"), gz1=p_gz1, gz2=p_gz2)
    info = classifier.training_info_
    with open(record, "w") as handle:
        json.dump({"model": name, "weights": weights, "input_size": size,
                   "budget_minutes": args.minutes, "train_seconds": round(seconds, 1),
                   "epochs_run": info["epochs_run"], "head_stage": info.get("head_stage"),
                   "predict_images_per_second": round(rate, 1),
                   "n_parameters": int(classifier.model_.count_params())}, handle, indent=1)

rows, curves = [], {"GZ1 test": {}, "GZ2 (all 582)": {}}
for entry in names:
    name, size, stem = parse(entry)
    with open(os.path.join(args.out, f"{stem}.json")) as handle:
        record = json.load(handle)
    probabilities = np.load(os.path.join(args.out, f"{stem}.npz"))
    label = f"{name} {size} px ({'ImageNet' if record['weights'] else 'scratch'})"
    sets = {"GZ1 test": (gz1_test.labels, probabilities["gz1"]),
            "GZ2 (all 582)": (gz2_all.labels, probabilities["gz2"]),
            "GZ2 HP": (gz2_all.labels[gz2_all.hp], probabilities["gz2"][gz2_all.hp])}
    table = results_table(sets)
    table["model"] = label
    table["train_min"] = record["train_seconds"] / 60
    table["epochs"] = record["epochs_run"]
    rows.append(table)
    for key in curves:
        curves[key][label] = sets[key]
table = vstack(rows, metadata_conflicts="silent")
for key, file_name in (("GZ1 test", "roc_gz1.png"), ("GZ2 (all 582)", "roc_gz2.png")):
    plot_roc_curves(curves[key], os.path.join(args.out, file_name),
                    title=f"{key}: {args.minutes:g} min each, 2 CPU cores")
columns = ["model", "test_set", "n", "accuracy", "precision", "recall",
           "fpr", "f1", "roc_auc", "train_min", "epochs"]
table = table[[c for c in columns if c in table.colnames]]
for column in table.colnames[3:]:
    table[column].info.format = ".3f" if column != "epochs" else "d"
table.pprint(max_lines=-1, max_width=-1)
table.write(os.path.join(args.out, "results.ecsv"), overwrite=True)
print(f"ROC curves: {args.out}/roc_gz1.png, {args.out}/roc_gz2.png")
