"""The morphology columns of a catalog: cut, classify, summarise (one skeleton).

`~astro_morph.classify` (in memory), `~astro_morph.classify_catalog`
(chunked into files) and `~astro_morph.embed_catalog` compute their columns
here, chunk by chunk, on the one catalogue runner
(``astro_morph.classification.runner``).
"""

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from astropy import units as u
from astropy.table import MaskedColumn

from astro_morph.catalogs.labels import NEGATIVE_CLASS, THRESHOLD, positive_index, predicted_index
from astro_morph.catalogs.trees import get_schema
from astro_morph.exceptions import InputError
from astro_morph.imaging.cutouts import CUTOUT_FLAGS
from astro_morph.inputs.images import cutout_inputs
from astro_morph.models.embedding import classifier_projection, embed_images
from astro_morph.utils.provenance import package_versions, utc_now

__all__ = ["classification_columns", "embedding_columns", "cutout_batches",
           "classification_meta", "vote_schema", "COLUMN_UNITS"]

#: Units of the probability columns (all dimensionless).
COLUMN_UNITS = {"p_spiral": u.dimensionless_unscaled, "p_elliptical": u.dimensionless_unscaled,
                "p_spiral_std": u.dimensionless_unscaled}


def vote_schema(classifier, schema):
    """The schema whose vote columns a classification adds: a sub-schema of the
    classifier's, or None.

    ``schema`` None: every question of the classifier's schema (none for a
    model of class labels, whose classes are the ``p_`` columns); else the
    questions of ``schema`` (a name such as ``"gz2"`` or a Schema), which the
    classifier must answer.

    Raises
    ------
    InputError
        An unknown schema, or one the classifier does not answer.
    """
    mine = classifier.schema_
    if schema is None:
        return None if mine.is_classes else mine
    wanted = get_schema(schema)
    if not mine.contains(wanted):
        raise InputError(f"this model answers schema {mine.name!r} "
                         f"({[q.name for q in mine.questions]}), not all of {wanted.name!r}: "
                         "choose a schema it answers, or a model trained on it.")
    return mine.select([q.name for q in wanted.questions], name=wanted.name)


def classification_meta(classifier, source, framing, prefix, votes=None):
    """Provenance of a classification, as Table ``meta`` entries."""
    # Keys of at most 8 characters, scalar values: they survive FITS headers too.
    info = getattr(classifier, "provenance_", {})
    versions = package_versions(("astro_morph", "keras", "tensorflow", "astropy", "numpy"))
    return {
        "AMMODEL": info.get("file", "in-memory model"),
        "AMSHA256": info.get("sha256", ""),
        "AMBACKBN": classifier.backbone,
        "AMTRAIN": str(info.get("training_data", classifier.training_info_.get("data", ""))),
        "AMBANDS": "".join(framing.bands or source.survey.rgb_bands),
        "AMSURVEY": source.survey.key,
        "AMFIELD": float(framing.field),
        "AMRADCOL": framing.radius_column or "",
        "AMCUTPIX": int(framing.size),
        "AMRESAMP": framing.resampling,
        "AMTEMP": float(classifier.temperature_),
        "AMPREFIX": prefix,
        # The schema whose vote columns were added ("" for none), and its tree as JSON
        # (a string: FITS headers and VOTable INFO keep it).
        "AMSCHEMA": "" if votes is None else votes.name,
        "AMTREE": "" if votes is None else json.dumps(votes.to_dict()),
        "AMDATE": utc_now(),
        "AMVERS": "; ".join(f"{name} {version}" for name, version in versions.items()),
    }


def _columns(classifier, views, flags, bad, votes):
    classes = classifier.classes_
    proba = classifier.schema_.class_probabilities(views)
    mean, spread = proba.mean(axis=0), proba.std(axis=0)
    spiral = positive_index(classes)
    other = classes.index(NEGATIVE_CLASS) if NEGATIVE_CLASS in classes else int(spiral == 0)
    p_spiral, std = mean[:, spiral], spread[:, spiral]
    names = np.asarray(classes)[predicted_index(np.nan_to_num(mean, nan=0.0), classes)]
    unit = COLUMN_UNITS["p_spiral"]
    columns = {
        "p_spiral": MaskedColumn(p_spiral, mask=bad, unit=unit,
                                 description="calibrated probability of a spiral (TTA mean)"),
        "p_elliptical": MaskedColumn(mean[:, other], mask=bad, unit=unit,
                                     description="calibrated probability of an elliptical"),
        "morphology": MaskedColumn(names, mask=bad, description="predicted class "
                                   "(spiral where p_spiral >= 0.5)"),
        "p_spiral_std": MaskedColumn(std, mask=bad, unit=unit,
                                     description="spread of p_spiral over 8 rotations/flips"),
        "uncertain": MaskedColumn((p_spiral - std < THRESHOLD) & (p_spiral + std > THRESHOLD),
                                  mask=bad,
                                  description="p_spiral +- its spread straddles 0.5"),
    }
    if votes is not None:
        columns.update(classifier.schema_.vote_columns(
            views, questions=[q.name for q in votes.questions], mask=bad))
    columns["flag"] = MaskedColumn(flags, description="cutout flags (astro_morph CUTOUT_FLAGS "
                                                      "bits)")
    return columns


