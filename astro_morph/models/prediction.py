"""How a fitted classifier predicts: network inputs, test-time views, votes, classes.

These functions are the prediction methods of `~astro_morph.MorphologyClassifier`
(its class body binds them: ``clf.predict_votes(X)``); they read the fitted
state (``model_``, ``schema_``, ``preprocessing_``, ``framing_``,
``temperature_``) and never train.
"""

import numpy as np
from astropy.table import Table

from astro_morph.catalogs.labels import predicted_index
from astro_morph.imaging.cutouts import CUTOUT_FLAGS
from astro_morph.inputs.framing import parse_framing
from astro_morph.inputs.images import prepare_images
from astro_morph.models.calibration import calibrated_fractions, dihedral_views
from astro_morph.models.embedding import (
    EMBEDDING_SIZE,
    classifier_projection,
    embed_images,
    set_projection,
)
from astro_morph.models.head_stage import frozen_features
from astro_morph.models.network import predict_logits

__all__ = ["network_inputs", "predict_views", "predict_votes", "predict_proba", "predict",
           "features", "embed", "fit_embedding"]

_OUTSIDE = CUTOUT_FLAGS["outside_footprint"]


def network_inputs(self, X, *, source=None, framing=None, images_dir=None):
    """The images the network sees for ``X``, and their cutout flags.

    Positions are cut out of ``source`` at the model's framing
    (``framing_``) unless ``framing`` overrides it (a `~astro_morph.Framing`,
    a field width such as ``80 * u.arcsec``, or a dict of settings to
    change); every image is then cropped and resized as in training.

    Returns
    -------
    images : `~numpy.ndarray`
        (N, S, S, 3) float32 in [0, 1].
    flags : `~numpy.ndarray` or None
        `~astro_morph.imaging.CUTOUT_FLAGS` bits when cut from a source.
    """
    self.check_fitted()
    images, _, flags = prepare_images(X, self.preprocessing_,
                                      framing=parse_framing(framing, self.framing_),
                                      source=source, images_dir=images_dir)
    return images, flags


def predict_views(self, images, *, batch_size=1024):
    """Calibrated vote fractions of prepared images over the TTA views.

    Parameters
    ----------
    images : `~numpy.ndarray`
        Network inputs, as `network_inputs` returns them.
    batch_size : int
        Images whose views go through the network together (bounds memory:
        8 views each with ``tta``).

    Returns
    -------
    fractions : `~numpy.ndarray`
        (n_views, N, n_answers): the expected fraction of every answer of
        ``schema_`` (each question's sum to 1), for 8 rotations/flips with
        ``tta``, else 1. ``schema_.class_probabilities`` turns them into
        class probabilities.
    """
    self.check_fitted()
    bounds = self.schema_.bounds
    if not len(images):
        return np.zeros((8 if self.tta else 1, 0, self.schema_.n_answers))
    blocks = []
    for start in range(0, len(images), batch_size):
        part = images[start:start + batch_size]
        views = dihedral_views(part) if self.tta else [part]
        # One predict call over all views: Keras' per-call overhead is paid once.
        outputs = predict_logits(self.model_, np.concatenate(views, axis=0))
        fractions = calibrated_fractions(outputs, self.temperature_, bounds)
        blocks.append(fractions.reshape(len(views), len(part), -1))
    return np.concatenate(blocks, axis=1)


def predict_votes(self, X, *, source=None, framing=None):
    """Predicted Galaxy Zoo votes: every answer's expected vote fraction.

    Parameters
    ----------
    X, source, framing
        As in `network_inputs` (everything `predict_proba` takes).

    Returns
    -------
    votes : `~astropy.table.Table`
        One row per image: for every answer of ``schema_`` its expected
        vote fraction (a column named ``<question>_<answer>``, e.g.
        ``t01_smooth_or_features_a01_smooth``, each question's summing to
        1) and its spread over the 8 rotations/flips (``<answer>_std``);
        for every question the probability that it is asked
        (``<question>_asked``, the product of the fractions along the
        tree). ``meta["schema"]`` describes the tree.

    Raises
    ------
    InputError
        The classifier is not fitted, or ``X`` cannot be read.

    See Also
    --------
    astro_morph.classify : the same columns, added to a catalog.
    astro_morph.evaluation.save_vote_gallery : the galaxies most likely to get
        given answers.

    Examples
    --------
    >>> import numpy as np
    >>> from astro_morph import MorphologyClassifier
    >>> from astro_morph.catalogs import GZ2
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((8, 16, 16, 3)).astype("float32")
    >>> votes = np.tile(rng.random((1, GZ2.n_answers)) * 10, (8, 1))
    >>> clf = MorphologyClassifier(schema="gz2", input_size=16, epochs=1, batch_size=4,
    ...                            verbose=0).fit(images, votes)
    >>> table = clf.predict_votes(images[:2])
    >>> table["t01_smooth_or_features_a01_smooth"].shape, "t02_edgeon_asked" in table.colnames
    ((2,), True)
    """
    images, flags = self.network_inputs(X, source=source, framing=framing)
    bad = None if flags is None else (flags & _OUTSIDE) > 0
    table = Table(self.schema_.vote_columns(self.predict_views(images), mask=bad))
    table.meta["schema"] = self.schema_.to_dict()
    return table


