"""A rank of a sharded ``classify_catalog`` run (started by tests/distributed/test_distributed.py).

Usage: ``horovodrun --gloo -np 2 -H localhost:2 python catalog_worker.py CATALOG OUT
BAND=FITS ...``; the pretrained model classifies the catalog in chunks of 2 rows.
"""

import sys

from astro_morph import FITSImageSource, classify_catalog


def main(catalog, out, images):
    source = FITSImageSource(dict(item.split("=", 1) for item in images), survey="des")
    classify_catalog(catalog, source, out, chunk_size=2, progress=False, distributed=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
