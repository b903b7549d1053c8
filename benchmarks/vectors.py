"""Embeddings for the similarity benchmarks: real GZ1 ones, vectors shaped like them, random
ones, and the resident memory of a process.

Shared by benchmarks/similarity.py and benchmarks/similarity_backends.py.
"""

import os

import numpy as np
from realdata import SHARED, gz1_split


def rss_mb():
    """Resident memory of this process now (what an index holds, not transient peaks)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def gz1_embeddings(classifier=None):
    """(embeddings, labels) of the real GZ1 galaxies (spirals and ellipticals), or None
    without the shared data."""
    if not os.path.isdir(SHARED):
        return None
    from astro_morph import MorphologyClassifier
    classifier = classifier or MorphologyClassifier.pretrained()
    train, test = gz1_split()
    vectors = classifier.embed(train.paths + test.paths)
    return np.ma.filled(vectors, np.nan), np.concatenate([train.labels, test.labels])


def vectors_of(kind, n, dim, real=None, seed=0):
    """``n`` unit vectors: ``"random"`` (uniform on the sphere, the hardest case) or
    ``"real"`` (drawn from a 32-component Gaussian mixture fitted to ``real``, the GZ1
    embeddings: what a catalogue looks like); None when ``real`` is missing."""
    rng = np.random.default_rng(seed)
    if kind == "real":
        if real is None:
            return None
        from sklearn.mixture import GaussianMixture
        mixture = GaussianMixture(32, covariance_type="full", random_state=seed).fit(real)
        data = rng.permutation(mixture.sample(n)[0]).astype(np.float32)
    else:
        data = rng.normal(size=(n, dim)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def exact_neighbours(data, queries, k):
    """The true ``k`` nearest neighbours (inner product) of each query."""
    import faiss
    flat = faiss.IndexFlatIP(data.shape[1])
    flat.add(np.ascontiguousarray(data, dtype=np.float32))
    return flat.search(np.ascontiguousarray(queries, dtype=np.float32), k)[1]