def predict_proba(self, X, *, source=None, framing=None):
    """Calibrated class probabilities, averaged over the 8 rotations/flips.

    For a schema (``gz2``, ``gz1``...) the classes are ``("elliptical",
    "spiral")`` by the schema's spiral rule
    (`~astro_morph.catalogs.Schema.class_probabilities`).

    Parameters
    ----------
    X, source, framing
        As in `network_inputs`.

    Returns
    -------
    proba : `~numpy.ndarray`
        (N, n_classes), columns in the order of ``classes_``.

    Raises
    ------
    InputError
        A classifier that is not fitted, or inputs it cannot read (see
        `network_inputs`).

    See Also
    --------
    predict : the most probable class.
    predict_votes : every answer's vote fraction, for a schema.
    astro_morph.classify : the same as catalogue columns, with provenance.
    """
    images, _ = self.network_inputs(X, source=source, framing=framing)
    return self.schema_.class_probabilities(self.predict_views(images)).mean(axis=0)


def predict(self, X, *, source=None, framing=None):
    """Predicted class name of each image (``p_spiral >= 0.5`` for two classes).

    Parameters
    ----------
    X, source, framing
        As in `network_inputs`.

    Returns
    -------
    labels : `~numpy.ndarray` of str
        One of ``classes_`` per image.

    Raises
    ------
    InputError
        As `predict_proba`.

    See Also
    --------
    predict_proba : the calibrated probabilities behind it.
    """
    proba = self.predict_proba(X, source=source, framing=framing)
    return np.asarray(self.classes_)[predicted_index(proba, self.classes_)]


def features(self, X, *, source=None, framing=None, batch_size=256):
    """The network's learned features (the pooled layer before the logits).

    For embeddings such as t-SNE (`astro_morph.evaluation.embed_features`)
    or for other classifiers.

    Returns
    -------
    features : `~numpy.ndarray`
        (N, n_features) float32.
    """
    images, _ = self.network_inputs(X, source=source, framing=framing)
    return frozen_features(self.model_, images, batch_size=batch_size)


def embed(self, X, *, source=None, framing=None, batch_size=256):
    """Embeddings: a few numbers per galaxy whose cosine similarity says "looks alike".

    The network's pooled features, averaged over the 8 rotations/flips
    (with ``tta``), projected onto the directions fitted on the training
    galaxies (`fit_embedding`; stored in the model file) and L2-normalised,
    so that the dot product of two rows is their cosine similarity. See
    ``astro_morph.models.embedding`` and `~astro_morph.SimilarityIndex`.

    Parameters
    ----------
    X, source, framing
        As in `network_inputs` (everything `predict_proba` takes).
    batch_size : int
        Images per forward pass.

    Returns
    -------
    embeddings : `~numpy.ma.MaskedArray`
        (N, d) float32 (d = 16 for the shipped model). The rows of galaxies
        that could not be cut out (off the images: the ``outside_footprint``
        bit of `~astro_morph.imaging.CUTOUT_FLAGS`) are masked, never the
        embedding of a blank image.

    Raises
    ------
    InputError
        The classifier is not fitted, has no embedding directions (a model
        file written before them: call `fit_embedding`), or ``X`` cannot be
        read.

    See Also
    --------
    astro_morph.embed_catalog : the embeddings of a whole catalogue, into a file.
    astro_morph.SimilarityIndex : nearest neighbours and oddity of embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> from astro_morph import MorphologyClassifier
    >>> clf = MorphologyClassifier.pretrained()
    >>> images = np.random.default_rng(0).random((3, 64, 64, 3)).astype("float32")
    >>> vectors = clf.embed(images)
    >>> vectors.shape, np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    ((3, 16), True)
    """
    classifier_projection(self)  # a model without directions fails before any image is read
    images, flags = self.network_inputs(X, source=source, framing=framing)
    bad = np.zeros(len(images), bool) if flags is None else (flags & _OUTSIDE) > 0
    return embed_images(self, images, bad, batch_size=batch_size)


def fit_embedding(self, X, *, source=None, framing=None, size=EMBEDDING_SIZE,
                  batch_size=256, seed=0):
    """Fit the embedding directions of `embed` on galaxies (the training galaxies).

    `fit` does this at its end on the training images; call it for a model
    file written before embeddings existed, or to fit the directions on
    another sample. Changing the directions changes the embeddings: an index
    built with the old ones is refused (`~astro_morph.SimilarityIndex`).

    Parameters
    ----------
    X, source, framing
        As in `network_inputs`; at most 10,000 galaxies are used (a random
        subset of ``seed`` above it).
    size : int
        Directions (16 by default; fewer if the network has fewer answers
        and features).
    batch_size : int
        Images per forward pass.
    seed : int
        Seed of the subset.

    Returns
    -------
    self

    Raises
    ------
    InputError
        The classifier is not fitted, ``X`` cannot be read, or it has fewer
        galaxies with images than ``size``.
    """
    self.check_fitted()
    images, flags = self.network_inputs(X, source=source, framing=framing)
    if flags is not None:
        images = images[(flags & _OUTSIDE) == 0]
    set_projection(self, images, size=size, batch_size=batch_size, seed=seed, explicit=True)
    return self
