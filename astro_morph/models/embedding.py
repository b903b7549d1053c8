"""Embeddings: a few numbers per galaxy whose cosine similarity says "looks alike".

The network's pooled features (`~astro_morph.models.head_stage.frozen_features`) are
averaged over the 8 rotations/flips of each image (a galaxy and its rotated
copy get the same embedding), projected onto a few directions and
L2-normalised. The directions are fitted once, on the training galaxies, and
stored in the model file:

- for a network that answers a decision tree (at least as many answers as
  directions), the leading directions of the answer scores the head computes
  from the features (the features times the ``logits`` layer's weights): the
  morphology the network was taught to see;
- else (two classes), the leading directions of the features themselves.

Both are uncentred (a truncated SVD), which keeps the cosine geometry of the
non-negative pooled features. On the real GZ1 galaxies, the 10 nearest
neighbours of a galaxy share its label 88% of the time with the shipped
model's 16 directions, against 87.6% with its 128 raw features and 59% for
random neighbours (benchmarks/similarity.py). Keras and NumPy only.
"""

import numpy as np

from astro_morph.exceptions import InputError
from astro_morph.models.calibration import dihedral_views
from astro_morph.models.head_stage import feature_extractor
from astro_morph.utils.fingerprint import fingerprint
from astro_morph.utils.validate import check_integer

__all__ = ["EMBEDDING_SIZE", "embed_images", "fit_projection", "set_projection",
           "classifier_projection", "pooled_features", "project",
           "projection_record", "projection_from_record", "embedding_fingerprint"]

#: Directions of an embedding (fewer where the network has fewer answers or features).
EMBEDDING_SIZE = 16
#: Training galaxies the directions are fitted on, at most (a random subset above it).
MAX_GALAXIES = 10_000


def pooled_features(model, images, *, tta=True, batch_size=256):
    """Pooled features of ``images``, averaged over their 8 rotations/flips with ``tta``.

    Returns
    -------
    features : `~numpy.ndarray`
        (N, n_features) float32.
    """
    extractor = feature_extractor(model)
    features = np.zeros((len(images), extractor.output_shape[-1]), dtype=np.float32)
    for start in range(0, len(images), 128):  # 1,024 views a call: bounded memory
        part = images[start:start + 128]
        views = dihedral_views(part) if tta else [part]
        # One predict call over all views: Keras' per-call overhead is paid once.
        pooled = extractor.predict(np.concatenate(views), batch_size=batch_size, verbose=0)
        features[start:start + len(part)] = np.asarray(pooled).reshape(
            len(views), len(part), -1).mean(axis=0)
    return features


def embed_images(classifier, images, bad, *, batch_size=256):
    """Embeddings of a fitted classifier's prepared ``images``; the rows where ``bad``
    (galaxies that could not be cut out) are masked and never run through the network.

    Returns
    -------
    embeddings : `~numpy.ma.MaskedArray`
        (N, d) float32, L2-normalised.
    """
    projection = classifier_projection(classifier)
    vectors = np.zeros((len(images), projection.shape[1]), dtype=np.float32)
    if (~bad).any():
        vectors[~bad] = project(pooled_features(classifier.model_, images[~bad],
                                                tta=classifier.tta, batch_size=batch_size),
                                projection)
    return np.ma.MaskedArray(vectors, mask=np.repeat(bad[:, None], vectors.shape[1], axis=1))


