"""Morphology schemas: the Galaxy Zoo trees, votes to counts, and their errors."""

import csv

import numpy as np
import pytest
from astropy.table import Table

from astro_morph import InputError
from astro_morph.catalogs import GZ1, GZ2, Schema, get_schema


def test_gz2_answers_are_the_catalogue_columns(shared_data):
    with open(shared_data / "sdss-gz2" / "labels.csv") as handle:
        header = next(csv.reader(handle))
    suffix = "_weighted_fraction"
    catalogue = [name[:-len(suffix)] for name in header if name.endswith(suffix)]
    assert list(GZ2.answers) == catalogue
    assert len(GZ2.questions) == 11 and GZ2.n_answers == 37


def test_the_issue_names_and_the_gz1_question():
    for name in ("t01_smooth_or_features_a01_smooth", "t02_edgeon_a04_yes", "t03_bar_a06_bar",
                 "t04_spiral_a08_spiral"):
        assert name in GZ2.answers
    assert GZ1.questions[0].answers == ("elliptical", "clockwise_spiral",
                                        "anticlockwise_spiral", "edge_on", "dont_know", "merger")


def test_asked_multiplies_along_the_tree_and_sums_where_paths_join():
    f = dict.fromkeys(GZ2.answers, 0.0)
    f.update({"t01_smooth_or_features_a01_smooth": 0.2,
              "t01_smooth_or_features_a02_features_or_disk": 0.7,
              "t01_smooth_or_features_a03_star_or_artifact": 0.1,
              "t02_edgeon_a04_yes": 0.4, "t02_edgeon_a05_no": 0.6,
              "t03_bar_a06_bar": 0.3, "t03_bar_a07_no_bar": 0.7,
              "t04_spiral_a08_spiral": 0.5, "t04_spiral_a09_no_spiral": 0.5,
              "t06_odd_a14_yes": 0.3, "t06_odd_a15_no": 0.7})
    asked = dict(zip([q.name for q in GZ2.questions],
                     GZ2.asked([[f[a] for a in GZ2.answers]])[0]))
    assert asked["t01_smooth_or_features"] == 1.0
    assert asked["t02_edgeon"] == pytest.approx(0.7)
    assert asked["t03_bar"] == asked["t04_spiral"] == pytest.approx(0.42)
    assert asked["t10_arms_winding"] == pytest.approx(0.21)
    assert asked["t09_bulge_shape"] == pytest.approx(0.28)
    assert asked["t07_rounded"] == pytest.approx(0.2)
    # t05 is reached through "no spiral" directly and through the arm questions (t11 is
    # reached by everyone answering t10, whose answers here are all zero: 0.21 is lost).
    assert asked["t05_bulge_prominence"] == pytest.approx(0.21)


def test_real_gz2_votes_become_counts_that_follow_the_volunteers(shared_data):
    table = Table.read(shared_data / "sdss-gz2" / "labels.csv", format="ascii.csv")
    counts = GZ2.counts_from_table(table)
    total = np.asarray(table["total_classifications"], dtype=float)
    a, b = GZ2.bounds[0]
    np.testing.assert_allclose(counts[:, a:b].sum(axis=1), total, rtol=0.02)
    # Everyone but stars/artifacts reaches t06 ("anything odd?").
    q = GZ2.index_of("t06_odd")
    a, b = GZ2.bounds[q]
    artifact = np.asarray(table["t01_smooth_or_features_a03_star_or_artifact_weighted_fraction"])
    np.testing.assert_allclose(counts[:, a:b].sum(axis=1), total * (1 - artifact),
                               atol=0.03 * total.max())
    # The label rule of the set rebuilt from the counts' fractions: smooth outweighs featured.
    fractions = GZ2.fractions(counts)
    elliptical = fractions[:, 0] > fractions[:, 1]
    assert np.mean(elliptical == (np.asarray(table["label"]) == "elliptical")) > 0.99


