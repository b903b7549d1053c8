"""The file of a `~astro_morph.SimilarityIndex`: one zip, written atomically.

It holds ``index.json`` (metric, the model's fingerprint, sizes), ``rows.npy``
(the catalogue row of each indexed vector), ``faiss.index`` (the faiss index,
serialised) and ``catalog.ecsv`` (the catalogue without its embeddings).
"""

import io
import json
import os
import zipfile

import numpy as np
from astropy.table import Table

from astro_morph.exceptions import InputError, ModelFileError
from astro_morph.similarity.backends import VectorIndex
from astro_morph.utils.files import atomic_path, check_output_path

__all__ = ["write_index_file", "read_index_file", "FORMAT_VERSION"]

#: Version of the index files.
FORMAT_VERSION = 1


def write_index_file(path, record, rows, serialized, table, *, overwrite=False):
    """Write the parts of an index to ``path`` (a ``.zip``), atomically; the path."""
    path = check_output_path(path, ".zip", InputError)
    with atomic_path(path, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr("index.json", json.dumps({"format_version": FORMAT_VERSION,
                                                       **record}, indent=1))
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(rows), allow_pickle=False)
            archive.writestr("rows.npy", buffer.getvalue())
            archive.writestr("faiss.index", serialized)
            if table is not None:
                text = io.StringIO()
                table.write(text, format="ascii.ecsv")
                archive.writestr("catalog.ecsv", text.getvalue())
    return path


def read_index_file(path):
    """(record, rows, `VectorIndex`, catalogue or None) of a file of `write_index_file`.

    Raises
    ------
    ModelFileError
        A missing, damaged or foreign file, or one of a newer astro_morph.
    """
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            record = json.loads(archive.read("index.json"))
            rows = np.load(io.BytesIO(archive.read("rows.npy")), allow_pickle=False)
            serialized = archive.read("faiss.index")
            table = Table.read(archive.read("catalog.ecsv").decode(), format="ascii.ecsv") \
                if "catalog.ecsv" in archive.namelist() else None
        if record["format_version"] > FORMAT_VERSION:
            raise ModelFileError(f"{path!r} was written by a newer astro_morph (index format "
                                 f"{record['format_version']}): upgrade astro_morph to read "
                                 "it.")
        vectors = VectorIndex.deserialize(serialized, metric=record["metric"],
                                          kind=record["kind"])
        # Present and of their types, or the file is foreign.
        record["n_rows"] = int(record["n_rows"])
        record["duplicate_radius_arcsec"] = float(record["duplicate_radius_arcsec"])
        record["model"] = None if record["model"] is None else str(record["model"])
        if len(vectors) != len(rows) or (table is not None
                                         and len(table) != record["n_rows"]):
            raise ValueError("its parts do not agree in length")
    except ModelFileError:
        raise
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError, EOFError,
            RuntimeError) as exc:
        raise ModelFileError(f"{path!r} is not a readable similarity index ({exc}); write it "
                             "again with SimilarityIndex.save.") from None
    return record, rows, vectors, table
