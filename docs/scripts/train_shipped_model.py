"""Train the model shipped in the package (astro_morph/data/), resumably.

Usage (from the repository root, with ../shared/data beside it), in two rounds:

    python docs/scripts/train_shipped_model.py --out round1.keras
    python docs/scripts/train_shipped_model.py --pseudo-votes round1.keras --minutes 30 \
        --out astro_morph/data/sdss_compact.keras

The model answers the Galaxy Zoo 1 question and the Galaxy Zoo 2 tree (schema
``gz1+gz2``), trained on the votes of every shared Galaxy Zoo galaxy
(benchmarks/realdata.py ``gz_votes``): the 4,870 GZ1 spirals and ellipticals, one vote
each for their GZ1 class, and the 603 GZ2 galaxies, their weighted fractions times the
volunteers who reached each question, each GZ2 galaxy weighing ``--gz2-weight`` in
the loss. With ``--hold-out`` the same recipe leaves out the GZ1 test part and the
held-out GZ2 part: benchmarks/gz_tree.py scores that model. With ``--pseudo-votes
TEACHER`` the 6,504 unlabelled GZ2 images join in, with the votes a teacher model
predicts for them (self-training across the two cutout services): the second round,
whose teacher is the first round's model. Self-training met the GZ1 target and
improved the tree's figures (docs/tree.rst).

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
from realdata import SHARED, gz_votes, require_data  # noqa: E402

from astro_morph import MorphologyClassifier, get_schema  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="astro_morph/data/sdss_compact.keras")
parser.add_argument("--minutes", type=float, default=20.0, help="training budget")
parser.add_argument("--input-size", type=int, default=64)
parser.add_argument("--gz2-weight", type=float, default=0.3,
                    help="loss weight of each GZ2 galaxy (a GZ1 galaxy, one vote, weighs 1; "
                         "a GZ2 galaxy carries ~40 votes on each of several questions)")
parser.add_argument("--pseudo-votes", metavar="TEACHER",
                    help="a model file whose predicted votes on the 6,504 unlabelled GZ2 "
                         "images join the training set (self-training across the cutout "
                         "services, as the seed's recursive training)")
parser.add_argument("--pseudo-count", type=float, default=10.0,
                    help="volunteers each unlabelled galaxy counts as (its predicted "
                         "fractions times this), with --pseudo-votes")
parser.add_argument("--hold-out", action="store_true",
                    help="leave out the GZ1 test part and the held-out GZ2 part "
                         "(for benchmarks/gz_tree.py)")
args = parser.parse_args()
require_data()

schema = get_schema("gz1+gz2")
gz1_train, gz1_test, gz2_train, gz2_held = gz_votes(schema)
parts = [gz1_train, gz2_train] if args.hold_out else [gz1_train, gz1_test, gz2_train,
                                                       gz2_held]
gz2_parts = parts[1:] if args.hold_out else parts[2:]
paths = [p for part in parts for p in part.paths]
counts = np.concatenate([part.counts for part in parts])
n_gz1 = sum(len(part) for part in parts) - sum(len(part) for part in gz2_parts)
weights = np.r_[np.ones(n_gz1), np.full(len(paths) - n_gz1, args.gz2_weight)]
data = (f"SDSS Galaxy Zoo 1 images ({n_gz1}, one vote each for their GZ1 class) and "
        f"SDSS Galaxy Zoo 2 images ({len(paths) - n_gz1}, weighted vote fractions x "
        f"volunteers reaching each question, loss weight {args.gz2_weight:g})")
if args.hold_out:
    data += "; GZ1 test part and held-out GZ2 part (benchmarks/realdata.py, seed 2019) left out"

if args.pseudo_votes:
    folder = os.path.join(SHARED, "sdss-gz2-unlabelled")
    pool = [os.path.join(folder, str(name)) for name in
            Table.read(os.path.join(folder, "files.csv"), format="ascii.csv")["filename"]]
    teacher = MorphologyClassifier.load(args.pseudo_votes)
    if teacher.schema_ != schema:
        raise SystemExit(f"the teacher answers {teacher.schema_.name}, not {schema.name}")
    predicted = teacher.predict_views(teacher.network_inputs(Table({"filename": pool}))[0])
    # Expected fractions as votes of --pseudo-count volunteers along the predicted tree.
    fractions = predicted.mean(axis=0)
    a, b = schema.bounds[schema.index_of("gz1")]
    fractions[:, a:b] = np.nan  # the GZ1 question stays with the GZ1 images' own labels
    pseudo = schema.counts_from_fractions(fractions, np.full(len(pool), args.pseudo_count))
    paths += pool
    counts = np.concatenate([counts, pseudo])
    weights = np.r_[weights, np.full(len(pool), args.gz2_weight)]
    data += (f", and the {len(pool)} unlabelled GZ2 images with the votes predicted by "
             f"{os.path.basename(args.pseudo_votes)} as {args.pseudo_count:g} volunteers "
             f"(loss weight {args.gz2_weight:g})")

classifier = MorphologyClassifier(schema=schema, input_size=args.input_size,
                                  time_budget=args.minutes * u.min, verbose=2)
started = time.perf_counter()
classifier.fit(Table({"filename": paths}), counts, sample_weight=weights,
               checkpoint_dir=args.out + ".checkpoint")
print(f"trained in {(time.perf_counter() - started) / 60:.1f} min (this run; the model "
      f"records the total, {classifier.training_info_['seconds'] / 60:.1f} min)")
pseudo = "self-training on predicted votes of the unlabelled GZ2 images, " \
    if args.pseudo_votes else ""
classifier.save(
    args.out,
    training_data=data + "; labels from the Galaxy Zoo votes",
    recipe=(f"compact CNN from scratch (random initial weights), {args.input_size} px, "
            f"crop 0.35, schema gz1+gz2 (Dirichlet-multinomial loss per question), {pseudo}"
            f"augmentation (rotations, flips, shifts, zooms), Adam "
            f"{classifier.learning_rate:g} annealed over a {args.minutes:g} min budget, "
            "early stopping, ReduceLROnPlateau, temperature calibration"),
    command=" ".join(["python", "docs/scripts/train_shipped_model.py", *sys.argv[1:]]),
)
print(f"written {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")
