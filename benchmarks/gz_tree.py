"""The Galaxy Zoo tree on held-out galaxies: vote fractions per answer, agreement per question,
and the binary figures beside the previous model.

Usage: python benchmarks/gz_tree.py [--model HELD_OUT.keras] [--previous OLD.keras]
                                   [--gallery PNG]

``--model`` is a model of the shipped recipe trained with the test parts held out,
in its two rounds (the default path is round 2's)::

    python docs/scripts/train_shipped_model.py --hold-out \
        --out benchmarks/results/gz_tree_round1.keras
    python docs/scripts/train_shipped_model.py --hold-out \
        --pseudo-votes benchmarks/results/gz_tree_round1.keras \
        --out benchmarks/results/gz_tree_heldout.keras

Test sets (benchmarks/realdata.py ``gz_votes``): the held-out GZ2 part (302 galaxies: the
binary sets' held-out half and half of the 21 ``other`` galaxies) and the GZ1 test
part (974). Prints

1. per answer, on the held-out GZ2 galaxies where at least half of the volunteers
   reached its question: the mean absolute error of the predicted fractions, that of
   predicting the training galaxies' mean fraction, and their ratio;
2. per question, the accuracy of the most probable answer where volunteers agree (one
   answer's fraction > 0.8), as Walmsley et al. (2022) report it;
3. the binary figures of benchmarks/seed_table.py (p_spiral) for this model and for
   ``--previous`` (the model shipped before the tree, a GZ1-only two-class model; skipped
   when the file is absent);
4. the issue's targets, each with PASS or MISS.

With ``--gallery`` it also draws, from the 6,504 unlabelled GZ2 images (seen by no
model), the galaxies most likely to be called barred, edge-on, spiral-armed, merging
and cigar-shaped (predicted fraction times the probability that the question is asked).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter

import argparse  # noqa: E402

import numpy as np
from astropy.table import Table, vstack
from realdata import gz_votes, require_data

from astro_morph import MorphologyClassifier
from astro_morph.catalogs import positive_index
from astro_morph.evaluation import results_table

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="benchmarks/results/gz_tree_heldout.keras")
parser.add_argument("--previous", default="benchmarks/results/previous_sdss_compact.keras",
                    help="the earlier shipped model (git show 116d549:astro_morph/data/"
                         "sdss_compact.keras > FILE)")
parser.add_argument("--gallery", help="write a gallery PNG of the unlabelled GZ2 galaxies")
args = parser.parse_args()
require_data()

model = MorphologyClassifier.load(args.model)
schema = model.schema_
gz1_train, gz1_test, gz2_train, gz2_held = gz_votes(schema)
votes = model.predict_votes(Table({"filename": gz2_held.paths}))
predicted = np.stack([np.asarray(votes[a]) for a in schema.answers], axis=1)
truth = np.nan_to_num(gz2_held.fractions)
reached = schema.asked(truth) >= 0.5  # at least half of the volunteers got there
reached_train = schema.asked(np.nan_to_num(gz2_train.fractions)) >= 0.5

rows = []
for q, question in enumerate(schema.questions):
    if question.name == "gz1":
        continue
    a, b = schema.bounds[q]
    mask, train_mask = reached[:, q], reached_train[:, q]
    for k in range(a, b):
        train_mean = np.mean(np.nan_to_num(gz2_train.fractions[train_mask, k]))
        mae = np.mean(np.abs(predicted[mask, k] - truth[mask, k])) if mask.any() else np.nan
        mae_mean = np.mean(np.abs(train_mean - truth[mask, k])) if mask.any() else np.nan
        rows.append((schema.answers[k], int(mask.sum()), mae, mae_mean, mae / mae_mean))
answers = Table(rows=rows, names=("answer", "n", "mae", "mae_of_mean", "ratio"))
for name in ("mae", "mae_of_mean", "ratio"):
    answers[name].format = ".3f"
print("1. Vote fractions on the held-out GZ2 galaxies (where >= half the volunteers "
      "reached the question)")
answers.pprint(max_lines=-1, max_width=-1)

rows = []
for q, question in enumerate(schema.questions):
    if question.name == "gz1":
        continue
    a, b = schema.bounds[q]
    agree = reached[:, q] & (truth[:, a:b].max(axis=1) > 0.8)
    right = np.argmax(predicted[agree, a:b], 1) == np.argmax(truth[agree, a:b], 1)
    rows.append((question.name, int(agree.sum()), float(right.mean()) if agree.any()
                 else np.nan))
questions = Table(rows=rows, names=("question", "n_agree", "accuracy"))
questions["accuracy"].format = ".3f"
print("\n2. Most probable answer where volunteers agree (fraction > 0.8)")
questions.pprint(max_lines=-1, max_width=-1)


def binary_sets(classifier):
    def p_spiral(part):
        proba = classifier.predict_proba(Table({"filename": part.paths}))
        return proba[:, positive_index(classifier.classes_)]

    binary = np.isin(gz2_held.labels, ("spiral", "elliptical"))
    p_held = p_spiral(gz2_held)
    hp = gz2_held.hp & binary
    return {"GZ1 test": (gz1_test.labels, p_spiral(gz1_test)),
            "GZ2 held-out": (gz2_held.labels[binary], p_held[binary]),
            "GZ2 held-out HP": (gz2_held.labels[hp], p_held[hp])}


tables = []
for name, path in (("tree (gz1+gz2)", args.model), ("previous (GZ1 only)", args.previous)):
    if not os.path.isfile(path):
        print(f"({path} absent: no figures for {name})")
        continue
    table = results_table(binary_sets(model if path == args.model
                                      else MorphologyClassifier.load(path)))
    table["model"] = name
    tables.append(table)
binary = vstack(tables, metadata_conflicts="silent")
binary = binary[["model", "test_set", "n", "precision", "recall", "fpr", "accuracy", "f1",
                 "roc_auc"]]
print("\n3. p_spiral (the binary figures of benchmarks/seed_table.py)")
binary.pprint(max_lines=-1, max_width=-1)


def answer_row(answer):
    return answers[list(answers["answer"]).index(answer)]


smooth = answer_row("t01_smooth_or_features_a01_smooth")
edge_on = answer_row("t02_edgeon_a04_yes")
t01 = questions[0]
gz1_row = binary[(binary["model"] == "tree (gz1+gz2)") & (binary["test_set"] == "GZ1 test")][0]
print("\n4. Targets")
for text, ok in (
        (f"t01 smooth fraction MAE {smooth['mae']:.3f} <= 0.10 (mean: "
         f"{smooth['mae_of_mean']:.3f})", smooth["mae"] <= 0.10),
        (f"t02 edge-on fraction among featured galaxies MAE {edge_on['mae']:.3f} <= 0.15 "
         f"(mean: {edge_on['mae_of_mean']:.3f})", edge_on["mae"] <= 0.15),
        (f"t01 right where volunteers agree {t01['accuracy']:.3f} >= 0.97 "
         f"({t01['n_agree']} galaxies)", t01["accuracy"] >= 0.97),
        (f"GZ1 test p_spiral accuracy {gz1_row['accuracy']:.3f} >= 0.90, ROC AUC "
         f"{gz1_row['roc_auc']:.3f} >= 0.965",
         gz1_row["accuracy"] >= 0.90 and gz1_row["roc_auc"] >= 0.965)):
    print(f"  {'PASS' if ok else 'MISS'}  {text}")

if args.gallery:
    from realdata import SHARED

    from astro_morph.evaluation import save_vote_gallery

    # The 6,504 unlabelled GZ2 images: the same cutout service, seen by no model.
    folder = os.path.join(SHARED, "sdss-gz2-unlabelled")
    pool = Table.read(os.path.join(folder, "files.csv"), format="ascii.csv")
    files = Table({"filename": [os.path.join(folder, str(name))
                                for name in pool["filename"]]})
    images, _ = model.network_inputs(files)  # decoded once, for the votes and the mosaic
    pool_votes = Table(model.schema_.vote_columns(model.predict_views(images)))
    save_vote_gallery(images, pool_votes, args.gallery, answers=(
        "t03_bar_a06_bar", "t02_edgeon_a04_yes", "t04_spiral_a08_spiral",
        "t08_odd_feature_a24_merger", "t07_rounded_a18_cigar_shaped"))
    print(f"\ngallery written to {args.gallery}")
