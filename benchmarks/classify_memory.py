"""Benchmark: peak memory of classifying 100,000 positions in chunks.

Usage: python benchmarks/classify_memory.py [--positions 100000] [--chunk-size 10000]

Classifies a lattice of positions on a mock DES tile with ``classify_catalog`` (chunks
written to disk as they finish, 256 cutouts in memory at a time) and prints the
peak resident memory of the process, with the memory already taken once the
model and the tile are loaded, and the bound (2 GB) last. Test-time augmentation
is off and cutouts are 64 pixels, to keep the run to minutes on two cores; neither
changes how memory grows with the number of positions.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter

import argparse  # noqa: E402
import resource
import tempfile
import time

import numpy as np
from astropy.table import Table

from astro_morph import MockSurvey, MorphologyClassifier, classify_catalog


def peak_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB on Linux


parser = argparse.ArgumentParser()
parser.add_argument("--positions", type=int, default=100_000)
parser.add_argument("--chunk-size", type=int, default=10_000)
args = parser.parse_args()

mock = MockSurvey(n_galaxies=400, seed=9)
source = mock.source("des")
image = source.images_for("r", None)[0]
ny, nx = image.data.shape
# A regular lattice over the tile: distinct positions (a catalog may not repeat one).
side = int(np.ceil(np.sqrt(args.positions)))
gy, gx = np.meshgrid(np.linspace(0, ny - 1, side), np.linspace(0, nx - 1, side), indexing="ij")
ra, dec = image.wcs.pixel_to_world_values(gx.ravel()[:args.positions],
                                          gy.ravel()[:args.positions])
catalog = Table({"ra": ra, "dec": dec})
classifier = MorphologyClassifier.pretrained()
classifier.tta = False
classify_catalog(catalog[:16], source, os.path.join(tempfile.mkdtemp(), "warm.ecsv"),
                 classifier=classifier, framing={"size": 64}, progress=False)
baseline = peak_gb()
print(f"{args.positions} positions on a {ny} x {nx} mock DES tile; memory with the model "
      f"and tiles loaded: {baseline:.2f} GB", flush=True)

start = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    out = os.path.join(folder, "classified.fits")
    table = classify_catalog(catalog, source, out, classifier=classifier,
                             framing={"size": 64}, chunk_size=args.chunk_size, progress=True)
    size_mb = os.path.getsize(out) / 1e6
print(f"classified {len(table)} rows in {time.perf_counter() - start:.0f} s "
      f"({size_mb:.1f} MB written)")
peak = peak_gb()
print(f"peak resident memory {peak:.2f} GB (bound 2 GB): "
      f"{'within' if peak < 2 else 'NOT within'} the bound")
