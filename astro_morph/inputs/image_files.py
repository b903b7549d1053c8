"""Image files and labels CSVs: which files, with which labels."""

import csv
import os

from astropy.table import Table

from astro_morph.exceptions import InputError
from astro_morph.logger import log

__all__ = ["read_labels_csv", "read_votes_csv", "image_files", "is_image_path",
           "IMAGE_EXTENSIONS"]

#: File name endings read as images.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def read_labels_csv(path, *, images_dir=None, classes=None):
    """Read a labels CSV (``filename,label,...``) into image paths and labels.

    Relative file names are taken from ``images_dir`` (default: the CSV's
    folder). Rows whose label is not one of ``classes`` (such as ``other``)
    are skipped and counted in the log.

    Returns
    -------
    paths : list of str
    labels : list of str
    """
    if not os.path.isfile(path):
        raise InputError(f"labels file {os.fspath(path)!r} does not exist.")
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"filename", "label"} <= set(reader.fieldnames):
                raise InputError(f"{os.fspath(path)!r} must be a CSV with 'filename' and "
                                 f"'label' columns; its header is {reader.fieldnames}.")
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{os.fspath(path)!r} is not a text CSV of filename,label rows "
                         f"({exc}); pass a labels CSV, an image folder or an image file.") \
            from exc
    kept = [r for r in rows if classes is None or r["label"] in classes]
    if len(kept) < len(rows):
        log.info("%s: skipped %d rows whose label is not one of %s", path,
                 len(rows) - len(kept), list(classes))
    if not kept:
        raise InputError(f"{os.fspath(path)!r} has no rows labelled {list(classes or [])}.")
    paths = _listed_files(path, images_dir, [r["filename"] for r in kept])
    return paths, [r["label"] for r in kept]


def _listed_files(path, images_dir, names):
    """The files a CSV at ``path`` names, from ``images_dir`` (default: the CSV's folder),
    all of which must exist."""
    base = images_dir if images_dir is not None else os.path.dirname(os.path.abspath(path))
    paths = [os.path.join(base, str(name)) for name in names]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise InputError(f"{len(missing)} image file(s) listed in {os.fspath(path)!r} are "
                         f"missing, e.g. {missing[:3]}; check --images / images_dir.")
    return paths


def read_votes_csv(path, *, images_dir=None):
    """Read a CSV of image files and their Galaxy Zoo votes (``filename`` and vote columns,
    e.g. a Galaxy Zoo 2 catalogue excerpt).

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    images_dir : str, optional
        Folder of relative file names (default: the CSV's folder).

    Returns
    -------
    paths : list of str
    votes : `~astropy.table.Table`
        The whole CSV (`~astro_morph.catalogs.Schema.counts_from_table` reads it).

    Raises
    ------
    InputError
        The file is missing or no CSV, has no ``filename`` column, or names
        missing images.
    """
    if not os.path.isfile(path):
        raise InputError(f"votes file {os.fspath(path)!r} does not exist.")
    try:
        votes = Table.read(path, format="ascii.csv")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{os.fspath(path)!r} is not a CSV table ({exc}).") from exc
    if "filename" not in votes.colnames:
        raise InputError(f"{os.fspath(path)!r} needs a 'filename' column beside its vote "
                         "columns.")
    return _listed_files(path, images_dir, votes["filename"]), votes


def _folder(path, classes):
    """A folder of images, or of one sub-folder per class."""
    entries = sorted(os.listdir(path))
    subdirs = [e for e in entries if os.path.isdir(os.path.join(path, e))]
    paths, labels = [], []
    for name in subdirs if subdirs else [""]:
        folder = os.path.join(path, name)
        for file in sorted(os.listdir(folder)):
            if file.lower().endswith(IMAGE_EXTENSIONS) and (not name or classes is None
                                                            or name in classes):
                paths.append(os.path.join(folder, file))
                labels.append(name or None)
    if not paths:
        raise InputError(f"folder {os.fspath(path)!r} holds no JPEG/PNG images.")
    return paths, labels


def is_image_path(value):
    """True for a path that names one JPEG/PNG file."""
    return isinstance(value, (str, os.PathLike)) and \
        os.fspath(value).lower().endswith(IMAGE_EXTENSIONS)


def image_files(X, images_dir=None, classes=None):
    """The image files an input names, and their labels when it carries them.

    Parameters
    ----------
    X : str, path-like or sequence of them
        A labels CSV (``filename,label``), a folder of JPEG/PNG images (one
        sub-folder per class for labels), one image file, or a list of
        image files.
    images_dir : str, optional
        Folder of the files named in a CSV (default: the CSV's folder).
    classes : sequence of str, optional
        Rows of a CSV, or class folders, with other labels are skipped.

    Returns
    -------
    paths : list of str
    labels : list of str or None
        None unless every file has a label.

    Examples
    --------
    >>> image_files(["a.jpg", "b.png"])
    (['a.jpg', 'b.png'], None)
    """
    if isinstance(X, (list, tuple)):
        if not X or not all(is_image_path(p) for p in X):
            raise InputError("a list of images must hold JPEG/PNG file paths (.jpg, .jpeg, "
                             ".png), at least one.")
        return [os.fspath(p) for p in X], None
    if os.path.isdir(X):
        paths, labels = _folder(X, classes)
    elif is_image_path(X):
        paths, labels = [os.fspath(X)], [None]
    else:
        paths, labels = read_labels_csv(X, images_dir=images_dir, classes=classes)
    return paths, None if any(label is None for label in labels) else labels
