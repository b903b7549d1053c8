"""Embeddings of a whole catalogue into a file, on the catalogue runner."""

from astro_morph.classification.catalog_file import catalog_fingerprint, check_out, run_into_file
from astro_morph.classification.classify import prepare_model, read_catalog
from astro_morph.classification.columns import classification_meta, embedding_columns
from astro_morph.classification.runner import CatalogRunner
from astro_morph.models.embedding import classifier_projection, embedding_fingerprint
from astro_morph.utils.validate import check_integer

__all__ = ["embed_catalog"]


def embed_catalog(table, source, out, *, classifier=None, chunk_size=10_000, framing=None,
                  radius_column=None, batch_size=256, overwrite=False, progress=False,
                  distributed=False):
    """Write the embedding of every galaxy of a catalogue, chunk by chunk, resumably.

    The catalogue is written to ``out`` with two new columns: ``embedding``
    ((N, d) float32, L2-normalised: `~astro_morph.MorphologyClassifier.embed`;
    masked for galaxies that could not be cut out) and ``flag``
    (`~astro_morph.imaging.CUTOUT_FLAGS` bits). ``meta`` holds the
    provenance keys of `~astro_morph.classify` and ``AMEMBED``, the
    fingerprint of the model and its embedding directions, which
    `~astro_morph.SimilarityIndex` keeps to refuse embeddings of another
    model. Runs like `~astro_morph.classify_catalog` (same chunks, resume
    after a kill, ranks under a launcher).

    Parameters
    ----------
    table : `~astropy.table.Table`, `~astropy.coordinates.SkyCoord` or str
        The catalog, or the path of a table file.
    source : `~astro_morph.surveys.ImageSource`
        Where the images come from.
    out : str or path-like
        Output table (``.ecsv``, ``.fits``, ``.vot``...).
    classifier : `~astro_morph.MorphologyClassifier`, optional
        Default: the pretrained model.
    chunk_size, framing, radius_column, batch_size, overwrite, progress, distributed
        As in `~astro_morph.classify_catalog`.

    Returns
    -------
    table : `~astropy.table.QTable`
        What was written to ``out``.

    Raises
    ------
    InputError
        ``out`` exists (without ``overwrite``), a source of no known survey,
        a model without embedding directions, or a partial folder of another
        run.

    See Also
    --------
    astro_morph.SimilarityIndex : search these embeddings.

    Examples
    --------
    >>> import os, tempfile
    >>> from astro_morph import MockSurvey
    >>> mock = MockSurvey(n_galaxies=5, seed=2)
    >>> out = os.path.join(tempfile.mkdtemp(), "embedded.ecsv")
    >>> result = embed_catalog(mock.catalog("des"), mock.source("des"), out, progress=False)
    >>> result["embedding"].shape, "AMEMBED" in result.meta
    ((5, 16), True)
    """
    out = check_out(out, overwrite=overwrite)
    check_integer("chunk_size", chunk_size, low=1)  # before any work
    coords, base = read_catalog(table)
    classifier, framing = prepare_model(classifier, source, framing=framing,
                                        radius_column=radius_column, distributed=distributed)
    fields = framing.fields(base, len(coords))
    classifier_projection(classifier)  # a model without directions fails before any work
    runner = CatalogRunner(len(coords), chunk_size=chunk_size, distributed=distributed,
                           progress=progress)
    meta = {**classification_meta(classifier, source, framing, ""),
            "AMEMBED": embedding_fingerprint(classifier)}
    options = {"product": "embedding", "chunk_size": int(chunk_size),
               "framing": framing.to_dict(), "n_rows": len(coords),
               "embedding": meta["AMEMBED"], "batch_size": check_integer(
                   "batch_size", batch_size, low=1)}

    def compute(rows):
        return embedding_columns(classifier, source, coords[rows], fields[rows], framing,
                                 batch_size=batch_size)

    return run_into_file(runner, compute, base, out, prefix="",
                         key=catalog_fingerprint(coords, fields, classifier, source, options),
                         meta=meta, overwrite=overwrite)
