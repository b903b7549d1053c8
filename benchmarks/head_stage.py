"""Benchmark: the head-only stage of transfer learning, in the Keras loop or on cached features.

Usage: python benchmarks/head_stage.py [--backbone mobilenet] [--size 96] [--epochs 2]
                                       [--views 1,4]

On the GZ1 training part (benchmarks/realdata.py, 85% to train and 15% to validate, as
`fit` splits it), with ImageNet weights and the backbone frozen:

- loop: the head trains inside the Keras loop for ``--epochs`` epochs (the "auto"
  unfreezing schedule's head-only epochs), one backbone pass per image and epoch,
  with augmentation;
- cached: the backbone's features of each image (1 view, the default of
  ``feature_views``) or of the image and augmented draws of it (more views) are
  computed once and the head trains on them until the validation loss stops
  improving (`astro_morph.models.head_stage`).

Prints the wall time and the validation accuracy and loss of each, and the ratio of
each cached variant's time to the loop's. The default is the backbone and size of
the model-selection study.

With ``--first-stage RATES`` (comma-separated Adam learning rates), the head of the
first cached variant then trains one more epoch in the Keras loop (augmentation on)
with the top quarter of the backbone unfrozen at each rate (the "auto" schedule's
first stage is 1.5e-4), and once with the backbone still frozen, each from the same
weights: what the first unfrozen epoch does to the validation figures.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter

import argparse  # noqa: E402
import time

import keras
import numpy as np
from realdata import gz1_split, require_data
from sklearn.model_selection import train_test_split

from astro_morph.catalogs import CLASSES, Schema
from astro_morph.inputs import Preprocessing
from astro_morph.models.callbacks import layer_groups, set_trainable_groups
from astro_morph.models.head_stage import fit_head_on_features
from astro_morph.models.network import build_network
from astro_morph.models.vote_loss import compile_kwargs

parser = argparse.ArgumentParser()
parser.add_argument("--backbone", default="mobilenet")
parser.add_argument("--size", type=int, default=96)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--views", default="1,4", help="views of the cached variants")
parser.add_argument("--first-stage", default="",
                    help="learning rates of one epoch with the top quarter unfrozen")
args = parser.parse_args()
require_data()

train, _ = gz1_split()
preprocessing = Preprocessing(input_size=args.size, crop_fraction=0.35)
images = np.stack([preprocessing.load(path) for path in train.paths])
labels = (train.labels == "spiral").astype(int)
schema = Schema.from_classes(CLASSES)
LOSS = compile_kwargs(schema)
train_x, val_x, train_y, val_y = train_test_split(images, labels, test_size=0.15,
                                                  stratify=labels, random_state=0)
train_counts, val_counts = schema.counts_from_labels(train_y), schema.counts_from_labels(val_y)


def frozen_network():
    keras.utils.set_random_seed(0)
    model, backbone = build_network(args.backbone, args.size, 2, weights="imagenet", seed=0)
    backbone.trainable = False
    return model, backbone


def validation(model):
    logits = model.predict(val_x, batch_size=64, verbose=0)
    loss = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(val_y, logits))
    return float(np.mean(np.argmax(logits, 1) == val_y)), loss


model, _ = frozen_network()
model.compile(optimizer=keras.optimizers.Adam(1.5e-3), **LOSS)
started = time.perf_counter()
model.fit(train_x, train_counts, epochs=args.epochs, batch_size=32, verbose=0, shuffle=True)
loop_seconds = time.perf_counter() - started
loop_accuracy, loop_loss = validation(model)

print(f"{args.backbone} at {args.size} px, ImageNet weights, backbone frozen; "
      f"{len(train_y)} training and {len(val_y)} validation images")
print(f"loop:   {args.epochs} epochs in {loop_seconds:.0f} s; validation accuracy "
      f"{loop_accuracy:.4f}, loss {loop_loss:.4f}")
first_head = None  # (model, backbone) of the first cached variant, for --first-stage
for views in [int(v) for v in args.views.split(",")]:
    model, backbone = frozen_network()
    started = time.perf_counter()
    info = fit_head_on_features(model, train_x, train_counts, val_x, val_counts,
                                compile_kwargs=LOSS, views=views, learning_rate=1.5e-3)
    seconds = time.perf_counter() - started
    accuracy, loss = validation(model)
    print(f"cached, {views} view(s): features {info['seconds_features']:.0f} s, head "
          f"{info['epochs']} epochs in {info['seconds_head']:.0f} s; validation accuracy "
          f"{accuracy:.4f}, loss {loss:.4f}; time / loop {seconds / loop_seconds:.2f}")
    first_head = first_head or (model, backbone)

if args.first_stage:
    model, backbone = first_head
    head_weights = model.get_weights()
    groups = layer_groups(backbone, 4)
    for rate in [0.0] + [float(r) for r in args.first_stage.split(",")]:
        model.set_weights(head_weights)
        set_trainable_groups(backbone, groups, 1 if rate else 0)
        model.compile(optimizer=keras.optimizers.Adam(rate or 1.5e-5), **LOSS)
        started = time.perf_counter()
        model.fit(train_x, train_counts, epochs=1, batch_size=32, verbose=0, shuffle=True)
        accuracy, loss = validation(model)
        what = f"top quarter unfrozen, lr {rate:g}" if rate else "backbone frozen, lr 1.5e-05"
        print(f"one more epoch, {what}: validation accuracy {accuracy:.4f}, loss {loss:.4f} "
              f"({time.perf_counter() - started:.0f} s)")
