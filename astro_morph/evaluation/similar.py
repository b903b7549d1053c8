"""Pictures of similarity: a query galaxy beside its nearest neighbours, and the oddest galaxies."""

import numpy as np
from astropy.table import Table

from astro_morph.evaluation.gallery import save_mosaic
from astro_morph.evaluation.report import Report
from astro_morph.exceptions import InputError
from astro_morph.utils.validate import check_integer

__all__ = ["save_similarity_gallery", "save_oddity_gallery", "write_similarity_report"]


def _images(index, rows, classifier, source):
    """Colour images of catalogue rows, as the network sees them (cut from ``source`` at the
    catalogue's positions, or read from its ``filename`` column)."""
    if index.table is None:
        raise InputError("the index has no catalogue to show images of: build it from "
                         "embed_catalog's table, or give table= with positions or file names.")
    if classifier is None:
        from astro_morph.models.classifier import MorphologyClassifier
        classifier = MorphologyClassifier.pretrained()
    rows = np.asarray(rows, dtype=np.int64)
    images, _ = classifier.network_inputs(index.table[rows], source=source)
    return images


def save_similarity_gallery(index, queries, path, *, k=8, source=None, classifier=None):
    """Save each query galaxy (first column) and its ``k`` nearest neighbours as a PNG row.

    Parameters
    ----------
    index : `~astro_morph.SimilarityIndex`
        With its catalogue (positions with ``source``, or a ``filename`` column).
    queries : int or sequence of int
        Catalogue rows of the query galaxies.
    path : str
        PNG file to write.
    k : int
        Neighbours shown per query.
    source : `~astro_morph.surveys.ImageSource`, optional
        Where the images are cut from (for a catalogue of positions).
    classifier : `~astro_morph.MorphologyClassifier`, optional
        Whose framing and cropping show the galaxies (default: the index's
        classifier, else the pretrained model).

    Returns
    -------
    neighbours : `~astropy.table.Table`
        The neighbours shown (`~astro_morph.SimilarityIndex.search`); the
        PNG is at ``path``.
    """
    check_integer("k", k, low=1)
    queries = np.atleast_1d(np.asarray(queries, dtype=np.int64))
    neighbours = index.search(queries, k=k)
    classifier = classifier or index.classifier
    rows, titles = [], []
    for q, row in enumerate(queries):
        mine = neighbours[neighbours["query"] == q]
        shown = np.r_[row, np.asarray(mine["index"])]
        rows.append(_images(index, shown, classifier, source))
        titles.append([f"query {row}"] + [f"{r}: {s:.3f}" for r, s in
                                          zip(mine["index"], mine[_score(mine)])])
    n = min(len(r) for r in rows)
    save_mosaic([r[:n] for r in rows], path, titles=[t[:n] for t in titles])
    return neighbours


def save_oddity_gallery(index, path, *, n=12, k=10, source=None, classifier=None):
    """Save the ``n`` most unusual galaxies of the catalogue (`~astro_morph.SimilarityIndex.oddity`)
    as a PNG row, oddest first.

    Parameters
    ----------
    index : `~astro_morph.SimilarityIndex`
        With its catalogue.
    path : str
        PNG file to write.
    n : int
        Galaxies shown.
    k : int
        Neighbours of the oddity.
    source, classifier
        As in `save_similarity_gallery`.

    Returns
    -------
    oddest : `~astropy.table.Table`
        ``index`` (catalogue row) and ``oddity`` of the galaxies shown.
    """
    check_integer("n", n, low=1)
    oddity = index.oddity(k=k)
    values = np.ma.filled(oddity.astype(float), -np.inf)
    order = np.argsort(-values)[:min(n, len(index))]
    images = _images(index, order, classifier or index.classifier, source)
    save_mosaic([images], path, titles=[f"{r}: {values[r]:.3f}" for r in order])
    return Table({"index": order, "oddity": values[order]})


def write_similarity_report(index, output_dir, *, queries, k=8, n_odd=12, source=None,
                            classifier=None, title="astro_morph: galaxies like these"):
    """An HTML page: each query galaxy with its nearest neighbours, and the oddest galaxies.

    Parameters
    ----------
    index : `~astro_morph.SimilarityIndex`
        With its catalogue.
    output_dir : str
        Folder of ``similar.html``, its PNGs and the tables (created).
    queries : sequence of int
        Catalogue rows of the query galaxies.
    k : int
        Neighbours per query.
    n_odd : int
        Oddest galaxies shown (0: none).
    source, classifier
        As in `save_similarity_gallery`.
    title : str
        Title of the page.

    Returns
    -------
    path : str
        The HTML page.
    """
    report = Report(output_dir, title=title)
    neighbours = save_similarity_gallery(index, queries, report.path("neighbours.png"), k=k,
                                         source=source, classifier=classifier)
    report.add_figure("Nearest neighbours", report.path("neighbours.png"),
                      caption=f"each row: a query galaxy, then its {k} nearest neighbours in "
                              f"embedding space ({index.metric}), with their catalogue row "
                              "and similarity")
    keep = [name for name in ("query", "rank", "index", "similarity", "distance",
                              "separation") if name in neighbours.colnames]
    report.add_table("Neighbours", neighbours[keep])
    if n_odd:
        oddest = save_oddity_gallery(index, report.path("oddest.png"), n=n_odd,
                                     source=source, classifier=classifier)
        report.add_figure("The most unusual galaxies", report.path("oddest.png"),
                          caption="mean distance to the 10 nearest neighbours, largest "
                                  "first: rare morphologies, artefacts and bad cutouts")
        report.add_table("Oddest", oddest)
    report.add_text("Index", repr(index))
    return report.write(filename="similar.html")


def _score(table):
    return "similarity" if "similarity" in table.colnames else "distance"
