"""An HTML report of a classifier's results: figures, tables and notes in one folder."""

import html
import os

import numpy as np

from astro_morph.catalogs.labels import classes_from_probability, positive_index
from astro_morph.evaluation.gallery import save_confident_gallery, save_misclassified_gallery
from astro_morph.evaluation.metrics import evaluate, plot_confusion, plot_roc
from astro_morph.evaluation.tsne import embed_features, plot_embedding
from astro_morph.exceptions import InputError
from astro_morph.inputs.framing import parse_framing
from astro_morph.inputs.images import prepare_images
from astro_morph.models.history import plot_history
from astro_morph.utils.files import atomic_path
from astro_morph.utils.provenance import provenance

__all__ = ["Report", "write_report"]


class Report:
    """Collect text, tables and PNG figures, then write them as one HTML page.

    Figures are files inside ``output_dir`` (their links are relative, so the
    folder can be moved or shared as a whole); `write` refuses to produce a
    page with a missing figure.

    Parameters
    ----------
    output_dir : str
        Folder of the page and its figures (created).
    title : str
        Title of the page.

    Examples
    --------
    >>> import tempfile
    >>> from astropy.table import Table
    >>> folder = tempfile.mkdtemp()
    >>> report = Report(folder, title="example")
    >>> report.add_table("counts", Table({"set": ["test"], "spirals": [3]}))
    >>> os.path.basename(report.write())
    'report.html'
    """

    def __init__(self, output_dir, *, title="astro_morph report"):
        self.output_dir = os.fspath(output_dir)
        self.title = title
        self.sections = []
        self._figures = []
        os.makedirs(self.output_dir, exist_ok=True)

    def path(self, filename):
        """Where a figure called ``filename`` goes inside the report folder."""
        return os.path.join(self.output_dir, filename)

    def add_text(self, heading, text):
        """A heading and a paragraph."""
        self.sections.append((heading, f"<p>{html.escape(str(text))}</p>"))

    def add_table(self, heading, table, *, caption=None):
        """A heading and an astropy Table (units in the column headers)."""
        header = "".join(f"<th>{html.escape(_heading(table, name))}</th>"
                         for name in table.colnames)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(row[name]))}</td>"
                                        for name in table.colnames) + "</tr>" for row in table)
        note = f"<p>{html.escape(caption)}</p>" if caption else ""
        self.sections.append((heading, f"{note}<table><tr>{header}</tr>{body}</table>"))

    def add_figure(self, heading, path, *, caption=None):
        """A heading and a PNG already written inside the report folder."""
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(self.output_dir))
        if relative.startswith(os.pardir):
            raise InputError(f"figure {path!r} is outside the report folder {self.output_dir!r}; "
                             "write it with report.path(filename).")
        note = f"<p>{html.escape(caption)}</p>" if caption else ""
        self._figures.append(relative)
        self.sections.append((heading, f'{note}<img src="{html.escape(relative)}" '
                                       f'alt="{html.escape(heading)}">'))

    def figures(self):
        """Paths, relative to the folder, of every figure on the page."""
        return list(self._figures)

    def write(self, *, filename="report.html"):
        """Write the page (atomically) and return its path."""
        missing = [f for f in self._figures if not os.path.isfile(self.path(f))]
        if missing:
            raise InputError(f"the report links figures that were never written: {missing}.")
        record = provenance("report")
        parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
                 f"{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>",
                 f"<h1>{html.escape(self.title)}</h1>",
                 f"<p class='meta'>{record['date']}; "
                 + ", ".join(f"{k} {v}" for k, v in record["versions"].items()) + "</p>"]
        parts += [f"<h2>{html.escape(heading)}</h2>{body}" for heading, body in self.sections]
        parts.append("</body></html>")
        target = self.path(filename)
        with atomic_path(target, overwrite=True) as tmp, open(tmp, "w", encoding="utf-8") as out:
            out.write("\n".join(parts))
        return target


_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
          "img{max-width:100%}.meta{color:#777;font-size:small}")


def _heading(table, name):
    unit = getattr(table[name], "unit", None)
    return f"{name} [{unit}]" if unit not in (None, "") else name


def _cell(value):
    value = getattr(value, "value", value)  # a Quantity: its unit is in the column heading
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def write_report(classifier, X, y=None, *, output_dir="astro_morph_report", source=None,
                 framing=None, name="test", max_embedded=2000, seed=0):
    """Evaluate a classifier on labelled galaxies and write an HTML report.

    The page holds the results table, the ROC curve, the confusion matrix,
    the training curves (when the classifier kept its history), a t-SNE of
    the learned features with its silhouette score, and galleries of the
    most confident and of the misclassified galaxies.

    Parameters
    ----------
    classifier : `~astro_morph.MorphologyClassifier`
        A fitted or loaded classifier.
    X, y
        Labelled galaxies: anything `~astro_morph.MorphologyClassifier.fit`
        reads (a labels CSV, images and labels, positions with a ``source``...).
    source, framing
        As in `~astro_morph.MorphologyClassifier.predict_proba`.
    output_dir : str
        Folder of ``report.html`` and its PNGs (created).
    name : str
        Name of the test set in the tables.
    max_embedded : int
        Most galaxies in the t-SNE (a random subset beyond).

    Returns
    -------
    path : str
        The HTML page.
    """
    classifier.check_fitted()
    images, found, _ = prepare_images(X, classifier.preprocessing_,
                                      framing=parse_framing(framing, classifier.framing_),
                                      source=source, classes=classifier.classes_)
    labels = np.asarray(found if y is None else y)
    if labels.ndim != 1 or len(labels) != len(images):
        raise InputError("write_report needs one true class per galaxy (y, or a labelled X).")
    report = Report(output_dir, title=f"astro_morph: {classifier.backbone} on {name}")
    p_spiral = classifier.predict_proba(images)[:, positive_index(classifier.classes_)]
    report.add_table("Results", evaluate(labels, p_spiral, name=name))
    report.add_figure("ROC curve", plot_roc(labels, p_spiral, report.path("roc.png"),
                                            label=classifier.backbone))
    report.add_figure("Confusion matrix",
                      plot_confusion(labels, p_spiral, report.path("confusion.png")))
    if getattr(classifier, "history_", None) and classifier.history_.get("loss"):
        report.add_figure("Training curves",
                          plot_history(classifier.history_, report.path("training.png")))
    rows = np.random.default_rng(seed).permutation(len(images))[:max_embedded]
    embedding = embed_features(classifier.features(images[rows]),
                               classes_from_probability(p_spiral[rows]),
                               y_true=labels[rows], seed=seed)
    report.add_figure("t-SNE of the learned features",
                      plot_embedding(embedding, report.path("tsne.png")),
                      caption=f"silhouette of the predicted classes "
                              f"{embedding.meta['silhouette_predicted']:.3f}, of the true "
                              f"classes {embedding.meta['silhouette_label']:.3f}")
    report.add_figure("Most confident galaxies",
                      save_confident_gallery(images, p_spiral, report.path("confident.png")))
    wrong = save_misclassified_gallery(images, labels, p_spiral, report.path("misclassified.png"))
    if wrong:
        report.add_figure("Misclassified galaxies", wrong)
    return report.write()