def fit_projection(features, head_weights, *, size=EMBEDDING_SIZE):
    """The (n_features, d) matrix that turns pooled features into embeddings.

    Parameters
    ----------
    features : `~numpy.ndarray`
        (N, n_features) pooled features of the training galaxies.
    head_weights : `~numpy.ndarray`
        (n_features, n_answers) kernel of the network's ``logits`` layer.
    size : int
        Directions wanted (fewer if the data have fewer).

    Returns
    -------
    projection : `~numpy.ndarray`
        (n_features, d) float32.
    basis : str
        ``"answers"`` (directions of the head's answer scores) or ``"features"``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> projection, basis = fit_projection(rng.random((50, 8)), rng.random((8, 20)), size=4)
    >>> projection.shape, basis
    ((8, 4), 'answers')
    """
    features = np.asarray(features, dtype=np.float64)
    head = np.asarray(head_weights, dtype=np.float64)
    if features.ndim != 2 or not len(features) or features.shape[1] != head.shape[0]:
        raise InputError(f"an embedding needs (N, {head.shape[0]}) features of at least one "
                         f"galaxy, got {features.shape}.")
    basis = "answers" if head.shape[1] >= size else "features"
    start = head if basis == "answers" else np.eye(head.shape[0])
    scores = features @ start
    _, _, directions = np.linalg.svd(scores, full_matrices=False)
    directions = directions[:min(size, len(directions))]
    # A fixed sign per direction (its largest entry positive): the same data, the same file.
    directions *= np.sign(directions[np.arange(len(directions)),
                                     np.abs(directions).argmax(axis=1)])[:, None]
    return (start @ directions.T).astype(np.float32), basis


def project(features, projection):
    """L2-normalised embeddings of pooled ``features`` (float32 (N, d))."""
    vectors = np.asarray(features, dtype=np.float64) @ np.asarray(projection, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def projection_record(projection, basis, n_galaxies):
    """The JSON-ready record of a projection (what the model file stores)."""
    return {"basis": basis, "n_galaxies": int(n_galaxies),
            "shape": list(projection.shape),
            "matrix": [float(value) for value in np.asarray(projection, np.float32).ravel()]}


def projection_from_record(record):
    """The projection matrix of a model file's record, or None (a file without one)."""
    if not record:
        return None
    return np.asarray(record["matrix"], dtype=np.float32).reshape(record["shape"])


def embedding_fingerprint(classifier):
    """A SHA-256 of the network's weights, the projection and ``tta``: embeddings of two
    classifiers with the same fingerprint can be compared (a model and the same model
    saved and loaded again have the same)."""
    projection = getattr(classifier, "embedding_", None)
    return fingerprint(*classifier.model_.get_weights(),
                       *([] if projection is None else [projection]),
                       settings=[bool(classifier.tta)])


def set_projection(classifier, images, *, size=EMBEDDING_SIZE, batch_size=256, seed=0,
                   explicit=False):
    """Fit the embedding directions of ``classifier`` on prepared ``images``.

    With ``explicit`` (the user asked for ``size`` directions), fewer galaxies
    than directions is an error; else (after ``fit``) the directions are as many
    as the galaxies allow.
    """
    size = check_integer("size", size, low=1)
    if not len(images):
        raise InputError("the embedding directions need at least one galaxy with an image.")
    if explicit and len(images) < size:
        raise InputError(f"{size} embedding directions need at least {size} galaxies with "
                         f"images, got {len(images)}: give more galaxies or a smaller size=.")
    if len(images) > MAX_GALAXIES:
        rows = np.sort(np.random.default_rng(seed).choice(len(images), MAX_GALAXIES,
                                                          replace=False))
        images = images[rows]
    # One view: the directions barely move with the rotations, and this runs after fit.
    features = pooled_features(classifier.model_, images, tta=False, batch_size=batch_size)
    kernel = classifier.model_.get_layer("logits").get_weights()[0]
    classifier.embedding_, basis = fit_projection(features, kernel, size=int(size))
    classifier.embedding_info_ = {"basis": basis, "n_galaxies": int(len(images))}


def classifier_projection(classifier):
    """The embedding directions of a fitted classifier; a clear error for a file without."""
    classifier.check_fitted()
    projection = getattr(classifier, "embedding_", None)
    if projection is None:
        raise InputError("this model has no embedding directions (its file was written "
                         "before embeddings existed): call clf.fit_embedding(X) with its "
                         "training galaxies (or any representative sample), then "
                         "clf.save(path) to keep them.")
    return projection