def test_a_tree_in_a_few_lines_and_its_round_trip():
    decals = Schema("decals", {"smooth-or-featured": ["smooth", "featured-or-disk", "artifact"],
                               "disk-edge-on": ["yes", "no"], "has-spiral-arms": ["yes", "no"]},
                    leads_to={"smooth-or-featured_featured-or-disk": "disk-edge-on",
                              "disk-edge-on_no": "has-spiral-arms"},
                    spiral_rule=("smooth-or-featured", ["smooth"], ["featured-or-disk"]))
    assert decals.n_answers == 7 and decals.classes == ("elliptical", "spiral")
    assert Schema.from_dict(decals.to_dict()) == decals
    p = decals.class_probabilities([[0.2, 0.6, 0.2, 0.5, 0.5, 0.5, 0.5]])
    np.testing.assert_allclose(p, [[0.25, 0.75]])
    assert get_schema(decals) is decals


def test_combined_schema_keeps_gz1_rule_and_every_question():
    both = get_schema("gz1+gz2")
    assert both.spiral_rule[0] == "gz1" and both.n_answers == 43
    assert both.contains(GZ2) and both.contains(GZ1) and not GZ2.contains(both)
    # p_spiral of the GZ1 rule: clockwise, anticlockwise and edge-on against elliptical;
    # "don't know" and "merger" are left out.
    fractions = np.zeros(43)
    fractions[:6] = [0.2, 0.2, 0.1, 0.1, 0.3, 0.1]
    assert both.class_probabilities(fractions)[1] == pytest.approx(0.4 / 0.6)


def test_labels_become_one_vote_for_their_answer():
    counts = GZ1.counts_from_labels(["edge_on", "gz1_elliptical", "merger"])
    assert counts.argmax(axis=1).tolist() == [3, 0, 5] and counts.sum() == 3
    # Class labels of a tree follow its spiral rule: GZ1's spiral is one vote shared by
    # its three spiral answers; GZ2's is one vote for "features or disk".
    spiral = GZ1.counts_from_labels(["spiral"])[0]
    np.testing.assert_allclose(spiral[:4], [0, 1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_array_equal(GZ1.counts_from_labels(np.array([1, 0])),
                                  GZ1.counts_from_labels(["spiral", "elliptical"]))
    assert GZ2.counts_from_labels(["spiral"])[0, :3].tolist() == [0, 1, 0]
    assert GZ1.label_names[-1] == "spiral" and "spiral" in GZ2.label_names


@pytest.mark.parametrize("build, match", [
    (lambda: Schema("x", {"a": ["y", "n"], "b": ["y", "n"]},
                    leads_to={"a_y": "b", "b_y": "a"}), "loop"),
    (lambda: Schema("x", {"a": ["y", "n"]}, leads_to={"a_maybe": "a"}), "unknown answers"),
    (lambda: Schema("x", {"a": ["y"]}), "at least two"),
    (lambda: Schema("x", {"a": ["y", "n"]}, spiral_rule=("a", ["y"], ["q"])), "spiral_rule"),
    (lambda: get_schema("gz3"), "unknown schema"),
    (lambda: get_schema(3), "schema must be"),
    (lambda: GZ2.counts_from_fractions(-np.ones((1, 37)), [40]), "negative"),
    (lambda: GZ2.check_counts(-np.ones((2, 37))), "negative"),
    (lambda: GZ2.check_counts(np.ones((2, 5))), r"\(N, 37\)"),
    (lambda: GZ1.counts_from_labels(["barred"]), "unknown label"),
    (lambda: GZ1.counts_from_labels(np.array([2])), "index the classes"),
    (lambda: Schema("x", None), "questions must be"),
    (lambda: Schema("x", ["a", "b"]), "questions must be"),
    (lambda: Schema("x", {"q": "yes"}), "must be a list"),
    (lambda: Schema("x", {"a": ["y", "n"]}, leads_to=["a_y"]), "leads_to must be a dict"),
    (lambda: Schema("x", {"a": ["y", "n"]}, spiral_rule=("a", ["y"])), "spiral_rule must be"),
    (lambda: GZ2.check_counts(np.full((2, 37), "x")), "numbers"),
    (lambda: GZ2.counts_from_table(Table({"x": [1]})), "no vote column"),
    (lambda: GZ2.select(["t99"]), "no question"),
])
def test_bad_schemas_and_votes_get_our_error(build, match):
    with pytest.raises(InputError, match=match):
        build()
