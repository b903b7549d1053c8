"""Similarity: galaxies like a given one, and the oddest galaxies of a catalogue.

`SimilarityIndex` searches the embeddings of `~astro_morph.MorphologyClassifier.embed`
(or `~astro_morph.embed_catalog` for a whole catalogue) with faiss, exactly for
catalogues of up to 100,000 galaxies and approximately above.
"""

from astro_morph.similarity.index import SimilarityIndex

__all__ = ["SimilarityIndex"]
