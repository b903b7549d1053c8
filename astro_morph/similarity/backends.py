"""Nearest-neighbour search of vectors with faiss: exact when small, inverted lists when large.

faiss was chosen by measurement among faiss, hnswlib, usearch, voyager and
pynndescent (``benchmarks/similarity_backends.py``): at a million random
16-number unit vectors on two CPU cores its inverted-file index (IVF-Flat)
builds in 10-20 s, answers a query in about 0.5 ms with recall@10 0.99 and
holds under twice the vectors' memory, while the graph indexes (HNSW:
hnswlib, usearch, voyager, faiss' own) need 3.5 to 5 times the vectors'
memory and 4 to 6 times longer to build for the same recall.
"""

import numpy as np

from astro_morph.exceptions import InputError

__all__ = ["VectorIndex", "EXACT_BELOW"]

#: Below this many vectors, search is exact (a flat index: a query costs ~N x d operations).
EXACT_BELOW = 100_000
#: Fewer vectors than this are always searched exactly (too few to train the lists on).
MIN_APPROXIMATE = 1_000


def _faiss():
    import faiss  # noqa: PLC0415 (a compiled library: loaded with the first index)
    return faiss


class VectorIndex:
    """Vectors and their nearest-neighbour search (inner product of unit vectors, or L2).

    Parameters
    ----------
    vectors : `~numpy.ndarray`
        (N, d) float32, finite.
    metric : {"cosine", "euclidean"}
        Cosine: the vectors are normalised and searched by inner product.
    exact_below : int
        Exact search (``kind == "exact"``) up to this size (and always up to
        1,000 vectors), else an
        inverted-file index (``"ivf"``) with ``4 sqrt(N)`` lists, trained on
        at most 64 vectors per list, probing ``2 sqrt(lists)`` of them.
    """

    def __init__(self, vectors, *, metric="cosine", exact_below=EXACT_BELOW):
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.metric = metric
        if metric == "cosine":
            vectors = _unit(vectors)
        n, dim = vectors.shape
        inner = faiss.METRIC_INNER_PRODUCT if metric == "cosine" else faiss.METRIC_L2
        if n <= max(exact_below, MIN_APPROXIMATE):
            self.kind = "exact"
            self.index = faiss.IndexFlat(dim, inner)
        else:
            self.kind = "ivf"
            lists = int(4 * np.sqrt(n))
            # The list centres: kept referenced here, as long as the index lives.
            self._centres = faiss.IndexFlat(dim, inner)
            self.index = faiss.IndexIVFFlat(self._centres, dim, lists, inner)
            rows = np.random.default_rng(0).choice(n, min(n, 64 * lists), replace=False)
            self.index.train(vectors[np.sort(rows)])
        self.index.add(vectors)
        self._ready()

    def _ready(self):
        if self.kind == "ivf":
            self.index.make_direct_map()  # vectors(rows) without a second copy of them
            self.index.nprobe = max(1, int(2 * np.sqrt(self.index.nlist)))

    @property
    def dim(self):
        """Length of the vectors."""
        return self.index.d

    def __len__(self):
        return self.index.ntotal

    def vectors(self, positions=None):
        """The stored vectors (unit vectors for cosine) at ``positions`` (all by default)."""
        positions = np.arange(len(self)) if positions is None else np.asarray(positions)
        return self.index.reconstruct_batch(positions.astype(np.int64))

    def search(self, queries, k):
        """(positions, scores) of the ``k`` nearest stored vectors of each query: cosine
        similarity (largest first) or Euclidean distance (smallest first); -1 where fewer."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise InputError(f"a query embedding has length {queries.shape[1]}, but this "
                             f"index holds embeddings of length {self.dim}.")
        if self.metric == "cosine":
            queries = _unit(queries)
        scores, positions = self.index.search(queries, int(k))
        if self.metric == "euclidean":
            scores = np.sqrt(np.maximum(scores, 0.0))
        return positions, scores.astype(np.float64)

    def serialize(self):
        """The index as bytes (`deserialize` reads them)."""
        return _faiss().serialize_index(self.index).tobytes()

    @classmethod
    def deserialize(cls, data, *, metric, kind):
        """An index from the bytes of `serialize`."""
        index = cls.__new__(cls)
        index.metric, index.kind = metric, kind
        index.index = _faiss().deserialize_index(np.frombuffer(data, dtype=np.uint8))
        index._ready()
        return index


def _unit(vectors):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms > 0, norms, 1.0), dtype=np.float32)
