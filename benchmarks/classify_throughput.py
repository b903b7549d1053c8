"""Benchmark P3: ``classify(table)`` end to end versus the model's own prediction on
ready arrays, with the same batch size.

Usage: python benchmarks/classify_throughput.py [--galaxies 512] [--batch-size 256]
                                               [--model MODEL.keras]

``classify`` parses the positions, cuts 128-pixel cutouts of a 100" field from a
mock DES tile in g, r, i (``resampling="fast"``), subtracts the sky, makes the
colour images, crops and resizes them, predicts with 8-fold test-time
augmentation, and adds the columns (for the shipped model, a tree of 43
answers: every answer's fraction and spread, every question's ``_asked``). The
reference is ``predict_proba`` of the same classifier (the pretrained one
unless ``--model``; the same 8 views) on the ready network inputs. Both run
``--repeats`` times, alternately, and the fastest run of each counts (the usual
way to time on a shared machine). Prints galaxies per second of each and their
ratio last (1.0: the plumbing costs nothing).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter

import argparse  # noqa: E402
import time

import numpy as np

from astro_morph import MockSurvey, MorphologyClassifier, classify

parser = argparse.ArgumentParser()
parser.add_argument("--galaxies", type=int, default=512)
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--repeats", type=int, default=5,
                    help="alternate runs of each; the fastest of each counts (shared machines)")
parser.add_argument("--model", help="a model file (default: the pretrained model)")
args = parser.parse_args()

mock = MockSurvey(n_galaxies=args.galaxies, seed=5)
catalog, source = mock.catalog("des"), mock.source("des")
source.images_for("g", None)  # render the tiles before timing
classifier = MorphologyClassifier.load(args.model) if args.model \
    else MorphologyClassifier.pretrained()
# The network inputs classify makes (the model's own framing: 100" over 128 pixels).
ready, _ = classifier.network_inputs(catalog, source=source)
classify(catalog[:8], source, classifier=classifier)  # warm-up (tracing, caches)
classifier.predict_proba(ready[:8])

predict_times, classify_times = [], []
for _ in range(args.repeats):  # alternated, so a busy spell on the machine hits both
    start = time.perf_counter()
    for first in range(0, len(ready), args.batch_size):
        classifier.predict_proba(ready[first:first + args.batch_size])
    predict_times.append(time.perf_counter() - start)

    start = time.perf_counter()
    result = classify(catalog, source, classifier=classifier, batch_size=args.batch_size)
    classify_times.append(time.perf_counter() - start)
    assert len(result) == len(catalog) and not np.any(result["p_spiral"].mask)
predict_seconds, classify_seconds = min(predict_times), min(classify_times)

n = len(catalog)
print(f"{n} galaxies, batch {args.batch_size}, network input "
      f"{classifier.preprocessing_.input_size} px, 8 TTA views, schema "
      f"{classifier.schema_.name!r} ({len(result.colnames) - len(catalog.colnames)} columns "
      "added)")
print(f"predict_proba on ready arrays: {n / predict_seconds:.1f} galaxies/s "
      f"(runs: {', '.join(f'{t:.2f}' for t in predict_times)} s)")
print(f"classify end to end:           {n / classify_seconds:.1f} galaxies/s "
      f"(runs: {', '.join(f'{t:.2f}' for t in classify_times)} s)")
print(f"P3 ratio (classify / predict throughput): {predict_seconds / classify_seconds:.2f}")
