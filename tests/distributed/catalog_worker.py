"""A rank of a sharded catalogue run (started by tests/distributed/test_distributed.py).

Usage: ``horovodrun --gloo -np 2 -H localhost:2 python catalog_worker.py PRODUCT CATALOG
OUT BAND=FITS ...``; PRODUCT is ``classify`` (`classify_catalog`) or ``embed``
(`embed_catalog`); the pretrained model runs the catalogue in chunks of 2 rows.
"""

import sys

from astro_morph import FITSImageSource, classify_catalog, embed_catalog


def main(product, catalog, out, images):
    source = FITSImageSource(dict(item.split("=", 1) for item in images), survey="des")
    run = {"classify": classify_catalog, "embed": embed_catalog}[product]
    run(catalog, source, out, chunk_size=2, progress=False, distributed=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
