"""How closely ``MorphologyClassifier(time_budget=...)`` keeps its wall-clock budget.

Trains the default compact network on toy images with a budget of a few
seconds and no epoch limit in reach, and prints the wall time of ``fit``
(training plus calibration) against the budget. The ratio is what a user
planning a cluster job by ``time_budget`` meets; it is printed last.

    python benchmarks/time_budget.py [--budget 4]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from astro_morph import MorphologyClassifier  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--budget", type=float, default=4.0, help="seconds")
parser.add_argument("--images", type=int, default=48)
args = parser.parse_args()

rng = np.random.default_rng(0)
images = rng.random((args.images, 16, 16, 3)).astype("float32")
labels = ["spiral", "elliptical"] * (args.images // 2)
classifier = MorphologyClassifier(input_size=16, epochs=100_000, batch_size=8, patience=10**6,
                                  time_budget=args.budget, verbose=0, seed=0)
start = time.perf_counter()
classifier.fit(images, labels)
seconds = time.perf_counter() - start
print(f"budget {args.budget:.1f} s: fit took {seconds:.2f} s "
      f"({classifier.training_info_['epochs_run']} epochs)")
print(f"wall time / budget: {seconds / args.budget:.2f}")
