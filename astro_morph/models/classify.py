"""classify: the user's Table back, with morphology columns and provenance."""

import datetime
import importlib.metadata
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from astropy import units as u
from astropy.table import MaskedColumn, QTable, Table

from astro_morph.catalogs import parse_positions
from astro_morph.exceptions import InputError
from astro_morph.imaging import CUTOUT_FLAGS, RESAMPLING, border_pixels
from astro_morph.surveys import ImageSource

__all__ = ["classify", "FRAMING", "framing_fields", "classification_columns",
           "classification_meta"]

#: Default cutout framing for classification: Galaxy Zoo JPEGs show a field ten
#: Petrosian R90 wide; without a radius column we frame a fixed 100 arcsec field
#: (R90 = 10", a typical bright SDSS galaxy).
FRAMING = 100 * u.arcsec


def _versions():
    return "; ".join(f"{name} {importlib.metadata.version(name)}"
                     for name in ("astro_morph", "keras", "tensorflow", "astropy", "numpy"))


def classification_meta(classifier, source, size_pixels, prefix, resampling="fast"):
    """Provenance of a classification, as Table ``meta`` entries."""
    # Keys of at most 8 characters, scalar values: they survive FITS headers too.
    info = getattr(classifier, "provenance_", {})
    return {
        "AMMODEL": info.get("file", "in-memory model"),
        "AMSHA256": info.get("sha256", ""),
        "AMBACKBN": classifier.backbone,
        "AMTRAIN": str(info.get("training_data", classifier.training_info_.get("data", ""))),
        "AMBANDS": "".join(source.survey.rgb_bands),
        "AMSURVEY": source.survey.name,
        "AMCUTPIX": int(size_pixels),
        "AMRESAMP": resampling,
        "AMTEMP": float(classifier.temperature_),
        "AMPREFIX": prefix,
        "AMDATE": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "AMVERS": _versions(),
    }


def classify(table, source, *, classifier=None, prefix="", copy=True, framing=FRAMING,
             radius_column=None, cutout_size=128, batch_size=256, resampling="fast",
             distributed=False):
    """Classify the galaxies of a catalog and return it with morphology columns.

    Parameters
    ----------
    table : `~astropy.table.Table` or `~astropy.coordinates.SkyCoord`
        The catalog (any RA/Dec column spelling `~astro_morph.parse_positions` reads).
    source : `~astro_morph.surveys.ImageSource`
        Where the images come from (e.g. `~astro_morph.FITSImageSource`).
    classifier : `~astro_morph.MorphologyClassifier`, optional
        A fitted or loaded classifier; by default the pretrained one.
    prefix : str
        Prefix of the new column names (e.g. ``"des_"``).
    copy : bool
        Return a new table (default) or add the columns to ``table`` in place.
    framing : `~astropy.units.Quantity`
        Width of the sky field shown to the network (before its central crop),
        when no ``radius_column`` is given.
    radius_column : str, optional
        Column with each galaxy's Petrosian R90 (angle or arcsec): frame each
        galaxy in ten times it, as Galaxy Zoo images do.
    cutout_size : int
        Cutout side in pixels; the pixel scale follows from the framing.
    batch_size : int
        Galaxies cut out and classified together.
    resampling : {'fast', 'exact'}
        Cutout resampling (see `~astro_morph.make_cutouts`): ``'fast'``
        resamples all galaxies of a batch at once; ``'exact'`` uses
        `reproject.reproject_exact` galaxy by galaxy (several times slower).
    distributed : bool
        Under a Horovod launcher (``horovodrun -np N python script.py``),
        each rank cuts out and classifies its own block of rows and every
        rank gets the whole table back, in the original row order (write it
        from rank 0 only: ``astro_morph.distributed.is_root()``).

    Returns
    -------
    table : `~astropy.table.Table`
        With ``p_spiral``, ``p_elliptical``, ``morphology``, ``p_spiral_std``,
        ``uncertain`` and ``flag`` (bits of `~astro_morph.imaging.CUTOUT_FLAGS`;
        rows outside the images get masked probabilities, the batch goes on),
        and provenance in ``meta`` (keys ``AMMODEL``, ``AMSHA256``, ``AMBACKBN``,
        ``AMTRAIN``, ``AMBANDS``, ``AMSURVEY``, ``AMCUTPIX``, ``AMRESAMP``, ``AMTEMP``,
        ``AMPREFIX``, ``AMDATE``, ``AMVERS``: short so that FITS headers keep them).
    """
    classifier = _fitted(classifier)
    _check_source(source, resampling)
    coords = parse_positions(table, unique=True)
    out = QTable({"ra": coords.ra, "dec": coords.dec}) if not isinstance(table, Table) else (
        table.copy() if copy else table)
    fields = framing_fields(out, len(coords), framing, radius_column)
    if distributed:
        from astro_morph.distributed import sharded_classification_columns  # Horovod only here
        new = sharded_classification_columns(classifier, source, coords, fields,
                                             cutout_size=cutout_size, batch_size=batch_size,
                                             resampling=resampling)
    else:
        new = classification_columns(classifier, source, coords, fields,
                                     cutout_size=cutout_size, batch_size=batch_size,
                                     resampling=resampling)
    for name, column in new.items():
        out[prefix + name] = column
    out.meta.update(classification_meta(classifier, source, cutout_size, prefix, resampling))
    return out


