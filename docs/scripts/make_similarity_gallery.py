"""The galleries of docs/similarity.rst: galaxies like given ones, and the oddest ones,
among the 6,504 unlabelled Galaxy Zoo 2 images (real SDSS galaxies).

Usage (from the project root, with ../shared/data)::

    python docs/scripts/make_similarity_gallery.py [--out docs/_static]

The shipped model embeds every image (`~astro_morph.MorphologyClassifier.embed`);
`~astro_morph.SimilarityIndex` finds, for the galaxy the model finds most likely
to get each of five Galaxy Zoo 2 answers (edge-on, bar, spiral arms, merger,
cigar-shaped), its 7 nearest neighbours; and the 12 galaxies with the largest
oddity (mean cosine distance to their 10 nearest neighbours).
"""

import argparse
import os
import sys

import numpy as np
from astropy.table import Table

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from realdata import SHARED, require_data  # noqa: E402

from astro_morph import MorphologyClassifier, SimilarityIndex  # noqa: E402
from astro_morph.evaluation import save_oddity_gallery, save_similarity_gallery  # noqa: E402

#: The answers whose most likely galaxy is a query, and their columns.
ANSWERS = {"edge-on": "t02_edgeon_a04_yes", "bar": "t03_bar_a06_bar",
           "spiral arms": "t04_spiral_a08_spiral", "merger": "t08_odd_feature_a24_merger",
           "cigar-shaped": "t07_rounded_a18_cigar_shaped"}

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="docs/_static")
args = parser.parse_args()
require_data()

folder = os.path.join(SHARED, "sdss-gz2-unlabelled")
names = Table.read(os.path.join(folder, "files.csv"), format="ascii.csv")["filename"]
catalog = Table({"filename": [os.path.join(folder, str(name)) for name in names]})
classifier = MorphologyClassifier.pretrained()
catalog["embedding"] = classifier.embed(catalog)
votes = classifier.predict_votes(catalog[["filename"]])
index = SimilarityIndex(catalog, classifier=classifier)
queries = []
for column in ANSWERS.values():
    asked = column[:column.index("_a")] + "_asked"
    score = np.asarray(votes[column]) * np.asarray(votes[asked])
    queries.append(int(np.argmax(np.where(np.isin(np.arange(len(score)), queries), -1,
                                          score))))
found = save_similarity_gallery(index, queries, os.path.join(args.out, "similar_gallery.png"),
                                k=7, classifier=classifier)
oddest = save_oddity_gallery(index, os.path.join(args.out, "oddest_gallery.png"), n=10,
                             classifier=classifier)
for answer, row in zip(ANSWERS, queries):
    mine = found[found["query"] == queries.index(row)]
    print(f"{answer:13s} query {row:5d} ({os.path.basename(catalog['filename'][row])}): "
          f"neighbours' similarity {mine['similarity'].min():.3f}-"
          f"{mine['similarity'].max():.3f}")
print(f"oddest: rows {list(oddest['index'])}, oddity {oddest['oddity'].min():.3f}-"
      f"{oddest['oddity'].max():.3f}; {index!r}")