def cutout_batches(classifier, source, coords, fields, framing, *, batch_size=256):
    """Network inputs of ``coords``, batch by batch: ``(rows, images, flags)``.

    Rows sharing a field are cut together (one cutouts_at call per batch);
    the next batch is cut out while the caller's network runs on this one
    (NumPy, SciPy and TensorFlow release the interpreter lock), so the
    plumbing overlaps the model.
    """
    batches = []
    for field in np.unique(fields):
        rows = np.flatnonzero(fields == field)
        batches += [rows[a:a + batch_size] for a in range(0, len(rows), batch_size)]

    def cut(rows):
        return cutout_inputs(source, coords[rows], fields[rows], framing,
                             classifier.preprocessing_)

    with ThreadPoolExecutor(1) as cutter:
        pending = cutter.submit(cut, batches[0]) if batches else None
        for index, rows in enumerate(batches):
            images, flags = pending.result()
            if index + 1 < len(batches):
                pending = cutter.submit(cut, batches[index + 1])
            yield rows, images, flags


def classification_columns(classifier, source, coords, fields, framing, *, batch_size=256,
                           votes=None):
    """The morphology columns (without prefix) of ``coords`` framed in ``fields`` arcsec.

    Parameters
    ----------
    classifier : `~astro_morph.MorphologyClassifier`
        Fitted.
    source : `~astro_morph.surveys.ImageSource`
    coords : `~astropy.coordinates.SkyCoord`
    fields : `~numpy.ndarray`
        Field width of each row, arcsec (`~astro_morph.Framing.fields`).
    framing : `~astro_morph.Framing`
    batch_size : int
        Galaxies cut out and classified together.
    votes : `~astro_morph.catalogs.Schema`, optional
        The part of the classifier's schema whose vote columns are added
        (`vote_schema`).

    Returns
    -------
    columns : dict of `~astropy.table.MaskedColumn`
    """
    n_views = 8 if classifier.tta else 1
    views = np.full((n_views, len(coords), classifier.schema_.n_answers), np.nan)
    flags = np.zeros(len(coords), dtype=np.int32)
    for rows, images, batch_flags in cutout_batches(classifier, source, coords, fields,
                                                    framing, batch_size=batch_size):
        flags[rows] = batch_flags
        views[:, rows] = classifier.predict_views(images)
    bad = (flags & CUTOUT_FLAGS["outside_footprint"]) > 0
    views[:, bad] = np.nan
    return _columns(classifier, views, flags, bad, votes)


def embedding_columns(classifier, source, coords, fields, framing, *, batch_size=256):
    """The ``embedding`` and ``flag`` columns of ``coords`` framed in ``fields`` arcsec.

    Galaxies that could not be cut out (``outside_footprint``) are masked
    and never run through the network.

    Returns
    -------
    columns : dict of `~astropy.table.MaskedColumn`
        ``embedding`` (N, d) float32, L2-normalised
        (`~astro_morph.MorphologyClassifier.embed`), and ``flag``.
    """
    vectors = np.ma.zeros((len(coords), classifier_projection(classifier).shape[1]),
                          dtype=np.float32)
    flags = np.zeros(len(coords), dtype=np.int32)
    for rows, images, batch_flags in cutout_batches(classifier, source, coords, fields,
                                                    framing, batch_size=batch_size):
        flags[rows] = batch_flags
        vectors[rows] = embed_images(classifier, images,
                                     (batch_flags & CUTOUT_FLAGS["outside_footprint"]) > 0,
                                     batch_size=batch_size)
    return {
        "embedding": MaskedColumn(vectors.data, mask=np.ma.getmaskarray(vectors),
                                  unit=u.dimensionless_unscaled,
                                  description="L2-normalised embedding: the dot product of "
                                              "two rows is their cosine similarity"),
        "flag": MaskedColumn(flags, description="cutout flags (astro_morph CUTOUT_FLAGS bits)"),
    }
