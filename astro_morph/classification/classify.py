"""classify: the user's Table back, with morphology columns and provenance."""

import os

from astropy.table import QTable, Table

from astro_morph.catalogs.positions import parse_positions
from astro_morph.catalogs.tableio import read_table
from astro_morph.classification.columns import (
    classification_columns,
    classification_meta,
    vote_schema,
)
from astro_morph.classification.runner import CatalogRunner, in_memory_chunks
from astro_morph.distributed.runtime import init
from astro_morph.exceptions import InputError
from astro_morph.inputs.framing import parse_framing
from astro_morph.models.classifier import MorphologyClassifier
from astro_morph.surveys.base import ImageSource
from astro_morph.surveys.info import known_survey
from astro_morph.utils.validate import check_integer

__all__ = ["classify", "prepare_model", "read_catalog", "fitted_classifier", "check_source",
           "resolve_framing"]


def fitted_classifier(classifier):
    """``classifier`` checked as fitted; the pretrained model when None."""
    if classifier is None:
        return MorphologyClassifier.pretrained()
    if not isinstance(classifier, MorphologyClassifier):
        raise InputError("classifier must be a fitted MorphologyClassifier (or None for the "
                         f"pretrained model), not {type(classifier).__name__}.")
    return classifier.check_fitted()


def check_source(source):
    """Refuse anything but an image source of a known survey with its colour bands."""
    if not isinstance(source, ImageSource):
        raise InputError("classify needs source=an image source, e.g. FITSImageSource({...}), "
                         f"not {type(source).__name__}.")
    known_survey(source.survey, holder=f"this source's images {list(source.bands)} are",
                 hint=" (--survey on the command line)")
    missing = [band for band in source.survey.rgb_bands if band not in source.bands]
    if missing:
        raise InputError(f"classification needs the {source.survey.name} colour bands "
                         f"{list(source.survey.rgb_bands)}; this source lacks {missing}: give "
                         "one image per band (--fits BAND=FILE for each).")
    return source


def resolve_framing(classifier, framing, radius_column):
    """The classifier's framing with the caller's overrides."""
    framing = parse_framing(framing, classifier.framing_)
    return framing if radius_column is None else framing.replace(radius_column=radius_column)


def read_catalog(table, *, copy=True):
    """A catalogue job's positions, parsed once, and the catalogue to add columns to.

    Parameters
    ----------
    table : `~astropy.table.Table`, `~astropy.coordinates.SkyCoord` or path
        The catalogue, or a table file that `~astro_morph.read_table` reads.
    copy : bool
        Add the columns to a copy of a Table given (default) or to it.

    Returns
    -------
    coords : `~astropy.coordinates.SkyCoord`
        The positions, repeats refused (possibly none: a catalogue cut to
        nothing gets its columns all the same).
    base : `~astropy.table.Table`
        The table the new columns go into (``ra``, ``dec`` alone for a SkyCoord).
    """
    if isinstance(table, (str, os.PathLike)):
        table, copy = read_table(table), False  # a table of our own already
    coords = parse_positions(table, unique=True, allow_empty=True)
    if not isinstance(table, Table):
        return coords, QTable({"ra": coords.ra, "dec": coords.dec})
    return coords, table.copy() if copy else table


def prepare_model(classifier, source, *, framing, radius_column, distributed):
    """What every catalogue job needs before any work, besides its catalogue.

    Parameters
    ----------
    classifier : `~astro_morph.MorphologyClassifier` or None
        A fitted classifier; None for the pretrained one.
    source : `~astro_morph.surveys.ImageSource`
        Checked: an image source of a known survey with its colour bands.
    framing, radius_column
        The caller's overrides of the classifier's framing (see `classify`).
    distributed : bool
        Start the distributed engine first (before TensorFlow runs).

    Returns
    -------
    classifier : `~astro_morph.MorphologyClassifier`
    framing : `~astro_morph.Framing`
    """
    if distributed:
        init()  # before the model loads: TensorFlow's engine must start before TensorFlow runs
    classifier = fitted_classifier(classifier)
    check_source(source)
    return classifier, resolve_framing(classifier, framing, radius_column)


