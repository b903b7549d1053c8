"""One catalogue runner: any per-galaxy product of a catalogue, in chunks, on any number of ranks.

`~astro_morph.classify` and `~astro_morph.classify_catalog` (morphology
columns) and `~astro_morph.embed_catalog` (embeddings) all run here:

- the rows are cut into chunks of at most ``chunk_size`` rows (memory stays
  bounded by one chunk);
- rank ``r`` of ``N`` takes chunks ``r, r + N, r + 2N...``
  (`~astro_morph.distributed.shard_indices`, the rule training shares rows
  by too);
- in memory, the chunks are gathered in row order on every rank; into a
  file, each finished chunk is written atomically into a work folder (with a
  fingerprint of the inputs), so that a killed run started again, with any
  number of ranks, computes only the chunks that are missing; rank 0 then
  writes the result and removes the folder.
"""

import os
import shutil

from astropy.table import Table, vstack

from astro_morph.catalogs.tableio import write_table
from astro_morph.distributed.data_parallel import shard_indices
from astro_morph.distributed.runtime import allgather_object, init
from astro_morph.exceptions import DistributedError, InputError
from astro_morph.logger import log
from astro_morph.utils.files import read_json, write_json
from astro_morph.utils.validate import check_integer

__all__ = ["CatalogRunner", "in_memory_chunks"]

#: Rows per chunk of an in-memory run at most (memory of the temporary arrays stays bounded).
IN_MEMORY_CHUNK = 10_000

_PROGRESS = "progress.json"


