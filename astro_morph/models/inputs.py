"""The one parsing path from what astronomers hold to image batches the network sees."""

import csv
import os
from dataclasses import asdict, dataclass

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table
from PIL import Image, UnidentifiedImageError

from astro_morph.exceptions import InputError
from astro_morph.imaging import Cutouts, bands_to_rgb, make_cutouts
from astro_morph.logger import log
from astro_morph.surveys import ImageSource

__all__ = ["Preprocessing", "read_labels_csv", "load_image_files", "prepare_images",
           "encode_labels", "training_labels"]

_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Preprocessing:
    """How images become network inputs; stored with the model so prediction cannot drift.

    Attributes
    ----------
    input_size : int
        Side of the square network input.
    crop_fraction : float
        Central fraction of each image kept before resizing (Galaxy Zoo
        JPEGs frame a galaxy in about ten times its Petrosian R90; keeping the
        central 35% frames it in 3.5 R90, so the network sees the galaxy).
    """

    input_size: int = 64
    crop_fraction: float = 0.35

    def to_dict(self):
        return asdict(self)

    def _box(self, height, width):
        side = max(1, int(round(min(height, width) * self.crop_fraction)))
        top, left = (height - side) // 2, (width - side) // 2
        return slice(top, top + side), slice(left, left + side), side

    def _resize(self, crop_uint8):
        pil = Image.fromarray(crop_uint8).resize((self.input_size,) * 2, Image.BILINEAR)
        return np.asarray(pil, dtype=np.float32) / 255.0

    def resize_crop(self, crop_uint8):
        """Resize one (side, side, 3) 8-bit crop to the network input, in [0, 1].

        The last step of `load`, for pipelines that crop the files themselves.
        """
        crop_uint8 = np.ascontiguousarray(crop_uint8, dtype=np.uint8)
        if crop_uint8.shape[0] == self.input_size:
            return crop_uint8.astype(np.float32) / 255.0
        return self._resize(crop_uint8)

    def crop_mask(self, height, width):
        """Boolean (height, width) mask of the pixels that `crop` keeps.

        Examples
        --------
        >>> int(Preprocessing(crop_fraction=0.5).crop_mask(8, 8).sum())
        16
        """
        mask = np.zeros((height, width), dtype=bool)
        rows, cols, _ = self._box(height, width)
        mask[rows, cols] = True
        return mask

    def crop(self, images):
        """The central ``crop_fraction`` of each image of a (N, H, W, C) batch (a view)."""
        rows, cols, _ = self._box(*np.shape(images)[1:3])
        return images[:, rows, cols]

    def resize(self, cropped):
        """Resize a batch of crops in [0, 1] to the network input."""
        cropped = np.asarray(cropped, dtype=np.float32)
        if cropped.shape[1] == self.input_size:
            return np.ascontiguousarray(cropped)
        out = np.empty((len(cropped), self.input_size, self.input_size, 3), dtype=np.float32)
        for i in range(len(cropped)):
            out[i] = self._resize(np.round(cropped[i] * 255).astype(np.uint8))
        return out

    def apply(self, images):
        """Centre-crop and resize a (N, H, W, 3) batch in [0, 1] to the network input."""
        return self.resize(self.crop(np.asarray(images, dtype=np.float32)))

    def read_crop(self, path):
        """Read one JPEG/PNG file and return its central crop, 8-bit RGB."""
        try:
            with Image.open(path) as image:
                array = np.asarray(image.convert("RGB"))
        except FileNotFoundError:
            raise InputError(f"image file {os.fspath(path)!r} does not exist.") from None
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise InputError(f"image file {os.fspath(path)!r} is empty or not a readable "
                             f"JPEG/PNG ({exc}); replace or remove it.") from exc
        rows, cols, _ = self._box(*array.shape[:2])
        return np.ascontiguousarray(array[rows, cols])

    def load(self, path):
        """Read one JPEG/PNG file and return it cropped and resized, in [0, 1]."""
        # The same pixels as apply(array / 255): 8-bit values survive the round trip,
        # so cropping the 8-bit array first only skips converting pixels never used.
        return self.resize_crop(self.read_crop(path))


def read_labels_csv(path, images_dir=None, classes=None):
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
    base = images_dir if images_dir is not None else os.path.dirname(os.path.abspath(path))
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
    paths = [os.path.join(base, r["filename"]) for r in kept]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise InputError(f"{len(missing)} image file(s) listed in {os.fspath(path)!r} are "
                         f"missing, e.g. {missing[:3]}; check --images / images_dir.")
    return paths, [r["label"] for r in kept]


def _folder(path, classes):
    """A folder of images, or of one sub-folder per class."""
    entries = sorted(os.listdir(path))
    subdirs = [e for e in entries if os.path.isdir(os.path.join(path, e))]
    paths, labels = [], []
    for name in subdirs if subdirs else [""]:
        folder = os.path.join(path, name)
        for file in sorted(os.listdir(folder)):
            if file.lower().endswith(_IMAGE_EXTENSIONS) and (not name or classes is None
                                                             or name in classes):
                paths.append(os.path.join(folder, file))
                labels.append(name or None)
    if not paths:
        raise InputError(f"folder {os.fspath(path)!r} holds no JPEG/PNG images.")
    return paths, labels


def load_image_files(paths, preprocessing):
    """Load image files into one (N, S, S, 3) float32 batch (decoded on all cores)."""
    from astro_morph.pipeline import decode_images
    return decode_images(list(paths), preprocessing)