def classify(table, source, *, classifier=None, prefix="", copy=True, framing=None,
             radius_column=None, batch_size=256, schema=None, distributed=False):
    """Classify the galaxies of a catalog and return it with morphology columns.

    Parameters
    ----------
    table : `~astropy.table.Table`, `~astropy.coordinates.SkyCoord` or path
        The catalog (any RA/Dec column spelling `~astro_morph.parse_positions`
        reads), or a table file that `~astro_morph.read_table` reads.
    source : `~astro_morph.surveys.ImageSource`
        Where the images come from (e.g. `~astro_morph.FITSImageSource`).
    classifier : `~astro_morph.MorphologyClassifier`, optional
        A fitted or loaded classifier; by default the pretrained one.
    prefix : str
        Prefix of the new column names (e.g. ``"des_"``).
    copy : bool
        Return a new table (default) or add the columns to ``table`` in place.
    framing : `~astro_morph.Framing`, `~astropy.units.Quantity` or dict, optional
        How galaxies are cut out: by default the classifier's own framing
        (``classifier.framing_``, the one its training images had), so
        `classify` shows the network what it learned. A Framing replaces it;
        a field width (e.g. ``80 * u.arcsec``) or a dict of settings changes
        only those.
    radius_column : str, optional
        Column with each galaxy's Petrosian R90 (angle or arcsec): frame each
        galaxy in ``framing.radius_factor`` (10) times it, as Galaxy Zoo
        images do.
    batch_size : int
        Galaxies cut out and classified together.
    schema : `~astro_morph.catalogs.Schema` or str, optional
        The questions whose predicted votes are added as columns, e.g.
        ``"gz2"`` or ``"gz1"``; the classifier must answer them. Default:
        every question the classifier answers (none for a model trained on
        class labels only, whose classes are the ``p_`` columns).
    distributed : bool
        Under a launcher (``horovodrun -np N python script.py``, or
        ``python -m astro_morph.distributed.launch -np N python script.py``),
        the ranks share the rows (in chunks, as `~astro_morph.classify_catalog`
        does) and every rank gets the whole table back, in the original row
        order (write it from rank 0 only: ``astro_morph.distributed.is_root()``).

    Returns
    -------
    table : `~astropy.table.Table`
        With ``p_spiral``, ``p_elliptical``, ``morphology``, ``p_spiral_std``,
        ``uncertain``; for every answer of the schema's questions its expected
        vote fraction (``t01_smooth_or_features_a01_smooth``...), its spread
        (``..._std``) and each question's ``<question>_asked`` (as
        `~astro_morph.MorphologyClassifier.predict_votes`); and ``flag`` (bits
        of `~astro_morph.imaging.CUTOUT_FLAGS`; rows outside the images get
        masked values, the batch goes on). ``p_spiral`` follows the
        classifier's schema's spiral rule
        (`~astro_morph.catalogs.Schema.class_probabilities`). Provenance is in
        ``meta`` (keys ``AMMODEL``, ``AMSHA256``, ``AMBACKBN``, ``AMTRAIN``,
        ``AMBANDS``, ``AMSURVEY``, ``AMFIELD``, ``AMRADCOL``, ``AMCUTPIX``,
        ``AMRESAMP``, ``AMTEMP``, ``AMPREFIX``, ``AMSCHEMA``, ``AMTREE`` (the
        schema as JSON), ``AMDATE``, ``AMVERS``: short so that FITS headers
        keep them).

    Raises
    ------
    InputError
        A table file that cannot be read, a table without RA/Dec columns (or
        with repeated galaxies), a source that is not an image source of a
        known survey with its colour bands, a classifier that is not fitted,
        or a bad option.
    DistributedError
        With ``distributed=True``: no launcher, or a rank that failed.

    See Also
    --------
    classify_catalog : the same into a file, for catalogues of any size, resumable.
    astro_morph.MorphologyClassifier.predict_votes : the vote columns of images.
    astro_morph.embed_catalog : embeddings instead of morphology columns.

    Examples
    --------
    >>> from astro_morph import MockSurvey
    >>> mock = MockSurvey(n_galaxies=4, seed=3)
    >>> result = classify(mock.catalog("des"), mock.source("des"))  # the pretrained model
    >>> result["p_spiral"].unit, result.meta["AMCUTPIX"]
    (Unit(dimensionless), 128)
    """
    check_integer("batch_size", batch_size, low=1)  # before any work
    coords, out = read_catalog(table, copy=copy)
    classifier, framing = prepare_model(classifier, source, framing=framing,
                                        radius_column=radius_column, distributed=distributed)
    fields = framing.fields(out, len(coords))
    votes = vote_schema(classifier, schema)

    def compute(rows):
        return classification_columns(classifier, source, coords[rows], fields[rows], framing,
                                      batch_size=batch_size, votes=votes)

    new = CatalogRunner(len(coords), chunk_size=in_memory_chunks(len(coords), distributed),
                        distributed=distributed).run(compute)
    for name in new.colnames:
        out[prefix + name] = new[name]
    out.meta.update(classification_meta(classifier, source, framing, prefix, votes))
    return out
