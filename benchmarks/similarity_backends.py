"""Benchmark: which nearest-neighbour library backs `astro_morph.SimilarityIndex`.

Usage: python benchmarks/similarity_backends.py [--sizes 100000 1000000] [--dim 16]
                                                [--libraries faiss-ivf faiss-hnsw ...]

Each library builds a cosine index of the same L2-normalised float32 vectors, in
a fresh process (so that its memory is measured alone: the peak resident memory
above that of the vectors loaded), then answers 1,000 single queries (one call
each, as a user's script asks) for their 10 nearest neighbours. Recall@10 is
measured against exact search (faiss' flat inner product). Two kinds of vectors:

- ``real``: drawn from a 32-component Gaussian mixture fitted to the shipped
  model's embeddings of the real GZ1 galaxies (the default, what a catalogue
  looks like; needs ../shared/data, else it is skipped);
- ``random``: uniform on the sphere (the hardest case for approximate search).

Each library is tuned to reach recall@10 >= 0.95 where it can, with the
memory limit of 2x the raw vectors in mind (the HNSW graphs use 16
neighbours per node, their usual default). The libraries are optional here:
``pip install faiss-cpu hnswlib usearch voyager pynndescent``.
"""

import argparse
import importlib
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from vectors import exact_neighbours, gz1_embeddings, rss_mb, vectors_of  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
parser.add_argument("--dim", type=int, default=16)
parser.add_argument("--kinds", nargs="+", default=["real", "random"])
parser.add_argument("--libraries", nargs="+",
                    default=["faiss-ivf", "faiss-hnsw", "hnswlib", "usearch", "voyager",
                             "pynndescent"])
parser.add_argument("--queries", type=int, default=1000)
parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)  # library, vectors, out
args = parser.parse_args()
K = 10
#: The module each library is imported as.
MODULES = {"faiss-ivf": "faiss", "faiss-hnsw": "faiss", "hnswlib": "hnswlib",
           "usearch": "usearch.index", "voyager": "voyager", "pynndescent": "pynndescent"}
#: The search-time setting each library trades speed for recall with.
KNOBS = {"faiss-ivf": "nprobe", "faiss-hnsw": "ef", "hnswlib": "ef", "usearch": "ef",
         "voyager": "ef", "pynndescent": "eps"}


def build_and_query(library, data, queries):
    """Build an index of ``data`` with ``library``: (search, set_knob, knob values)."""
    n, dim = data.shape
    if library.startswith("faiss"):
        import faiss
        faiss.omp_set_num_threads(os.cpu_count())
        if library == "faiss-ivf":
            nlist = int(4 * np.sqrt(n))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            index.train(data[rng.choice(n, min(n, 64 * nlist), replace=False)])
            index.add(data)
            def knob(nprobe):
                index.nprobe = nprobe
            return (lambda q: index.search(q[None], K)[1][0]), knob, \
                [nlist // 64, nlist // 32, nlist // 16, nlist // 8]
        else:
            index = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.add(data)
            def knob(ef):
                index.hnsw.efSearch = ef
            return (lambda q: index.search(q[None], K)[1][0]), knob, [16, 32, 64]
    if library == "hnswlib":
        import hnswlib
        index = hnswlib.Index(space="ip", dim=dim)
        index.init_index(max_elements=n, ef_construction=80, M=16)
        index.add_items(data, num_threads=os.cpu_count())
        return (lambda q: index.knn_query(q[None], k=K)[0][0]), index.set_ef, [16, 32, 64]
    if library == "usearch":
        from usearch.index import Index
        index = Index(ndim=dim, metric="ip", dtype="f32", connectivity=16,
                      expansion_add=80, expansion_search=64)
        index.add(np.arange(n), data, threads=os.cpu_count())
        def knob(ef):
            index.expansion_search = ef
        return (lambda q: index.search(q, K).keys), knob, [16, 32, 64]
    if library == "voyager":
        import voyager
        index = voyager.Index(voyager.Space.InnerProduct, num_dimensions=dim, M=16,
                              ef_construction=80)
        index.add_items(data, num_threads=os.cpu_count())
        ef = [64]
        return (lambda q: index.query(q, k=K, query_ef=ef[0])[0]), \
            (lambda value: ef.__setitem__(0, value)), [16, 32, 64]
    if library == "pynndescent":
        import pynndescent
        index = pynndescent.NNDescent(data, metric="dot", n_neighbors=16, random_state=0,
                                      n_jobs=os.cpu_count())
        index.prepare()
        eps = [0.1]
        return (lambda q: index.query(q[None], k=K, epsilon=eps[0])[0][0]), \
            (lambda value: eps.__setitem__(0, value)), [0.1, 0.2]
    raise SystemExit(f"unknown library {library}")


def worker(library, vectors, out):
    stored = np.load(vectors)
    data, queries, truth = stored["data"], stored["queries"], stored["truth"]
    importlib.import_module(MODULES[library])  # the library's code is not the index
    before = rss_mb()
    start = time.perf_counter()
    search, set_knob, knobs = build_and_query(library, data, queries)
    build = time.perf_counter() - start
    memory = rss_mb() - before
    results = []
    for value in knobs:
        set_knob(value)
        search(queries[0])  # first call pays for set-up
        start = time.perf_counter()
        found = [search(q) for q in queries]
        per_query = (time.perf_counter() - start) / len(queries)
        recall = np.mean([len(set(map(int, f)) & set(t)) / K for f, t in zip(found, truth)])
        results.append({"knob": value, "build_s": build, "query_ms": 1e3 * per_query,
                        "recall": recall, "memory_mb": memory,
                        "raw_mb": data.nbytes / 2**20})
    with open(out, "w") as handle:
        json.dump(results, handle)


def vectors_for(kind, n, dim):
    """(data, queries, true neighbours) of ``n`` vectors of ``kind``, or None."""
    real = None
    if kind == "real":
        found = gz1_embeddings()
        real = None if found is None else found[0][:, :dim]
    data = vectors_of(kind, n + args.queries, dim, real)
    if data is None:
        return None
    return data[:n], data[n:], exact_neighbours(data[:n], data[n:], K)


def main():
    import tempfile
    for kind in args.kinds:
        for n in args.sizes:
            made = vectors_for(kind, n, args.dim)
            if made is None:
                print(f"{kind}: no shared data, skipped")
                continue
            with tempfile.TemporaryDirectory() as tmp:
                vectors = os.path.join(tmp, "vectors.npz")
                np.savez(vectors, data=made[0], queries=made[1], truth=made[2])
                for library in args.libraries:
                    out = os.path.join(tmp, "out.json")
                    done = subprocess.run([sys.executable, __file__, "--worker", library,
                                           vectors, out], capture_output=True, text=True)
                    if done.returncode:
                        print(f"{library}: failed: {done.stderr.strip()[-300:]}")
                        continue
                    with open(out) as handle:
                        results = json.load(handle)
                    for result in results:
                        print(f"{kind:6s} {n:>9,d} {library:11s} ({KNOBS[library]} "
                              f"{result['knob']:>4}) build {result['build_s']:6.1f} s  "
                              f"query {result['query_ms']:6.3f} ms  recall@10 "
                              f"{result['recall']:.3f}  memory {result['memory_mb']:6.1f} MB "
                              f"({result['memory_mb'] / result['raw_mb']:.2f}x raw)",
                              flush=True)


if __name__ == "__main__":
    if args.worker:
        worker(*args.worker)
    else:
        main()
