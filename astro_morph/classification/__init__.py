"""Classification: a catalog in, the Table with morphology columns out.

`classify` works in memory (optionally sharded across the ranks of a distributed run);
`classify_catalog` writes a file chunk by chunk and resumes a killed run.
"""

from astro_morph.classification.catalog import classify_catalog
from astro_morph.classification.classify import classify

__all__ = ["classify", "classify_catalog"]