class CatalogRunner:
    """Compute per-row columns of a catalogue chunk by chunk, shared between ranks.

    Parameters
    ----------
    n_rows : int
        Rows of the catalogue.
    chunk_size : int
        Rows per chunk.
    distributed : bool
        Share the chunks between the ranks of the distributed engine
        (`astro_morph.distributed.init`); every rank must call `run` with the
        same inputs.
    progress : bool
        Log each chunk as it finishes.

    Examples
    --------
    >>> import numpy as np
    >>> runner = CatalogRunner(5, chunk_size=2)
    >>> table = runner.run(lambda rows: {"twice": 2 * np.arange(5)[rows]})
    >>> table["twice"].tolist(), runner.n_chunks
    ([0, 2, 4, 6, 8], 3)
    """

    def __init__(self, n_rows, *, chunk_size=10_000, distributed=False, progress=False):
        self.n_rows = int(n_rows)
        self.chunk_size = check_integer("chunk_size", chunk_size, low=1)
        self.n_chunks = -(-self.n_rows // self.chunk_size)
        self.engine = init() if distributed else None
        self.rank = self.engine.rank() if distributed else 0
        self.size = self.engine.size() if distributed else 1
        self.is_root = self.rank == 0
        self.progress = progress
        self._step = 0

    def rows(self, index):
        """The rows of chunk ``index``, as a slice."""
        return slice(index * self.chunk_size, min((index + 1) * self.chunk_size, self.n_rows))

    def my_chunks(self):
        """The chunks this rank computes."""
        return shard_indices(self.n_chunks, self.rank, self.size, whole=True)

    def share(self, value):
        """Rank 0's ``value`` on every rank, once every rank got here (a barrier)."""
        if self.engine is None:
            return value
        self._step += 1
        return allgather_object(value, name=f"astro_morph.runner.{self._step}")[0]

    def run(self, compute, *, work=None, key=None, meta=None, finish=None, label="catalog"):
        """Every row's columns, in row order.

        Parameters
        ----------
        compute : callable
            ``compute(rows)`` -> dict of columns (or a Table) for the rows of
            one chunk (a slice); ``compute(slice(0, 0))`` must give the empty
            columns.
        work : str, optional
            A work folder: each chunk is written there as it finishes, and a
            run with the same ``key`` resumes from the chunks found. Without
            it, the chunks are kept in memory.
        key : str
            Fingerprint of everything that decides the rows (with ``work``).
        meta : dict, optional
            Kept in the work folder's record at the first start (a resumed
            run keeps the first one): `meta` afterwards.
        finish : callable, optional
            ``finish(table)`` is called once, on rank 0, with every row (with
            ``work``: before the folder is removed, so that a kill while it
            writes loses nothing).
        label : str
            What the log messages name.

        Returns
        -------
        table : `~astropy.table.Table` or None
            Every row, on every rank (in memory) or on rank 0 (with ``work``;
            None on the other ranks).
        """
        self.meta = meta
        if not self.n_chunks or work is None:
            table = self._in_memory(compute, label)
            if finish is not None:
                self._together(lambda: finish(table) if self.is_root else None)
            return table
        record_path = os.path.join(work, _PROGRESS)
        problem = self._together(
            lambda: self._open(work, record_path, key, meta, label) if self.is_root else None)
        problem = self.share(problem)
        if problem:
            raise InputError(problem)
        record = read_json(record_path, {})
        self.meta = record.get("meta", meta)

        def my_chunks():
            # A chunk file exists only once complete (atomic writes): the record of done work.
            for index in self.my_chunks():
                path = os.path.join(work, f"chunk_{index:06d}.ecsv")
                if os.path.isfile(path):
                    continue
                write_table(Table(compute(self.rows(index))), path, overwrite=True)
                if self.engine is None:  # one writer: keep the human-readable record too
                    record["done"] = sorted(set(record.get("done", [])) | {int(index)})
                    write_json(record_path, record)
                self._log(label, index)

        self._together(my_chunks)  # also the barrier: every rank's chunks are written

        def assemble():
            if not self.is_root:
                return None
            table = _stack([Table.read(os.path.join(work, f"chunk_{i:06d}.ecsv"),
                                       format="ascii.ecsv") for i in range(self.n_chunks)])
            if finish is not None:
                finish(table)
            shutil.rmtree(work)
            return table

        return self._together(assemble)  # the result is written when every rank returns

    def _in_memory(self, compute, label):
        if not self.n_chunks:
            return self._together(lambda: Table(compute(slice(0, 0))))

        def my_chunks():
            mine = []
            for index in self.my_chunks():
                mine.append((int(index), Table(compute(self.rows(index)))))
                self._log(label, index)
            return mine

        mine = self._together(my_chunks)
        if self.engine is not None:
            gathered = allgather_object(mine, name="astro_morph.runner.gather")
            mine = sorted((part for parts in gathered for part in parts), key=lambda p: p[0])
        return _stack([part for _, part in mine])

    def _together(self, step):
        """``step()`` on every rank; where it fails on one rank, every rank raises (none is
        left waiting at the next collective). A collective itself: also a barrier."""
        if self.engine is None:
            return step()
        error = value = None
        try:
            value = step()
        except Exception as exc:  # shared with the other ranks, then raised here
            error = exc
        self._step += 1
        failures = allgather_object(None if error is None else f"{type(error).__name__}: "
                                    f"{error}", name=f"astro_morph.runner.check.{self._step}")
        if error is not None:
            raise error
        failed = [(rank, message) for rank, message in enumerate(failures) if message]
        if failed:
            rank, message = failed[0]
            raise DistributedError(f"rank {rank} failed ({message}), so every rank stopped; "
                                   "the chunks already written are kept: fix the cause and "
                                   "run the same job again to resume.")
        return value

    def _open(self, work, record_path, key, meta, label):
        """Create the work folder, or check that it holds this run; a message if not."""
        if os.path.isdir(work):
            record = read_json(record_path, {})
            if record.get("fingerprint") != key:
                return (f"{work!r} holds an interrupted run with other inputs (catalog, model, "
                        "images or options); rerun with the same inputs to resume it, or "
                        "remove that folder to start afresh.")
            done = sum(name.startswith("chunk_") and name.endswith(".ecsv")
                       for name in os.listdir(work))
            log.info("resuming %s: %d of %d chunks already done", label, done, self.n_chunks)
            return None
        os.makedirs(work)
        write_json(record_path, {"fingerprint": key, "n_chunks": self.n_chunks, "done": [],
                                 "meta": meta})
        return None

    def _log(self, label, index):
        if self.progress:
            log.info("%s: chunk %d/%d done", label, index + 1, self.n_chunks)


def in_memory_chunks(n_rows, distributed):
    """Rows per chunk of an in-memory run: at most 10,000, and at least one chunk per rank."""
    ranks = init().size() if distributed else 1
    return max(1, min(IN_MEMORY_CHUNK, -(-n_rows // ranks)))


def _stack(parts):
    """One table of the chunks' tables, in order."""
    if len(parts) == 1:
        return parts[0]
    return vstack(parts, join_type="exact", metadata_conflicts="silent")