def _fitted(classifier):
    if classifier is None:
        from astro_morph.models.classifier import MorphologyClassifier
        classifier = MorphologyClassifier.pretrained()
    classifier._check_fitted()
    return classifier


def _check_source(source, resampling="fast"):
    if not isinstance(source, ImageSource):
        raise InputError("classify needs source=an image source, e.g. FITSImageSource({...}).")
    if resampling not in RESAMPLING:
        raise InputError(f"resampling must be one of {RESAMPLING}, not {resampling!r}.")


def framing_fields(table, n_rows, framing=FRAMING, radius_column=None):
    """Width in arcsec of the sky field shown for each row (10 R90, or ``framing``)."""
    if radius_column is not None:
        if not isinstance(table, Table) or radius_column not in table.colnames:
            raise InputError(f"radius_column {radius_column!r} is not a column of the table.")
        radius = table[radius_column]
        if getattr(radius, "unit", None) is not None:
            radius = u.Quantity(radius).to_value(u.arcsec)
        fields = 10 * np.asarray(radius, dtype=float)
    else:
        fields = np.full(n_rows, u.Quantity(framing, u.arcsec).value)
    if not np.all(np.isfinite(fields) & (fields > 0)):
        raise InputError("framing / radii must be positive and finite.")
    return fields


def classification_columns(classifier, source, coords, fields, *, cutout_size=128,
                           batch_size=256, resampling="fast"):
    """The morphology columns (without prefix) for ``coords`` framed in ``fields`` arcsec."""
    n_classes = len(classifier.classes_)
    mean = np.full((len(coords), n_classes), np.nan)
    spread = np.full((len(coords), n_classes), np.nan)
    flags = np.zeros(len(coords), dtype=np.int32)
    # Only the pixels used are resampled: the crop the network sees and the sky pixels.
    used = classifier.preprocessing_.crop_mask(cutout_size, cutout_size)
    used.flat[border_pixels((cutout_size, cutout_size))] = True
    # Batches of rows sharing a framing (one make_cutouts call each).
    batches = []
    for field in np.unique(fields):
        rows = np.flatnonzero(fields == field)
        kwargs = {"size": cutout_size, "pixel_scale": field / cutout_size * u.arcsec / u.pixel,
                  "on_error": "flag", "resampling": resampling, "pixels": used}
        batches += [(rows[a:a + batch_size], kwargs) for a in range(0, len(rows), batch_size)]

    # The next batch's cutouts are made while the network classifies this one (NumPy,
    # SciPy and TensorFlow release the interpreter lock), so the plumbing overlaps the model.
    with ThreadPoolExecutor(1) as cutter:
        pending = cutter.submit(classifier._images, coords[batches[0][0]], source,
                                batches[0][1]) if batches else None
        for index, (rows, _) in enumerate(batches):
            images, flags[rows] = pending.result()
            if index + 1 < len(batches):
                following, kwargs = batches[index + 1]
                pending = cutter.submit(classifier._images, coords[following], source, kwargs)
            views = classifier._view_probabilities(images)
            mean[rows], spread[rows] = views.mean(axis=0), views.std(axis=0)
    bad = (flags & CUTOUT_FLAGS["outside_footprint"]) > 0
    mean[bad], spread[bad] = np.nan, np.nan

    spiral = classifier.classes_.index("spiral") if "spiral" in classifier.classes_ else -1
    elliptical = 1 - spiral if n_classes == 2 and spiral >= 0 else 0
    p_spiral = mean[:, spiral]
    std = spread[:, spiral]
    names = np.asarray(classifier.classes_)[np.argmax(np.nan_to_num(mean, nan=-1), axis=1)]
    return {
        "p_spiral": MaskedColumn(p_spiral, mask=bad, unit=u.dimensionless_unscaled,
                                 description="calibrated probability of a spiral (TTA mean)"),
        "p_elliptical": MaskedColumn(mean[:, elliptical], mask=bad,
                                     unit=u.dimensionless_unscaled,
                                     description="calibrated probability of an elliptical"),
        "morphology": MaskedColumn(names, mask=bad, description="most probable class"),
        "p_spiral_std": MaskedColumn(std, mask=bad, unit=u.dimensionless_unscaled,
                                     description="spread of p_spiral over 8 rotations/flips"),
        "uncertain": MaskedColumn((p_spiral - std < 0.5) & (p_spiral + std > 0.5), mask=bad,
                                  description="p_spiral +- its spread straddles 0.5"),
        "flag": MaskedColumn(flags, description="cutout flags (astro_morph CUTOUT_FLAGS bits)"),
    }
