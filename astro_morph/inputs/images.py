"""The one front door from what astronomers hold to the images a network sees.

`prepare_images` reads every input kind (arrays, image files, folders,
labels CSVs, tables of files, positions with an image source, cutouts) for
every entry point: training, prediction, classification and evaluation.
"""

import os

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astro_morph.catalogs.positions import parse_positions
from astro_morph.exceptions import InputError
from astro_morph.imaging.background import border_pixels
from astro_morph.imaging.cutouts import Cutouts, cutouts_at
from astro_morph.imaging.rgb import bands_to_rgb
from astro_morph.inputs.datasets import decode_images
from astro_morph.inputs.framing import Framing
from astro_morph.inputs.image_files import image_files, is_image_path
from astro_morph.surveys.base import ImageSource

__all__ = ["prepare_images", "cutout_inputs", "check_image_batch", "load_image_files"]


def check_image_batch(images, what="images", *, min_size=1):
    """An (N, H, W, 3) colour batch as float32 in [0, 1]; uint8 (0-255) is scaled.

    The one check of image batches at every public boundary; a single
    (H, W, 3) image becomes a batch of one.

    Examples
    --------
    >>> check_image_batch(np.zeros((2, 8, 8, 3), np.uint8)).dtype
    dtype('float32')
    """
    images = np.asarray(images)
    if images.ndim == 3 and images.shape[-1] == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise InputError(f"{what} must be an image batch of shape (N, H, W, 3), "
                         f"got {images.shape}.")
    if min(images.shape[1:3]) < min_size:
        raise InputError(f"{what} must be at least {min_size} pixels on a side, "
                         f"got {images.shape[1:3]}.")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    if not np.issubdtype(images.dtype, np.floating):
        raise InputError(f"{what} must be uint8 (0-255) or float (0-1), not {images.dtype}.")
    if images.size and (not np.all(np.isfinite(images)) or images.min() < 0
                        or images.max() > 1):
        raise InputError(f"{what}: float image batches must hold finite values in [0, 1] "
                         "(use bands_to_rgb for calibrated cutouts).")
    return images.astype(np.float32, copy=False)


def load_image_files(paths, preprocessing):
    """Image files as one (N, S, S, 3) float32 batch, cropped and resized."""
    return decode_images(list(paths), preprocessing)


def _cutout_images(cutouts, preprocessing):
    """Network inputs from cutouts: colour, crop, resize. Lupton's mapping works pixel
    by pixel (fixed black level), so only the pixels the crop keeps are coloured."""
    cropped = preprocessing.crop(cutouts.data)
    return preprocessing.resize(bands_to_rgb(cropped, bands=cutouts.bands,
                                             survey=cutouts.survey))


def _used_pixels(framing, preprocessing):
    """The cutout pixels the network inputs depend on (None: all of them)."""
    if framing.recenter or framing.background == "mesh":
        return None
    used = preprocessing.crop_mask(framing.size, framing.size)
    if framing.background == "border":
        used.flat[border_pixels((framing.size, framing.size))] = True
    return used


def cutout_inputs(source, coords, fields, framing, preprocessing, *, on_error="flag"):
    """Network inputs of galaxies cut from ``source``, and their cutout flags.

    Rows that share a field width are cut together; only the pixels the
    network's crop and the sky estimate use are resampled. Training,
    prediction and classification all cut through here, so one galaxy gets
    the same pixels whichever entry point asks.

    Parameters
    ----------
    source : `~astro_morph.surveys.ImageSource`
    coords : `~astropy.coordinates.SkyCoord`
    fields : `~numpy.ndarray`
        Field width of each row in arcsec (`Framing.fields`).
    framing : `Framing`
    preprocessing : `Preprocessing`
    on_error : {'flag', 'raise'}
        As in `~astro_morph.make_cutouts`.

    Returns
    -------
    images : `~numpy.ndarray`
        (N, S, S, 3) float32 in [0, 1].
    flags : `~numpy.ndarray`
        `~astro_morph.imaging.CUTOUT_FLAGS` bits of each row.
    """
    size = preprocessing.input_size
    images = np.zeros((len(coords), size, size, 3), dtype=np.float32)
    flags = np.zeros(len(coords), dtype=np.int32)
    pixels = _used_pixels(framing, preprocessing)
    for field in np.unique(fields):
        rows = np.flatnonzero(fields == field)
        cutouts = cutouts_at(source, coords[rows], on_error=on_error, pixels=pixels,
                             **framing.cutout_kwargs(field))
        images[rows] = _cutout_images(cutouts, preprocessing)
        flags[rows] = cutouts.flags
    return images, flags


