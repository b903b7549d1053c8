"""Input pipelines: parallel decoding, tf.data datasets, and the colour-after-crop path."""

import numpy as np
import pytest

from astro_morph import InputError, MorphologyClassifier, bands_to_rgb, make_cutouts
from astro_morph.models import Preprocessing
from astro_morph.models.inputs import _cutout_images
from astro_morph.pipeline import array_dataset, decode_images, file_dataset


def test_parallel_decoding_equals_one_file_at_a_time(tmp_path, labelled_folder):
    labelled_folder(tmp_path, n=12, side=40, suffix=".jpg")
    paths = [str(tmp_path / f"{i}.jpg") for i in range(12)]
    preprocessing = Preprocessing(input_size=16, crop_fraction=0.5)
    one_by_one = np.stack([preprocessing.load(p) for p in paths])
    np.testing.assert_array_equal(decode_images(paths, preprocessing, workers=2), one_by_one)
    # Files give exactly what the same pixels given as an array give.
    from PIL import Image
    array = np.asarray(Image.open(paths[0]).convert("RGB"))[None] / np.float32(255)
    np.testing.assert_array_equal(preprocessing.apply(array)[0], one_by_one[0])


def test_file_dataset_decodes_caches_and_shuffles(tmp_path, labelled_folder):
    labelled_folder(tmp_path, n=10, side=32)
    paths = [str(tmp_path / f"{i}.png") for i in range(10)]
    preprocessing = Preprocessing(input_size=16, crop_fraction=1.0)
    expected = decode_images(paths, preprocessing)
    dataset = file_dataset(paths, np.arange(10), preprocessing, batch_size=4, seed=1)
    for _ in range(2):  # the second pass comes from the cache
        images, labels = zip(*[(x.numpy(), y.numpy()) for x, y in dataset])
        images, labels = np.concatenate(images), np.concatenate(labels)
        assert sorted(labels.tolist()) == list(range(10))
        np.testing.assert_array_equal(images, expected[labels])
    ordered = file_dataset(paths, None, preprocessing, batch_size=10, shuffle=False)
    np.testing.assert_array_equal(next(iter(ordered)).numpy(), expected)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(InputError, match="do not exist"):
        file_dataset([str(tmp_path / "nope.jpg")], None, Preprocessing())
    with pytest.raises(InputError, match="nope.jpg"):
        decode_images([str(tmp_path / "nope.jpg")] * 3, Preprocessing(), workers=2)


def test_array_dataset_batches_everything():
    images = np.random.default_rng(0).random((7, 8, 8, 3)).astype("float32")
    batches = [x.numpy() for x in array_dataset(images, batch_size=3, shuffle=False)]
    assert [len(b) for b in batches] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(batches), images)


def test_colour_after_crop_equals_crop_after_colour(mock_survey):
    cutouts = make_cutouts(mock_survey.source("des"), mock_survey.catalog("des")[:4],
                           size=96, resampling="fast")
    preprocessing = Preprocessing(input_size=32, crop_fraction=0.35)
    np.testing.assert_array_equal(_cutout_images(cutouts, preprocessing),
                                  preprocessing.apply(bands_to_rgb(cutouts)))


def test_mixed_precision_trains_and_round_trips(tmp_path):
    import keras
    rng = np.random.default_rng(0)
    images = rng.random((24, 16, 16, 3)).astype("float32")
    clf = MorphologyClassifier(input_size=16, crop_fraction=1.0, epochs=1, batch_size=8,
                               verbose=0, mixed_precision=True)
    clf.fit(images, [0, 1] * 12)
    assert clf.model_.get_layer("backbone").compute_dtype == "float16"
    assert clf.model_.get_layer("logits").compute_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    proba = clf.predict_proba(images[:3])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    clf.save(tmp_path / "mixed.keras")
    loaded = MorphologyClassifier.load(tmp_path / "mixed.keras")
    assert loaded.mixed_precision
    np.testing.assert_allclose(loaded.predict_proba(images[:3]), proba, atol=1e-6)
