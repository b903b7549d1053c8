"""Files that appear whole or not at all, and JSON records shared by several processes.

Every write of astro_morph that another process (a Horovod rank, a second
job, a reader) may see goes through `atomic_path`: the content is written
to a temporary file with a unique name in the same folder and renamed over
the target, so two writers never share a temporary file and a reader never
sees half a file. `update_json` adds entries to a JSON record under a file
lock, so concurrent writers merge their entries instead of losing them.
"""

import contextlib
import fcntl
import json
import os
import pathlib
import tempfile

from astro_morph.exceptions import InputError

__all__ = ["atomic_path", "check_output_path", "write_json", "read_json", "update_json"]


def _suffix(name):
    """The extension a writer may look at: ``.fits.gz`` stays whole, else the last one."""
    suffixes = pathlib.PurePath(name).suffixes
    if len(suffixes) >= 2 and suffixes[-1].lower() == ".gz":
        return "".join(suffixes[-2:])
    return suffixes[-1] if suffixes else ""


class atomic_path:
    """Context manager yielding a temporary path that replaces ``path`` on success.

    The temporary file lies in the same folder (so the rename is atomic),
    has a unique name (concurrent writers never share it) and keeps
    ``path``'s extension (writers choose their format by it); it is removed
    if the block raises. The file gets the permissions of a normal new file.

    Parameters
    ----------
    path : str or path-like
        The final file.
    overwrite : bool
        Replace an existing ``path``; otherwise its existence is an `InputError`.

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = pathlib.Path(tmp).write_text("whole")
    >>> target.read_text(), os.listdir(target.parent)
    ('whole', ['notes.txt'])
    """

    def __init__(self, path, overwrite=False):
        self.path = os.fspath(path)
        if os.path.exists(self.path) and not overwrite:
            raise InputError(f"{self.path!r} exists; choose another name or allow "
                             "overwriting (overwrite=True / --overwrite).")
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise InputError(f"the folder of {self.path!r} does not exist; create it first.")
        self._folder = folder

    def __enter__(self):
        base = os.path.basename(self.path)
        handle, self.tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".part{_suffix(base)}",
                                            dir=self._folder)
        os.close(handle)
        os.remove(self.tmp)  # writers that refuse to overwrite must find no file
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp's names are private to the owner
            os.replace(self.tmp, self.path)
        elif os.path.exists(self.tmp):
            os.remove(self.tmp)
        return False


def check_output_path(path, suffix, error=InputError):
    """Refuse, before any work, an output path that could not be written.

    Parameters
    ----------
    path : str or path-like
    suffix : str
        The ending the file must have (e.g. ``".keras"``).
    error : type
        The `~astro_morph.AstroMorphError` subclass to raise.

    Examples
    --------
    >>> check_output_path("model.keras", ".keras")
    'model.keras'
    """
    path = os.fspath(path)
    if not path.endswith(suffix):
        raise error(f"the output must end in {suffix}, got {path!r}; name it e.g. "
                    f"model{suffix}.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise error(f"cannot write {path!r}: its folder {folder!r} does not exist "
                    "or is not writable.")
    return path


def write_json(path, content):
    """Write ``content`` as JSON to ``path`` atomically (replacing it)."""
    with atomic_path(path, overwrite=True) as tmp, open(tmp, "w") as handle:
        json.dump(content, handle, indent=1)
    return os.fspath(path)


def read_json(path, default=None):
    """The JSON content of ``path``, or ``default`` when it is missing or unreadable."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default


@contextlib.contextmanager
def _locked(path):
    """An exclusive advisory lock on ``path + '.lock'`` (processes on one file system)."""
    with open(os.fspath(path) + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update_json(path, entries):
    """Merge ``entries`` into the JSON object stored at ``path``, under a lock.

    The file is read again under the lock, the new entries are added and the
    whole is written atomically, so processes that update the same record at
    once (ranks filling one cache) keep every entry.

    Returns
    -------
    record : dict
        The merged content.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "index.json")
    >>> _ = update_json(path, {"a": 1})
    >>> update_json(path, {"b": 2})
    {'a': 1, 'b': 2}
    """
    with _locked(path):
        record = read_json(path, {})
        if not isinstance(record, dict):
            record = {}
        record.update(entries)
        write_json(path, record)
    return record
