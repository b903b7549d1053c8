"""Fit the embedding directions of a trained model file on its training galaxies.

Usage (from the project root, with ../shared/data)::

    python docs/scripts/fit_shipped_embedding.py [--model astro_morph/data/sdss_compact.keras]

`~astro_morph.MorphologyClassifier.fit` fits the directions at its end
(docs/scripts/train_shipped_model.py gets them so); this script gives them to
a model file written before embeddings existed, from the galaxies its
training used (the shared GZ1, GZ2 and unlabelled GZ2 images; at most 10,000
of them, seed 0), and rewrites the file with its network and record unchanged.
"""

import argparse
import os
import sys

from astropy.table import Table

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from realdata import SHARED, gz_votes, require_data  # noqa: E402

from astro_morph import MorphologyClassifier, get_schema  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="astro_morph/data/sdss_compact.keras")
args = parser.parse_args()
require_data()

paths = [p for part in gz_votes(get_schema("gz1+gz2")) for p in part.paths]
folder = os.path.join(SHARED, "sdss-gz2-unlabelled")
paths += [os.path.join(folder, str(name)) for name in
          Table.read(os.path.join(folder, "files.csv"), format="ascii.csv")["filename"]]
classifier = MorphologyClassifier.load(args.model)
classifier.fit_embedding(Table({"filename": paths}))
provenance = dict(classifier.provenance_)
for key in ("file", "sha256"):
    provenance.pop(key, None)
provenance["embedding"] = (f"directions fitted on {classifier.embedding_info_['n_galaxies']} "
                           f"of its {len(paths)} training galaxies "
                           "(docs/scripts/fit_shipped_embedding.py)")
classifier.save(args.model, **provenance)
print(f"{args.model}: embedding of {classifier.embedding_.shape[1]} directions "
      f"({classifier.embedding_info_['basis']}), {os.path.getsize(args.model) / 1e6:.2f} MB")