def _array(images):
    images = np.asarray(images)
    if images.ndim == 3 and images.shape[-1] == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise InputError(f"an image batch must have shape (N, H, W, 3), got {images.shape}.")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    if not np.issubdtype(images.dtype, np.floating):
        raise InputError(f"image batches must be uint8 (0-255) or float (0-1), "
                         f"not {images.dtype}.")
    if not np.all(np.isfinite(images)) or images.min() < 0 or images.max() > 1:
        raise InputError("float image batches must hold finite values in [0, 1] "
                         "(use bands_to_rgb for calibrated cutouts).")
    return images.astype(np.float32)


def _cutout_images(cutouts, preprocessing):
    """Network inputs from cutouts: colour, crop, resize. Lupton's mapping works pixel
    by pixel (fixed black level), so only the pixels the crop keeps are coloured."""
    cropped = preprocessing.crop(cutouts.data)
    return preprocessing.resize(bands_to_rgb(cropped, bands=cutouts.bands,
                                             survey=cutouts.survey))


def prepare_images(X, preprocessing, *, source=None, images_dir=None, classes=None,
                   cutout_kwargs=None):
    """Turn any supported input into network-ready images (and labels when it has them).

    Parameters
    ----------
    X : array, str, path-like, `~astropy.table.Table`, SkyCoord or `~astro_morph.Cutouts`
        An (N, H, W, 3) batch (uint8 or [0, 1] floats); one JPEG/PNG file; a
        labels CSV or a folder of JPEG/PNG images (one sub-folder per class for
        labels); a Table with a ``filename`` column; positions (Table or SkyCoord) together with an
        image ``source`` (cutouts and colour made by the imaging pipeline,
        e.g. from FITS files through `~astro_morph.FITSImageSource`); or Cutouts.
    preprocessing : `Preprocessing`
    source : `~astro_morph.surveys.ImageSource`, optional
        Where positions are cut from.
    images_dir : str, optional
        Folder of the files named in a CSV or Table.
    classes : sequence of str, optional
        Rows of a CSV with other labels are skipped.
    cutout_kwargs : dict, optional
        Passed to `~astro_morph.make_cutouts`.

    Returns
    -------
    images : `~numpy.ndarray`
        (N, S, S, 3) float32 in [0, 1].
    labels : list of str or None
        Labels found in the input (CSV, class folders, a ``label`` column), else None.
    flags : `~numpy.ndarray` or None
        Cutout flags when the images came from a source.
    """
    if isinstance(X, (str, os.PathLike)):
        if os.path.isdir(X):
            paths, labels = _folder(X, classes)
        elif os.fspath(X).lower().endswith(_IMAGE_EXTENSIONS):
            paths, labels = [os.fspath(X)], [None]
        else:
            paths, labels = read_labels_csv(X, images_dir, classes)
        labels = None if any(lab is None for lab in labels) else labels
        return load_image_files(paths, preprocessing), labels, None
    if isinstance(X, Cutouts):
        return _cutout_images(X, preprocessing), None, X.flags
    if isinstance(X, (Table, SkyCoord)):
        labels = list(X["label"]) if isinstance(X, Table) and "label" in X.colnames else None
        if source is None and isinstance(X, Table) and "filename" in X.colnames:
            base = images_dir or ""
            paths = [os.path.join(base, f) for f in X["filename"]]
            return load_image_files(paths, preprocessing), labels, None
        if not isinstance(source, ImageSource):
            raise InputError("positions need an image source to cut images from: pass "
                             "source=FITSImageSource({...}) (or a Table with a 'filename' "
                             "column of image files).")
        cutouts = make_cutouts(source, X, **(cutout_kwargs or {}))
        return _cutout_images(cutouts, preprocessing), labels, cutouts.flags
    if isinstance(X, (np.ndarray, list)):
        return preprocessing.apply(_array(X)), None, None
    raise InputError(f"cannot classify a {type(X).__name__}: give an (N, H, W, 3) image array, "
                     "a labels CSV or image folder, a Table/SkyCoord of positions with a "
                     "source, or Cutouts.")


def training_labels(found, y, classes, n_images):
    """The labels to learn from: ``y``, else those the input carried; encoded and
    checked against the number of images (one path for every ``fit``)."""
    labels = found if y is None else y
    if labels is None:
        raise InputError("no labels: pass y, or an input that carries them "
                         "(a labels CSV, class sub-folders, a 'label' column).")
    labels = encode_labels(labels, classes)
    if len(labels) != n_images:
        raise InputError(f"X has {n_images} images but y has {len(labels)} labels.")
    return labels


def encode_labels(labels, classes):
    """Labels (class names or 0/1...) to integer class indices, checking them."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InputError(f"y must be one-dimensional, got shape {labels.shape}.")
    if labels.dtype.kind in "US O":
        index = {name: k for k, name in enumerate(classes)}
        unknown = sorted({str(v) for v in labels if v not in index})
        if unknown:
            raise InputError(f"unknown label(s) {unknown[:5]}; the classes are {list(classes)} "
                             "(drop other rows first).")
        return np.array([index[v] for v in labels], dtype=np.int32)
    if labels.dtype.kind in "biu" and np.all((labels >= 0) & (labels < len(classes))):
        return labels.astype(np.int32)
    raise InputError(f"y must hold class names {list(classes)} or indices 0..{len(classes) - 1}.")