def prepare_images(X, preprocessing, *, framing=None, source=None, images_dir=None,
                   classes=None, on_error="flag", unique=False):
    """Turn any supported input into network-ready images (and labels when it has them).

    Parameters
    ----------
    X : array, str, path-like, list of paths, Table, SkyCoord or `~astro_morph.Cutouts`
        An (N, H, W, 3) batch (uint8 or [0, 1] floats); one JPEG/PNG file or
        a list of them; a labels CSV or a folder of JPEG/PNG images (one
        sub-folder per class for labels); a Table with a ``filename`` column;
        positions (Table or SkyCoord) together with an image ``source``
        (cut out at ``framing``, coloured and cropped); or Cutouts.
    preprocessing : `Preprocessing`
    framing : `Framing`, optional
        How positions are cut out (default `Framing()`).
    source : `~astro_morph.surveys.ImageSource`, optional
        Where positions are cut from.
    images_dir : str, optional
        Folder of the files named in a CSV or Table.
    classes : sequence of str, optional
        Rows of a CSV with other labels are skipped.
    on_error : {'flag', 'raise'}
        Positions off the images: flagged (zeros) or `~astro_morph.FootprintError`.
    unique : bool
        Refuse positions that repeat (training: a galaxy given twice would
        leak into the validation set); see `~astro_morph.parse_positions`.

    Returns
    -------
    images : `~numpy.ndarray`
        (N, S, S, 3) float32 in [0, 1].
    labels : list of str or None
        Labels found in the input (CSV, class folders, a ``label`` column), else None.
    flags : `~numpy.ndarray` or None
        Cutout flags when the images came from a source.
    """
    if isinstance(X, (str, os.PathLike)) or (isinstance(X, (list, tuple)) and X
                                              and is_image_path(X[0])):
        paths, labels = image_files(X, images_dir, classes)
        return load_image_files(paths, preprocessing), labels, None
    if isinstance(X, Cutouts):
        return _cutout_images(X, preprocessing), None, X.flags
    if isinstance(X, (Table, SkyCoord)):
        labels = list(X["label"]) if isinstance(X, Table) and "label" in X.colnames else None
        if source is None and isinstance(X, Table) and "filename" in X.colnames:
            paths = [os.path.join(images_dir or "", f) for f in X["filename"]]
            return load_image_files(paths, preprocessing), labels, None
        if not isinstance(source, ImageSource):
            raise InputError("positions need an image source to cut images from: pass "
                             "source=FITSImageSource({...}) (or a Table with a 'filename' "
                             "column of image files).")
        framing = framing if framing is not None else Framing()
        coords = parse_positions(X, unique=unique)
        images, flags = cutout_inputs(source, coords, framing.fields(X, len(coords)), framing,
                                      preprocessing, on_error=on_error)
        return images, labels, flags
    if isinstance(X, (np.ndarray, list)):
        return preprocessing.apply(check_image_batch(X)), None, None
    raise InputError(f"cannot read a {type(X).__name__} as images: give an (N, H, W, 3) image "
                     "array, image files (a list, a folder or a labels CSV), a Table/SkyCoord "
                     "of positions with a source, or Cutouts.")
