"""Classification: a catalog in, the Table with morphology columns (or embeddings) out.

`classify` works in memory (optionally sharded across the ranks of a distributed run);
`classify_catalog` and `embed_catalog` write a file chunk by chunk and resume a killed
run. All three run on one catalogue runner (``astro_morph.classification.runner``).
"""

from astro_morph.classification.catalog_file import classify_catalog
from astro_morph.classification.classify import classify
from astro_morph.classification.embed import embed_catalog

__all__ = ["classify", "classify_catalog", "embed_catalog"]
