"""The real-data sets of the benchmarks: the GZ1 split, the GZ2 set and its fixed halves.

Shared by benchmarks/model_selection.py, benchmarks/seed_table.py,
benchmarks/label_audit.py and docs/scripts/train_shipped_model.py so that every figure
uses the same galaxies:

- GZ1 (``sdss-gz1``): spirals and ellipticals, stratified 80/20, seed 2019; the 20% is
  the GZ1 test part.
- GZ2 (``sdss-gz2``): spirals and ellipticals (582); a fixed stratified half (seed 2019)
  may be used for training (``train``), the other half (``held_out``) never is. HP: the
  seed's high-probability galaxies (weighted smooth or featured fraction > 0.8).
"""

import csv
import os
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

SHARED = os.environ.get("ASTRO_MORPH_SHARED_DATA",
                        os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
SEED = 2019


def _rows(folder):
    with open(os.path.join(folder, "labels.csv")) as handle:
        return [r for r in csv.DictReader(handle) if r["label"] in ("spiral", "elliptical")]


@dataclass
class Part:
    """Image paths and labels of one part of a set, with the GZ2 vote columns."""

    paths: list
    labels: np.ndarray
    hp: np.ndarray = None
    cigar: np.ndarray = None

    def __len__(self):
        return len(self.labels)


def gz1_split(data=SHARED):
    """(train, test) parts of the GZ1 set."""
    folder = os.path.join(data, "sdss-gz1")
    rows = _rows(folder)
    paths = np.array([os.path.join(folder, r["filename"]) for r in rows])
    labels = np.array([r["label"] for r in rows])
    train, test = train_test_split(np.arange(len(rows)), test_size=0.2, stratify=labels,
                                   random_state=SEED)
    return (Part(list(paths[train]), labels[train]), Part(list(paths[test]), labels[test]))


def gz2_set(data=SHARED):
    """The GZ2 set: (all, train half, held-out half)."""
    folder = os.path.join(data, "sdss-gz2")
    rows = _rows(folder)
    paths = np.array([os.path.join(folder, r["filename"]) for r in rows])
    labels = np.array([r["label"] for r in rows])

    def column(name):
        return np.array([float(r[name]) for r in rows])

    smooth = column("t01_smooth_or_features_a01_smooth_weighted_fraction")
    featured = column("t01_smooth_or_features_a02_features_or_disk_weighted_fraction")
    hp = ((labels == "elliptical") & (smooth > 0.8)) | ((labels == "spiral") & (featured > 0.8))
    cigar = column("t07_rounded_a18_cigar_shaped_weighted_fraction")
    train, held = train_test_split(np.arange(len(rows)), test_size=0.5, stratify=labels,
                                   random_state=SEED)

    def part(index):
        return Part(list(paths[index]), labels[index], hp[index], cigar[index])

    return part(np.arange(len(rows))), part(train), part(held)


def gz2_votes(data=SHARED):
    """Vote counts and weighted fractions of the GZ2 set, in the order of ``gz2_set``'s
    first part: ``classifications`` and the ``smooth``, ``featured``, ``artifact``,
    ``edge_on`` and ``spiral_arms`` fractions."""
    rows = _rows(os.path.join(data, "sdss-gz2"))
    names = {"classifications": "total_classifications",
             "smooth": "t01_smooth_or_features_a01_smooth_weighted_fraction",
             "featured": "t01_smooth_or_features_a02_features_or_disk_weighted_fraction",
             "artifact": "t01_smooth_or_features_a03_star_or_artifact_weighted_fraction",
             "edge_on": "t02_edgeon_a04_yes_weighted_fraction",
             "spiral_arms": "t04_spiral_a08_spiral_weighted_fraction"}
    return {key: np.array([float(r[name]) for r in rows]) for key, name in names.items()}


def gz2_label(smooth, featured, edge_on, spiral_arms):
    """The GZ2 set's ``label`` from vote fractions (its README's rule): ``elliptical``
    when smooth outweighs featured; ``spiral`` when featured outweighs smooth and the
    disc is edge-on or shows arms (fraction > 0.5); ``other`` else."""
    smooth, featured = np.asarray(smooth), np.asarray(featured)
    spiral = (featured > smooth) & ((np.asarray(edge_on) > 0.5) | (np.asarray(spiral_arms) > 0.5))
    return np.where(smooth > featured, "elliptical", np.where(spiral, "spiral", "other"))


def require_data(data=SHARED):
    """Exit with a message naming the folder unless the shared data is there."""
    if not all(os.path.isfile(os.path.join(data, folder, "labels.csv"))
               for folder in ("sdss-gz1", "sdss-gz2")):
        raise SystemExit("the shared data (../shared/data or $ASTRO_MORPH_SHARED_DATA) "
                         "is missing")


@dataclass
class Votes:
    """Image paths and their vote counts for a schema (0 where a question was not asked),
    with the weighted fractions of the GZ2 columns where known."""

    paths: list
    counts: np.ndarray
    fractions: np.ndarray = None
    labels: np.ndarray = None
    hp: np.ndarray = None

    def __len__(self):
        return len(self.paths)


def gz_votes(schema, data=SHARED):
    """The shared Galaxy Zoo sets as votes of ``schema`` (``gz1+gz2``), split as the
    binary sets are: ``(gz1_train, gz1_test, gz2_train, gz2_held)``.

    GZ1 galaxies give one vote for their ``gz1_class`` (the GZ1 question); the GZ1
    parts are ``gz1_split``'s spirals and ellipticals. The 128 galaxies labelled
    ``other`` (don't know, merger) are left out: from so few, a network learns "don't
    know" as the answer for any unfamiliar image (a DES cutout), which leaves p_spiral a
    ratio of two small numbers. GZ2 galaxies give their weighted fractions times
    the volunteers who reached each question (the GZ2 tree); the held-out part is
    ``gz2_set``'s held-out half plus half of the 21 ``other`` galaxies (seed 2019).
    """
    from astropy.table import Table

    folder1 = os.path.join(data, "sdss-gz1")
    with open(os.path.join(folder1, "labels.csv")) as handle:
        rows = list(csv.DictReader(handle))
    answers = schema.questions[schema.index_of("gz1")].answers  # in gz1_class order
    by_path = {os.path.join(folder1, r["filename"]): answers[int(r["gz1_class"])]
               for r in rows}
    train1, test1 = gz1_split(data)
    gz1_train = Votes(train1.paths, schema.counts_from_labels([by_path[p]
                                                               for p in train1.paths]))
    gz1_test = Votes(test1.paths, schema.counts_from_labels([by_path[p] for p in test1.paths]),
                     labels=test1.labels)

    folder2 = os.path.join(data, "sdss-gz2")
    table = Table.read(os.path.join(folder2, "labels.csv"), format="ascii.csv")
    paths2 = np.array([os.path.join(folder2, str(f)) for f in table["filename"]])
    counts = schema.counts_from_table(table)
    fractions = np.stack([np.asarray(table[a + "_weighted_fraction"], dtype=float)
                          if a + "_weighted_fraction" in table.colnames
                          else np.full(len(table), np.nan) for a in schema.answers], axis=1)
    labels = np.asarray(table["label"]).astype(str)
    _, _, held = gz2_set(data)
    other = np.flatnonzero(labels == "other")
    _, other_held = train_test_split(other, test_size=0.5, random_state=SEED)
    is_held = np.isin(paths2, held.paths)
    is_held[other_held] = True
    featured = fractions[:, schema.answers.index(
        "t01_smooth_or_features_a02_features_or_disk")]
    smooth = fractions[:, schema.answers.index("t01_smooth_or_features_a01_smooth")]
    hp = ((labels == "elliptical") & (smooth > 0.8)) | ((labels == "spiral") & (featured > 0.8))

    def part(mask):
        return Votes(list(paths2[mask]), counts[mask], fractions[mask], labels[mask], hp[mask])

    return gz1_train, gz1_test, part(~is_held), part(is_held)
