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
