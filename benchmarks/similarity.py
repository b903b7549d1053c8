"""Benchmark: `astro_morph.SimilarityIndex` at catalogue scale, and how well the shipped
model's embeddings find galaxies of the same kind.

Usage: python benchmarks/similarity.py [--sizes 100000 1000000] [--kinds real random]
                                       [--skip-search] [--skip-precision]

1. Search (default: 1e5 and 1e6 embeddings of 16 numbers, ``real``-shaped first:
   drawn from a mixture fitted to the shipped model's embeddings of the real GZ1
   galaxies; ``random``: uniform on the sphere, the hardest case): the index's build
   time, its memory (resident memory added by the index, the vectors already
   loaded) against the raw float32 vectors, the time per query (1,000 single
   queries, one call each, as a script asks), and recall@10 against exact search;
   the targets at 1e6 are <= 120 s, <= 2 ms, >= 0.95 and <= 2x raw. Also the time of
   ``oddity(k=10)`` over the whole catalogue at 1e5.
2. Precision (the real GZ1 galaxies, spirals and ellipticals, needs ../shared/data):
   how often the 10 nearest neighbours of a galaxy share its GZ1 label (exact cosine
   search over all 4,870), for the shipped model's embeddings, its raw pooled
   features (128 numbers), frozen ImageNet features (MobileNet at 128 px, needs
   ../shared/weights) and random neighbours; target >= 0.88 and no worse than the raw
   features. The shipped model was trained on these galaxies (in-sample), so the
   model trained with the GZ1 test part held out (benchmarks/results/
   gz_tree_heldout.keras, when present) is measured on that part too.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from realdata import gz1_split  # noqa: E402
from vectors import exact_neighbours, gz1_embeddings, rss_mb, vectors_of  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
parser.add_argument("--kinds", nargs="+", default=["real", "random"])
parser.add_argument("--queries", type=int, default=1000)
parser.add_argument("--skip-search", action="store_true")
parser.add_argument("--skip-precision", action="store_true")
args = parser.parse_args()
K = 10


def search_rows(real):
    import faiss  # noqa: F401  (its code is loaded before the index's memory is measured)

    from astro_morph import SimilarityIndex
    print(f"{'vectors':7s} {'N':>9s} {'kind':5s} {'build s':>8s} {'memory':>14s} "
          f"{'ms/query':>9s} {'recall@10':>9s}")
    for kind in args.kinds:
        for n in args.sizes:
            data = vectors_of(kind, n + args.queries, 16, real)
            if data is None:
                print(f"{kind:7s} {n:>9,d} (no shared data: skipped)")
                continue
            vectors, queries = data[:n], data[n:]
            truth = exact_neighbours(vectors, queries, K)
            before = rss_mb()
            start = time.perf_counter()
            index = SimilarityIndex(vectors)
            build = time.perf_counter() - start
            memory = rss_mb() - before
            index.search(queries[0], k=K)
            start = time.perf_counter()
            found = [index.search(q, k=K)["index"] for q in queries]
            per_query = (time.perf_counter() - start) / len(queries)
            recall = np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)])
            raw = vectors.nbytes / 2**20
            print(f"{kind:7s} {n:>9,d} {index.index.kind:5s} {build:8.1f} "
                  f"{memory:6.0f} MB {memory / raw:4.2f}x {1e3 * per_query:9.3f} "
                  f"{recall:9.3f}", flush=True)
            if n <= 100_000:
                start = time.perf_counter()
                index.oddity(k=10)
                print(f"{'':7s} {'':9s} oddity(k=10) of all {n:,d}: "
                      f"{time.perf_counter() - start:.1f} s", flush=True)
            del index


def precision_at_10(vectors, labels, queries=None):
    """Fraction of the 10 nearest neighbours (cosine, all galaxies) sharing the label."""
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = np.arange(len(vectors)) if queries is None else queries
    similarity = vectors[queries] @ vectors.T
    similarity[np.arange(len(queries)), queries] = -np.inf  # not itself
    nearest = np.argpartition(-similarity, K, axis=1)[:, :K]
    return float(np.mean(labels[nearest] == labels[queries, None]))


def imagenet_features(paths):
    """Pooled frozen MobileNet (ImageNet) features at 128 px of the same crops, or None."""
    import keras

    from astro_morph.inputs import Preprocessing
    from astro_morph.inputs.images import prepare_images
    from astro_morph.models.backbones import get_backbone
    try:
        backbone = get_backbone("mobilenet").build((128, 128, 3), "imagenet")
    except Exception as exc:  # no local weights and no network
        print(f"  ImageNet features: skipped ({type(exc).__name__}: {exc})")
        return None
    images, _, _ = prepare_images(paths, Preprocessing(input_size=128, crop_fraction=0.35))
    pooled = keras.Sequential([backbone, keras.layers.GlobalAveragePooling2D()])
    return pooled.predict(images, batch_size=128, verbose=0)


def precision_rows(found):
    from astro_morph import MorphologyClassifier
    from astro_morph.models.embedding import pooled_features
    embeddings, labels = found
    train, test = gz1_split()
    paths = train.paths + test.paths
    clf = MorphologyClassifier.pretrained()
    images, _ = clf.network_inputs(paths)
    raw = pooled_features(clf.model_, images, tta=True)
    rng = np.random.default_rng(0)
    chance = np.mean(labels[rng.integers(0, len(labels), (len(labels), K))]
                     == labels[:, None])
    print(f"\nprecision@10 of GZ1 labels ({len(labels)} galaxies: "
          f"{np.sum(labels == 'spiral')} spirals; exact cosine search)")
    print(f"  shipped model, embeddings ({embeddings.shape[1]} numbers):   "
          f"{precision_at_10(embeddings, labels):.4f}")
    print(f"  shipped model, raw pooled features ({raw.shape[1]}): "
          f"{precision_at_10(raw, labels):.4f}")
    imagenet = imagenet_features(paths)
    if imagenet is not None:
        print(f"  frozen ImageNet MobileNet features ({imagenet.shape[1]}): "
              f"{precision_at_10(imagenet, labels):.4f}")
    print(f"  random neighbours:                          {chance:.4f}")
    held_path = os.path.join(os.path.dirname(__file__), "results", "gz_tree_heldout.keras")
    if os.path.exists(held_path):
        held = MorphologyClassifier.load(held_path)
        if getattr(held, "embedding_", None) is None:
            held.fit_embedding(train.paths)
        queries = np.arange(len(train), len(paths))  # the GZ1 test part, never trained on
        vectors = np.ma.filled(held.embed(paths), np.nan)
        raw_held = pooled_features(held.model_, images, tta=True)
        print(f"  held-out model, GZ1 test part as queries ({len(queries)}): embeddings "
              f"{precision_at_10(vectors, labels, queries):.4f}, raw features "
              f"{precision_at_10(raw_held, labels, queries):.4f}")


if __name__ == "__main__":
    # The ImageNet weights beside the shared data, where the tests find them too.
    weights = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "weights")
    if os.path.isdir(weights):
        os.environ.setdefault("ASTRO_MORPH_WEIGHTS", weights)
    found = gz1_embeddings()
    if not args.skip_search:
        search_rows(None if found is None else found[0])
    if not args.skip_precision and found is not None:
        precision_rows(found)
