"""Training on votes: the Dirichlet-multinomial loss, predicted votes, schema checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import gammaln

from astro_morph import InputError, ModelFileError, MorphologyClassifier
from astro_morph.catalogs import GZ2, Schema
from astro_morph.models.calibration import fit_temperature
from astro_morph.models.training import build_model
from astro_morph.models.vote_loss import DirichletMultinomial, lgamma

from helpers import TINY, toy_images


def dirichlet_multinomial_nll(outputs, counts, bounds):
    """The loss in NumPy and SciPy: mean over galaxies of the summed negative
    log-likelihoods of each answered question (without the multinomial coefficient)."""
    total = np.zeros(len(outputs))
    for a, b in bounds:
        alpha, n = np.exp(outputs[:, a:b]), counts[:, a:b]
        total -= (gammaln(alpha.sum(1)) - gammaln(alpha.sum(1) + n.sum(1))
                  + (gammaln(alpha + n) - gammaln(alpha)).sum(1))
    return total.mean()

#: Two questions: the shape (labels or votes) and "bar?", asked of featured galaxies.
TOY = Schema("toy", {"shape": ["elliptical", "spiral"], "bar": ["yes", "no"]},
             leads_to={"shape_spiral": "bar"})


def test_lgamma_in_keras_ops_matches_scipy():
    x = np.array([3e-4, 0.01, 0.5, 1.0, 2.5, 6.9, 7.0, 40.0, 3000.0, 3e4])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(lgamma(x)), gammaln(x),
                               rtol=1e-10, atol=1e-10)


def test_the_loss_is_the_dirichlet_multinomial_and_its_numpy_twin():
    rng = np.random.default_rng(0)
    outputs = rng.normal(0, 2, (20, GZ2.n_answers))
    counts = np.round(rng.random((20, GZ2.n_answers)) * 10)
    counts[:5, 3:5] = 0  # t02 not answered by five galaxies
    loss = DirichletMultinomial(GZ2.bounds)
    keras_value = float(loss(counts.astype("float32"), outputs.astype("float32")))
    assert keras_value == pytest.approx(dirichlet_multinomial_nll(outputs, counts, GZ2.bounds),
                                        rel=1e-5)
    # By hand for one galaxy and question: log B(alpha + n) - log B(alpha), up to the
    # multinomial coefficient.
    alpha, n = np.exp(outputs[7, :3]), counts[7, :3]
    by_hand = -(gammaln(alpha.sum()) - gammaln(alpha.sum() + n.sum())
                + np.sum(gammaln(alpha + n) - gammaln(alpha)))
    only_t01 = np.zeros_like(counts[7:8])
    only_t01[0, :3] = n
    assert float(loss(only_t01.astype("float32"), outputs[7:8].astype("float32"))) == \
        pytest.approx(by_hand, rel=1e-6)


def test_a_question_without_votes_adds_nothing_and_no_gradient():
    rng = np.random.default_rng(1)
    outputs = tf.Variable(rng.normal(0, 1, (4, TOY.n_answers)))
    counts = np.array([[3.0, 7.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0],
                       [0.0, 5.0, 2.0, 3.0], [0.0, 1.0, 0.0, 0.0]])
    with tf.GradientTape() as tape:
        value = DirichletMultinomial(TOY.bounds)(counts, outputs)
    gradient = tape.gradient(value, outputs).numpy()
    assert np.all(gradient[[0, 1, 3], 2:] == 0)  # "bar" unanswered: exactly nothing
    assert np.all(gradient[2, 2:] != 0) and np.all(gradient[:, :2] != 0)
    without_bar = counts.copy()
    without_bar[2, 2:] = 0
    assert float(value) > float(DirichletMultinomial(TOY.bounds)(without_bar, outputs))


def test_temperature_calibrates_the_fractions_of_votes():
    rng = np.random.default_rng(2)
    fractions = rng.dirichlet([2.0, 2.0], 500)
    counts = rng.binomial(40, fractions[:, 1])
    counts = np.stack([40 - counts, counts], axis=1)
    outputs = np.log(fractions) * 4  # overconfident: fractions pushed to 0 and 1
    assert fit_temperature(outputs, counts) == pytest.approx(4, rel=0.15)
    assert fit_temperature(np.log(fractions), counts) == pytest.approx(1, rel=0.15)


def _votes(labels):
    """One shape vote each, and bar votes for the spirals alone."""
    counts = TOY.counts_from_labels(labels)
    spiral = counts[:, 1] > 0
    counts[spiral, 2:] = [[6.0, 4.0]] * int(spiral.sum())
    return counts


def test_galaxies_without_a_question_train_without_touching_its_outputs():
    images, labels = toy_images(32)
    counts = _votes(labels)
    clf = MorphologyClassifier(schema=TOY, epochs=2, seed=3, **TINY)
    nobody = counts.copy()
    nobody[:, 2:] = 0  # nobody answered "bar"
    clf.fit(images, nobody)
    keras.utils.set_random_seed(clf.seed)
    start, _ = build_model(clf, clf.preprocessing_)
    kernel, bias = clf.model_.get_layer("logits").get_weights()
    kernel0, bias0 = start.get_layer("logits").get_weights()
    np.testing.assert_array_equal(kernel[:, 2:], kernel0[:, 2:])
    np.testing.assert_array_equal(bias[2:], bias0[2:])
    assert not np.allclose(kernel[:, :2], kernel0[:, :2])
    assert clf.training_info_["galaxies_per_question"] == {"shape": 32, "bar": 0}
    # With votes for spirals only, the same network learns "bar" too.
    clf.fit(images, counts)
    assert clf.training_info_["galaxies_per_question"]["bar"] == int((labels == "spiral").sum())


def test_predict_votes_gives_every_answer_its_spread_and_the_tree(toy_model):
    images, labels = toy_images(32)
    clf = MorphologyClassifier(schema=TOY, epochs=6, seed=1, **TINY).fit(images, _votes(labels))
    votes = clf.predict_votes(images[:5])
    assert votes.colnames == ["shape_elliptical", "shape_elliptical_std", "shape_spiral",
                              "shape_spiral_std", "shape_asked", "bar_yes", "bar_yes_std",
                              "bar_no", "bar_no_std", "bar_asked"]
    np.testing.assert_allclose(votes["shape_elliptical"] + votes["shape_spiral"], 1)
    np.testing.assert_allclose(votes["bar_yes"] + votes["bar_no"], 1)
    np.testing.assert_allclose(votes["bar_asked"], votes["shape_spiral"])
    assert np.all(votes["bar_yes_std"] >= 0) and votes["shape_asked"].unit == ""
    assert "volunteers" in votes["bar_yes"].description
    assert Schema.from_dict(votes.meta["schema"]) == TOY
    # The answers "elliptical" and "spiral" give the first question the spiral rule:
    # the classes are those two, and p_spiral is the question's spiral fraction.
    assert clf.classes_ == ("elliptical", "spiral")
    np.testing.assert_allclose(clf.predict_proba(images[:5])[:, 1], votes["shape_spiral"])
    # A model of class labels answers votes of its one question.
    plain = toy_model.predict_votes(images[:2])
    assert plain.colnames[:2] == ["class_elliptical", "class_elliptical_std"]


def test_a_saved_schema_comes_back_and_mismatches_get_our_errors(tmp_path):
    images, labels = toy_images(24)
    clf = MorphologyClassifier(schema=TOY, epochs=1, **TINY).fit(images, _votes(labels))
    path = clf.save(tmp_path / "toy.keras")
    loaded = MorphologyClassifier.load(path)
    assert loaded.schema_ == TOY and loaded.get_params()["schema"] == TOY
    np.testing.assert_allclose(loaded.predict_proba(images[:3]), clf.predict_proba(images[:3]),
                               rtol=1e-5)
    # Continuing from a model of another schema: the outputs do not fit.
    other = MorphologyClassifier(schema="gz2", weights=str(path), epochs=1, **TINY)
    with pytest.raises(InputError, match="answering schema 'toy'; use the same backbone, "
                                         "input_size and schema"):
        other.fit(images, np.ones((24, GZ2.n_answers)))
    # Votes of the wrong width, negative votes, galaxies without any vote.
    with pytest.raises(InputError, match=r"\(N, 4\)"):
        MorphologyClassifier(schema=TOY, **TINY).fit(images, np.ones((24, 3)))
    with pytest.raises(InputError, match="negative"):
        MorphologyClassifier(schema=TOY, **TINY).fit(images, -np.ones((24, 4)))
    with pytest.raises(InputError, match="no votes"):
        MorphologyClassifier(schema=TOY, **TINY).fit(images, np.zeros((24, 4)))


def test_a_file_whose_outputs_do_not_fit_its_schema_is_refused(tmp_path):
    import json
    import zipfile

    images, labels = toy_images(16)
    clf = MorphologyClassifier(schema=TOY, epochs=1, **TINY).fit(images, _votes(labels))
    path = clf.save(tmp_path / "toy.keras")
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    record = json.loads(entries["astro_morph.json"])
    record["schema"] = GZ2.to_dict()
    entries["astro_morph.json"] = json.dumps(record).encode()
    with zipfile.ZipFile(tmp_path / "edited.keras", "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="4 network outputs but its schema 'gz2' has 37"):
        MorphologyClassifier.load(tmp_path / "edited.keras")
