"""Train the model shipped in the package (astro_morph/data/), resumably.

Usage (from the repository root, with ../shared/data beside it):

    python docs/scripts/train_shipped_model.py --out astro_morph/data/sdss_compact.keras

Data (benchmarks/realdata.py): the GZ1 training part (stratified 80%, seed 2019; its
20% test part is never used). With ``--gz2-weight W`` above 0, the training half of
the GZ2 set (stratified 50%, seed 2019; the other half is held out for
benchmarks/seed_table.py) joins it, each galaxy weighing W in the loss: they carry
Galaxy Zoo 2's smooth/featured answer for elongated galaxies that GZ1 volunteers
called edge-on spirals. docs/science.rst shows what that trade costs; the shipped
model is trained with the default, GZ1 only.

The training state is saved after every epoch in ``OUT.checkpoint/``: if the run is
killed, the same command continues from the last finished epoch (the time budget
counts the time already spent). The model file records the data, the recipe, the
starting weights and the wall time.
"""

import argparse
import os
import sys
import time

import astropy.units as u
import numpy as np
from astropy.table import Table

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from realdata import gz1_split, gz2_set, require_data  # noqa: E402

from astro_morph import MorphologyClassifier  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="astro_morph/data/sdss_compact.keras")
parser.add_argument("--minutes", type=float, default=20.0, help="training budget")
parser.add_argument("--input-size", type=int, default=64)
parser.add_argument("--gz2-weight", type=float, default=0.0,
                    help="loss weight of each galaxy of the GZ2 training half (GZ1 galaxies "
                         "weigh 1); 0, the default, leaves GZ2 out")
args = parser.parse_args()
require_data()

gz1_train, _ = gz1_split()
_, gz2_train, _ = gz2_set()
paths, labels, weights = gz1_train.paths, gz1_train.labels, np.ones(len(gz1_train))
data = (f"SDSS Galaxy Zoo 1 images, stratified 80% of the 4,870 spirals and ellipticals "
        f"(seed 2019, {len(gz1_train)})")
if args.gz2_weight:
    paths = paths + gz2_train.paths
    labels = np.concatenate([labels, gz2_train.labels])
    weights = np.r_[weights, np.full(len(gz2_train), args.gz2_weight)]
    data += (f", and SDSS Galaxy Zoo 2 images, stratified half of the 582 (seed 2019, "
             f"{len(gz2_train)}, loss weight {args.gz2_weight:g})")

classifier = MorphologyClassifier(input_size=args.input_size,
                                  time_budget=args.minutes * u.min, verbose=2)
started = time.perf_counter()
classifier.fit(Table({"filename": paths}), labels, sample_weight=weights,
               checkpoint_dir=args.out + ".checkpoint")
print(f"trained in {(time.perf_counter() - started) / 60:.1f} min (this run; the model "
      f"records the total, {classifier.training_info_['seconds'] / 60:.1f} min)")
classifier.save(
    args.out,
    training_data=data + "; labels from the Galaxy Zoo votes",
    recipe=(f"compact CNN from scratch (random initial weights), {args.input_size} px, "
            f"crop 0.35, augmentation (rotations, flips, shifts, zooms), Adam "
            f"{classifier.learning_rate:g} annealed over a {args.minutes:g} min budget, "
            "early stopping, ReduceLROnPlateau, temperature calibration"),
    command=" ".join(["python", "docs/scripts/train_shipped_model.py", *sys.argv[1:]]),
)
print(f"written {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")
