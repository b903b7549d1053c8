"""Classify a catalog of any size into a file, in chunks that survive a killed run."""

import os
import shutil

import numpy as np
from astropy.table import QTable, Table, vstack

from astro_morph.catalogs.positions import parse_positions
from astro_morph.catalogs.tableio import read_table, table_format, write_table
from astro_morph.classification.classify import check_source, fitted_classifier, resolve_framing
from astro_morph.classification.columns import (
    classification_columns,
    classification_meta,
    vote_schema,
)
from astro_morph.distributed.runtime import allgather_object, init
from astro_morph.exceptions import InputError
from astro_morph.logger import log
from astro_morph.utils.files import read_json, write_json
from astro_morph.utils.fingerprint import fingerprint

__all__ = ["classify_catalog"]

_PROGRESS = "progress.json"


def _fingerprint(coords, fields, classifier, source, options):
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
                     overwrite=False, progress=True, distributed=False):
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
        Log each chunk as it finishes.
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
    out = os.fspath(out)
    table_format(out)  # an unknown extension fails before any work
    if os.path.exists(out) and not overwrite:
        raise InputError(f"{out!r} exists; choose another name or pass overwrite=True "
                         "(--overwrite).")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InputError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    if distributed:
        init()  # before the model loads: TensorFlow's engine must start before TensorFlow runs
    if isinstance(table, (str, os.PathLike)):
        table = read_table(table)
    classifier = fitted_classifier(classifier)
    check_source(source)
    framing = resolve_framing(classifier, framing, radius_column)
    votes = vote_schema(classifier, schema)
    coords = parse_positions(table, unique=True, allow_empty=True)
    base = QTable({"ra": coords.ra, "dec": coords.dec}) if not isinstance(table, Table) \
        else table.copy()
    fields = framing.fields(base, len(coords))
    n_chunks = -(-len(coords) // chunk_size)
    options = {"prefix": prefix, "chunk_size": int(chunk_size), "framing": framing.to_dict(),
               "n_rows": len(coords), "votes": None if votes is None else votes.to_dict()}
    key = _fingerprint(coords, fields, classifier, source, options)

    if not len(coords):  # nothing to chunk: the empty table with every column
        new = Table(classification_columns(classifier, source, coords, fields, framing,
                                           votes=votes))
        return _finish(base, new, prefix, classification_meta(classifier, source, framing,
                                                              prefix, votes),
                       out, overwrite)

    work = out + ".partial"
    record_path = os.path.join(work, _PROGRESS)
    run = _Ranks(distributed)
    if run.is_root:
        problem = _open_work(work, record_path, key, n_chunks, out,
                             classification_meta(classifier, source, framing, prefix,
                                                 votes))
    problem = run.share(problem if run.is_root else None)
    if problem:
        raise InputError(problem)
    record = read_json(record_path, {})

    # A chunk file exists only once complete (atomic writes): it is the record of done work.
    for index in range(run.rank, n_chunks, run.size):
        chunk_file = os.path.join(work, f"chunk_{index:06d}.ecsv")
        if os.path.isfile(chunk_file):
            continue
        rows = slice(index * chunk_size, (index + 1) * chunk_size)
        columns = classification_columns(classifier, source, coords[rows], fields[rows],
                                         framing, batch_size=batch_size, votes=votes)
        write_table(Table(columns), chunk_file, overwrite=True)
        if not distributed:  # one writer: keep the human-readable progress record too
            record["done"] = sorted(set(record.get("done", [])) | {index})
            write_json(record_path, record)
        if progress:
            log.info("%s: chunk %d/%d written", out, index + 1, n_chunks)

    run.share(None)  # every rank's chunks are written
    if run.is_root:
        parts = [Table.read(os.path.join(work, f"chunk_{i:06d}.ecsv"), format="ascii.ecsv")
                 for i in range(n_chunks)]
        _finish(base, vstack(parts, metadata_conflicts="silent"), prefix, record["meta"],
                out, overwrite)
        shutil.rmtree(work)
    run.share(None)  # ``out`` is written
    return read_table(out)


def _open_work(work, record_path, key, n_chunks, out, meta):
    """Create the partial folder, or check that it holds this run; a message if not."""
    if os.path.isdir(work):
        record = read_json(record_path, {})
        if record.get("fingerprint") != key:
            return (f"{work!r} holds an interrupted run with other inputs (catalog, model, "
                    "images or options); rerun with the same inputs to resume it, or remove "
                    "that folder to start afresh.")
        done = sum(name.startswith("chunk_") for name in os.listdir(work))
        log.info("resuming %s: %d of %d chunks already done", out, done, n_chunks)
        return None
    os.makedirs(work)
    write_json(record_path, {"fingerprint": key, "n_chunks": n_chunks, "done": [],
                             "meta": meta})
    return None


class _Ranks:
    """This process's share of the chunks: one process, or a rank of the distributed engine."""

    def __init__(self, distributed):
        self.engine = init() if distributed else None
        self.rank = self.engine.rank() if distributed else 0
        self.size = self.engine.size() if distributed else 1
        self.is_root = self.rank == 0
        self._step = 0

    def share(self, value):
        """Rank 0's ``value`` on every rank, once all ranks got here (a barrier)."""
        if self.engine is None:
            return value
        self._step += 1
        return allgather_object(value, name=f"astro_morph.catalog.{self._step}")[0]


def _finish(base, new, prefix, meta, out, overwrite):
    """Add the columns and provenance to the catalog and write ``out``; what was written."""
    for name in new.colnames:
        base[prefix + name] = new[name]
    base.meta.update(meta)
    write_table(base, out, overwrite=overwrite)
    return read_table(out)
