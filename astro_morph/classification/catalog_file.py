"""Classify a catalog of any size into a file, in chunks that survive a killed run."""

import os

import numpy as np

from astro_morph.catalogs.tableio import read_table, table_format, write_table
from astro_morph.classification.classify import prepare_model, read_catalog
from astro_morph.classification.columns import (
    classification_columns,
    classification_meta,
    vote_schema,
)
from astro_morph.classification.runner import CatalogRunner
from astro_morph.exceptions import InputError
from astro_morph.utils.fingerprint import fingerprint
from astro_morph.utils.validate import check_integer

__all__ = ["classify_catalog", "catalog_fingerprint", "check_out",
           "run_into_file"]


def catalog_fingerprint(coords, fields, classifier, source, options):
    """A hash of everything that decides the rows: positions, model, images, options."""
    model = getattr(classifier, "provenance_", {}).get("sha256")
    weights = [] if model else classifier.model_.get_weights()
    return fingerprint(coords.icrs.ra.deg.astype(np.float64),
                       coords.icrs.dec.deg.astype(np.float64),
                       np.asarray(fields, dtype=np.float64), *weights,
                       settings=[model, float(classifier.temperature_), source.identity(),
                                 options])


def classify_catalog(table, source, out, *, classifier=None, prefix="", chunk_size=10_000,
                     framing=None, radius_column=None, batch_size=256, schema=None,
                     overwrite=False, progress=False, distributed=False):
    """Classify a catalog into a file, chunk by chunk, resuming an interrupted run.

    Each chunk of rows is classified and written atomically into the folder
    ``out + ".partial"`` with a small progress record. If the run is killed,
    calling this again with the same inputs resumes after the last finished
    chunk (at most one chunk is recomputed); the final file is identical to
    that of an uninterrupted run. Once all chunks are done, ``out`` is written
    atomically (the catalog with the columns of `~astro_morph.classify` and
    its provenance in ``meta``) and the partial folder is removed.

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
    prefix : str
        Prefix of the new column names.
    chunk_size : int
        Rows per chunk (memory stays bounded by one chunk's cutouts).
    framing, radius_column, batch_size, schema
        As in `~astro_morph.classify` (by default the classifier's own framing and
        every question it answers).
    overwrite : bool
        Replace an existing ``out``. A partial folder left by a run with
        different inputs is never reused: it must be removed by hand (the
        error names it), so that no finished work is discarded silently.
    progress : bool
        Log each chunk as it finishes (default False, as everywhere in astro_morph;
        ``astro-morph classify`` turns it on).
    distributed : bool
        Under a launcher (``horovodrun -np N python script.py``, or
        ``python -m astro_morph.distributed.launch -np N python script.py``), the
        ranks share the chunks (rank ``r`` takes every ``N``-th), write them into
        the same partial folder (on a file system every rank sees), and rank 0
        writes ``out``; every rank returns the table. A killed job started again
        resumes from the chunks already written, with any number of ranks.

    Returns
    -------
    table : `~astropy.table.QTable`
        What was written to ``out``.

    Raises
    ------
    InputError
        As `~astro_morph.classify`, and an ``out`` that exists (without
        ``overwrite``), has no table format or whose folder is missing; a
        partial folder left by another catalogue or model.
    DistributedError
        With ``distributed=True``: no launcher, or a rank that failed (the
        chunks already written are kept).

    See Also
    --------
    astro_morph.classify : in memory, for catalogues that fit.
    astro_morph.read_table : read the result back with its units and ``meta``.

    Examples
    --------
    >>> import os, tempfile
    >>> from astro_morph import MockSurvey, MorphologyClassifier
    >>> mock = MockSurvey(n_galaxies=6, seed=2)
    >>> clf = MorphologyClassifier(input_size=16, epochs=1, batch_size=4, verbose=0,
    ...                            crop_fraction=1.0)
    >>> clf = clf.fit(mock.catalog("sdss"), source=mock.source("sdss"))
    >>> out = os.path.join(tempfile.mkdtemp(), "classified.ecsv")
    >>> result = classify_catalog(mock.catalog("des"), mock.source("des"), out,
    ...                           classifier=clf, chunk_size=4, progress=False)
    >>> len(result), os.path.exists(out), os.path.exists(out + ".partial")
    (6, True, False)
    """
    out = check_out(out, overwrite=overwrite)
    check_integer("chunk_size", chunk_size, low=1)  # before any work
    coords, base = read_catalog(table)
    classifier, framing = prepare_model(classifier, source, framing=framing,
                                        radius_column=radius_column, distributed=distributed)
    fields = framing.fields(base, len(coords))
    votes = vote_schema(classifier, schema)
    check_integer("batch_size", batch_size, low=1)
    runner = CatalogRunner(len(coords), chunk_size=chunk_size, distributed=distributed,
                           progress=progress)
    options = {"prefix": prefix, "chunk_size": int(chunk_size), "framing": framing.to_dict(),
               "n_rows": len(coords), "votes": None if votes is None else votes.to_dict()}

    def compute(rows):
        return classification_columns(classifier, source, coords[rows], fields[rows], framing,
                                      batch_size=batch_size, votes=votes)

    return run_into_file(runner, compute, base, out, prefix=prefix,
                         key=catalog_fingerprint(coords, fields, classifier, source, options),
                         meta=classification_meta(classifier, source, framing, prefix, votes),
                         overwrite=overwrite)


def check_out(out, *, overwrite):
    """``out`` as a string, refused before any work if it exists or its format is unknown."""
    out = os.fspath(out)
    table_format(out)  # an unknown extension fails before any work
    if os.path.exists(out) and not overwrite:
        raise InputError(f"{out!r} exists; choose another name or pass overwrite=True "
                         "(--overwrite).")
    return out


def run_into_file(runner, compute, base, out, *, prefix, key, meta, overwrite):
    """Run ``compute`` chunk by chunk in ``out + ".partial"`` (resumable under ``key``),
    then write ``out``: the catalogue ``base`` with the new columns (named with
    ``prefix``) and ``meta``; return the table written."""

    def finish(new):
        for name in new.colnames:
            base[prefix + name] = new[name]
        base.meta.update(runner.meta)
        write_table(base, out, overwrite=overwrite)

    runner.run(compute, work=out + ".partial", finish=finish, label=out, key=key, meta=meta)
    return read_table(out)
