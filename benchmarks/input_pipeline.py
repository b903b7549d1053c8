"""Benchmark P2: images/s the input pipeline delivers versus images/s a training step
of the default recipe consumes.

Usage: python benchmarks/input_pipeline.py [../shared/data/sdss-gz1] [--images N]

The pipeline is `astro_morph.inputs.file_dataset` on the real Galaxy Zoo 1
JPEGs: parallel decoding, the default crop and resize, caching, shuffling,
batching, prefetching. It is read alone, once from the files (first epoch) and
once from its cache (later epochs). The consumer is the default recipe's
training step (compact CNN at 64 px with its augmentation layer, batch 32) on
batches already in memory. Prints both rates and their ratios, P2 last (the
first, uncached, epoch: the harder case; its time includes `file_dataset`'s
check of every file). JPEGs are decoded only inside their crop window, with
exactly the pixels of `~astro_morph.inputs.Preprocessing.load`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter

import argparse  # noqa: E402
import csv
import time

import keras
import numpy as np

from astro_morph import MorphologyClassifier
from astro_morph.inputs import array_dataset, file_dataset
from astro_morph.models import build_network
from astro_morph.models.training import check_params

parser = argparse.ArgumentParser()
parser.add_argument("data", nargs="?", default="../shared/data/sdss-gz1")
parser.add_argument("--images", type=int, default=None,
                    help="use the first N images (default: all 4,870, one real epoch)")
args = parser.parse_args()

with open(os.path.join(args.data, "labels.csv")) as handle:
    rows = [r for r in csv.DictReader(handle) if r["label"] in ("spiral", "elliptical")]
rows = rows[:args.images]
paths = [os.path.join(args.data, r["filename"]) for r in rows]
labels = np.array([r["label"] == "spiral" for r in rows], dtype=np.int32)
recipe = MorphologyClassifier()
preprocessing = check_params(recipe)  # the default recipe's input size and crop
batch = recipe.batch_size

rates = []
start = time.perf_counter()  # the first epoch includes checking the files
dataset = file_dataset(paths, labels, preprocessing, batch_size=batch, seed=0)
for epoch in range(2):
    start = start if epoch == 0 else time.perf_counter()
    count = sum(int(x.shape[0]) for x, _ in dataset)
    rates.append(count / (time.perf_counter() - start))
    print(f"pipeline epoch {epoch + 1} ({'files' if epoch == 0 else 'cache'}): "
          f"{rates[-1]:.0f} images/s", flush=True)

images = np.concatenate([x.numpy() for x, _ in dataset.take(8)])
model, _ = build_network(recipe.backbone, preprocessing.input_size, 2, augment=True, seed=0)
model.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
ready = array_dataset(images, labels[:len(images)], batch_size=batch).cache()
model.fit(ready, epochs=1, verbose=0)  # tracing
start = time.perf_counter()
model.fit(ready, epochs=3, verbose=0)
consume = 3 * len(images) / (time.perf_counter() - start)
print(f"training step consumes: {consume:.0f} images/s (compact, "
      f"{preprocessing.input_size} px, batch {batch})")
print(f"ratio from the cache: {rates[1] / consume:.1f}x")
print(f"P2 ratio (first epoch, decoding files): {rates[0] / consume:.1f}x")
