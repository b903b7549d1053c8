"""Write and read catalogs so that columns and provenance survive every format.

ECSV and FITS keep a Table's ``meta`` by themselves; a VOTable does not, so
`write_table` stores each scalar ``meta`` entry as a table-level ``INFO``
element and `read_table` puts them back. Writing is atomic: the file appears
complete under its final name or not at all.
"""

import os

from astropy.io import votable
from astropy.table import QTable, Table

from astro_morph.exceptions import InputError
from astro_morph.utils.files import atomic_path

__all__ = ["write_table", "read_table", "table_format"]

_CONTENT = "astro_morph meta "  # marks INFO elements that hold Table.meta entries
_FORMATS = {".ecsv": "ascii.ecsv", ".fits": "fits", ".fit": "fits", ".fits.gz": "fits",
            ".xml": "votable", ".vot": "votable", ".votable": "votable", ".csv": "ascii.csv",
            ".parquet": "parquet", ".hdf5": "hdf5"}


def table_format(path, format=None):
    """The astropy format name of ``path`` (from its extension unless given).

    Examples
    --------
    >>> table_format("classified.vot")
    'votable'
    """
    if format is not None:
        return format
    name = os.fspath(path).lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    raise InputError(f"cannot tell the table format of {os.fspath(path)!r} from its "
                     f"extension; use one of {sorted(_FORMATS)} or pass format=.")


def write_table(table, path, *, format=None, overwrite=False):
    """Write ``table`` with its columns and ``meta``, atomically.

    Parameters
    ----------
    table : `~astropy.table.Table`
        For example the output of `~astro_morph.classify`.
    path : str or path-like
        Output file; the format follows from the extension (``.ecsv``,
        ``.fits``, ``.xml``/``.vot`` for VOTable...) unless ``format`` is given.
    format : str, optional
        An astropy ``Table.write`` format name.
    overwrite : bool
        Replace an existing file.

    Examples
    --------
    >>> import os, tempfile
    >>> from astropy.table import Table
    >>> table = Table({"p_spiral": [0.9, 0.2]}, meta={"AMBACKBN": "compact"})
    >>> path = os.path.join(tempfile.mkdtemp(), "out.vot")
    >>> write_table(table, path)
    >>> read_table(path).meta["AMBACKBN"]
    'compact'
    """
    fmt = table_format(path, format)
    with atomic_path(path, overwrite) as tmp:
        if fmt == "votable":
            _write_votable(table, tmp)
        else:
            table.write(tmp, format=fmt)


def _write_votable(table, path):
    document = votable.from_table(Table(table))
    element = document.get_first_table()
    for key, value in table.meta.items():
        if isinstance(value, (str, int, float, bool)):
            info = votable.tree.Info(name=str(key), value=str(value))
            info.content = f"{_CONTENT}{type(value).__name__}"  # the type, to cast it back
            element.infos.append(info)
    document.to_xml(path)


def read_table(path, *, format=None):
    """Read a table written by `write_table`, restoring VOTable ``meta`` entries.

    Returns
    -------
    table : `~astropy.table.QTable`
    """
    if not os.path.isfile(path):
        raise InputError(f"table file {os.fspath(path)!r} does not exist.")
    try:
        fmt = table_format(path, format)
    except InputError:
        fmt = None  # let astropy recognise the file by its content
    try:
        if fmt != "votable":
            return QTable.read(path, format=fmt)
        element = votable.parse(os.fspath(path)).get_first_table()
    except Exception as exc:  # astropy's readers raise many types for unreadable files
        raise InputError(f"cannot read the table {os.fspath(path)!r} ({exc}); give an ECSV, "
                         "FITS, VOTable or CSV file, or format=.") from exc
    table = QTable(element.to_table())
    casts = {"int": int, "float": float, "bool": lambda text: text == "True", "str": str}
    for info in element.infos:
        kind = (info.content or "").removeprefix(_CONTENT)
        table.meta[info.name] = casts.get(kind, str)(info.value)
    return table
