"""Workflows: fine-tuning on another survey and recursive training."""


import numpy as np
import pytest
from astropy.table import Table

from astro_morph import (
    InputError,
    MorphologyClassifier,
    fine_tune,
    self_train,
)

from helpers import TINY, toy_images


# -- fine-tuning and recursive training ---------------------------------------------------------
def test_fine_tune_starts_from_the_given_weights(toy_model):
    images, labels = toy_images(n=16, seed=4)
    # A negligible learning rate: the fine-tuned model is the starting model.
    tuned = fine_tune(toy_model, images, labels, epochs=1, learning_rate_factor=1e-7)
    np.testing.assert_allclose(tuned.model_.get_weights()[0], toy_model.model_.get_weights()[0],
                               atol=1e-5)
    assert tuned is not toy_model and tuned.preprocessing_ == toy_model.preprocessing_
    with pytest.raises(InputError, match="MorphologyClassifier"):
        fine_tune("model.keras", images, labels)


@pytest.mark.slow
def test_a_loaded_fine_tune_says_how_to_train_again(toy_model, tmp_path):
    # Saved after continuing from an in-memory classifier, the model records where it
    # started; fitting the loaded model again asks for starting weights instead of
    # looking for a file named after that record.
    images, labels = toy_images(n=16, seed=4)
    tuned = fine_tune(toy_model, images, labels, epochs=1)
    loaded = MorphologyClassifier.load(tuned.save(tmp_path / "tuned.keras"))
    assert loaded.weights.startswith("continued from")
    with pytest.raises(InputError, match="set_params"):
        loaded.fit(images, labels)
    loaded.set_params(weights=str(tmp_path / "tuned.keras"), epochs=1).fit(images, labels)
    assert loaded.predict_proba(images).shape == (16, 2)


@pytest.mark.slow
def test_self_train_adds_confident_galaxies_and_records_each_round(toy_model):
    images, labels = toy_images(n=48, seed=0)
    pool, pool_truth = toy_images(n=40, seed=7)
    test_images, test_labels = toy_images(n=24, seed=8)
    best, history = self_train(toy_model, (images, labels), pool,
                               test_sets={"toy": (test_images, test_labels)}, rounds=2,
                               per_round=10, threshold=0.6, patience=2, epochs=2)
    assert history["round"].tolist()[0] == 0 and len(history) >= 2
    assert history["n_added"].tolist() == sorted(history["n_added"].tolist())
    assert history["n_added"][1] == 10 and history["n_train"][1] == 58
    assert history["accuracy_toy"][0] == pytest.approx(
        np.mean(toy_model.predict(test_images) == test_labels))
    best_round = history.meta["best_round"]
    assert history["mean_accuracy"][best_round] == max(history["mean_accuracy"])
    assert isinstance(best, MorphologyClassifier)
    with pytest.raises(InputError, match="test set"):
        self_train(toy_model, (images, labels), pool, test_sets={})
    with pytest.raises(InputError, match="tuple"):
        self_train(toy_model, images, pool, test_sets={"toy": (test_images, test_labels)})


@pytest.mark.slow
def test_self_train_judges_and_retrains_on_the_images_as_fit_takes_them():
    # The class shows only in a thin ring that the classifier's crop (0.75) keeps and a
    # second crop would cut away: self_train must not crop the images twice.
    def ringed(n, seed):
        rng = np.random.default_rng(seed)
        images = rng.random((n, 16, 16, 3)).astype("float32") * 0.1
        labels = np.array(["spiral", "elliptical"] * (n // 2))
        yy, xx = np.mgrid[:16, :16]
        ring = (np.hypot(xx - 7.5, yy - 7.5) > 4.9) & (np.hypot(xx - 7.5, yy - 7.5) < 5.9)
        images[labels == "spiral", :, :, 2] += ring * 0.8
        images[labels == "elliptical", :, :, 0] += ring * 0.8
        return np.clip(images, 0, 1), labels

    images, labels = ringed(48, 0)
    cropping = MorphologyClassifier(epochs=6, seed=1, input_size=16, crop_fraction=0.75,
                                    batch_size=8, verbose=0).fit(images, labels)
    test_images, test_labels = ringed(24, 8)
    assert np.mean(cropping.predict(test_images) == test_labels) > 0.9
    pool, _ = ringed(20, 7)
    _, history = self_train(cropping, (images, labels), pool, rounds=1, per_round=5,
                            threshold=0.5, epochs=1, test_sets={"toy": (test_images,
                                                                        test_labels)})
    assert history["accuracy_toy"][0] == pytest.approx(
        np.mean(cropping.predict(test_images) == test_labels))
    with pytest.raises(InputError, match="image batch of shape"):
        self_train(cropping, (images, labels), Table({"ra": [1.0], "dec": [2.0]}),
                   test_sets={"toy": (test_images, test_labels)})


def test_self_train_stops_when_nothing_is_confident():
    # Barely visible features and one epoch: a classifier unsure of everything.
    images, labels = toy_images(n=32, contrast=0.02)
    unsure = MorphologyClassifier(epochs=1, seed=2, learning_rate=1e-5, **TINY).fit(images,
                                                                                     labels)
    pool, _ = toy_images(n=10, seed=3, contrast=0.02)
    highest = unsure.predict_proba(pool).max()
    assert highest < 0.95
    _, history = self_train(unsure, (images, labels), pool, test_sets={"toy": (images, labels)},
                            threshold=(highest + 1) / 2)
    assert history["round"].tolist() == [0] and history["n_added"].tolist() == [0]
