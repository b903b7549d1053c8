"""t-SNE embedding of learned features: does the network separate the classes?"""

import numpy as np
from astropy.table import Table
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score

from astro_morph.exceptions import InputError
from astro_morph.utils.plotting import figure, save_figure
from astro_morph.utils.provenance import provenance

__all__ = ["embed_features", "plot_embedding"]


def embed_features(features, predicted, *, y_true=None, perplexity=30.0, seed=0):
    """Two-dimensional t-SNE of features, with the silhouette score of the classes.

    Khan et al. (2019) use the network as a feature extractor and find that
    unlabelled galaxies fall into two clusters, one per class: a check that
    what was learned carries over to the new images.

    Parameters
    ----------
    features : array
        (N, D) features, e.g. `~astro_morph.MorphologyClassifier.features`.
    predicted : sequence of str
        Predicted class of each galaxy.
    y_true : sequence of str, optional
        True class, where known (``""`` or masked for unknown).
    perplexity : float
        t-SNE perplexity (reduced for small sets).
    seed : int
        Random seed of t-SNE.

    Returns
    -------
    embedding : `~astropy.table.Table`
        Columns ``x``, ``y``, ``predicted`` (and ``label``); ``meta`` holds
        ``silhouette_predicted`` (and ``silhouette_label``): the silhouette
        score (-1 to 1, higher is better separated) of the classes in the
        full feature space.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> features = np.concatenate([rng.normal(0, 1, (20, 5)), rng.normal(6, 1, (20, 5))])
    >>> classes = ["elliptical"] * 20 + ["spiral"] * 20
    >>> embedding = embed_features(features, classes, perplexity=5)
    >>> len(embedding), embedding.meta["silhouette_predicted"] > 0.5
    (40, True)
    """
    features = np.asarray(features, dtype=np.float64)
    predicted = np.asarray(predicted)
    if features.ndim != 2 or len(features) != len(predicted):
        raise InputError(f"features must be (N, D) with one predicted class per row; got "
                         f"{features.shape} and {len(predicted)} classes.")
    if len(features) < 5:
        raise InputError(f"t-SNE needs at least 5 galaxies, got {len(features)}.")
    if not np.all(np.isfinite(features)):
        raise InputError("features hold NaN or infinite values; drop flagged galaxies first.")
    perplexity = float(min(perplexity, (len(features) - 1) / 3))
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
              max_iter=1000).fit_transform(features)
    embedding = Table({"x": xy[:, 0], "y": xy[:, 1], "predicted": predicted})
    scores = {"silhouette_predicted": _silhouette(features, predicted)}
    if y_true is not None:
        y_true = np.asarray(np.ma.filled(np.ma.asarray(y_true), ""))
        embedding["label"] = y_true
        known = y_true != ""
        scores["silhouette_label"] = _silhouette(features[known], y_true[known])
    embedding.meta.update(scores)
    embedding.meta["embedding"] = provenance("embed_features", method="t-SNE",
                                             perplexity=perplexity, seed=seed)
    return embedding


def _silhouette(features, classes):
    if len(np.unique(classes)) < 2 or len(classes) < 3:
        return float("nan")
    return float(silhouette_score(features, classes))


def plot_embedding(embedding, path, *, title="t-SNE of learned features"):
    """Write the embedding as a PNG: colour by predicted class, marker by true class."""
    fig = figure((5, 4.5))
    ax = fig.subplots()
    colours = {"spiral": "tab:blue", "elliptical": "tab:red"}
    has_labels = "label" in embedding.colnames
    for predicted in np.unique(embedding["predicted"]):
        chosen = embedding["predicted"] == predicted
        if has_labels:
            for label, marker in (("spiral", "o"), ("elliptical", "s"), ("", ".")):
                rows = chosen & (embedding["label"] == label)
                if rows.any():
                    ax.scatter(embedding["x"][rows], embedding["y"][rows], s=12, marker=marker,
                               color=colours.get(predicted, "grey"), alpha=0.7,
                               label=f"predicted {predicted}, true {label or 'unknown'}")
        else:
            ax.scatter(embedding["x"][chosen], embedding["y"][chosen], s=12,
                       color=colours.get(predicted, "grey"), alpha=0.7,
                       label=f"predicted {predicted}")
    score = embedding.meta.get("silhouette_predicted", float("nan"))
    ax.set(title=f"{title}\nsilhouette (predicted classes) {score:.2f}", xticks=[], yticks=[])
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    return path
