"""Input pipelines: parallel decoding, tf.data datasets, and the colour-after-crop path."""

import numpy as np
import pytest

from astro_morph import InputError, MorphologyClassifier, bands_to_rgb, make_cutouts
from astro_morph.inputs import (
    Preprocessing,
    array_dataset,
    decode_images,
    file_dataset,
    prepare_images,
)


def test_parallel_decoding_equals_one_file_at_a_time(tmp_path, labelled_folder):
    labelled_folder(tmp_path, n=12, side=40, suffix=".jpg")
    paths = [str(tmp_path / f"{i}.jpg") for i in range(12)]
    preprocessing = Preprocessing(input_size=16, crop_fraction=0.5)
    one_by_one = np.stack([preprocessing.load(p) for p in paths])
    np.testing.assert_array_equal(decode_images(paths, preprocessing, batch_size=5), one_by_one)
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


def _jpeg_variants(folder):
    """Real-world JPEG flavours (and a PNG) at odd, non-square sizes."""
    from PIL import Image
    rng = np.random.default_rng(3)
    smooth = np.kron(rng.integers(0, 256, (12, 16, 3)), np.ones((9, 7, 1))).astype(np.uint8)
    rgb = Image.fromarray(np.clip(smooth + rng.integers(0, 40, smooth.shape), 0, 255)
                          .astype(np.uint8))  # 108 x 112
    variants = {"420.jpg": dict(quality=90, subsampling=2),
                "444.jpg": dict(quality=95, subsampling=0),
                "progressive.jpg": dict(quality=80, progressive=True),
                "odd.jpg": dict(quality=85)}
    paths = []
    for name, options in variants.items():
        image = rgb.crop((0, 0, 101, 87)) if name == "odd.jpg" else rgb
        image.save(folder / name, **options)
        paths.append(folder / name)
    rgb.convert("L").save(folder / "grey.jpg", quality=90)
    rgb.convert("CMYK").save(folder / "cmyk.jpg", quality=90)
    rgb.save(folder / "plain.png")
    return [str(p) for p in paths + [folder / "grey.jpg", folder / "cmyk.jpg",
                                     folder / "plain.png"]]


@pytest.mark.parametrize("input_size", [16, 40])
def test_file_dataset_crops_jpegs_with_the_pixels_of_pil(tmp_path, input_size):
    # JPEGs are decoded by TensorFlow inside the crop window only: the pixels must be
    # exactly those of the PIL path that prediction uses, for every JPEG flavour and
    # window (chroma upsampling at a window's edge differs unless a margin is decoded).
    paths = _jpeg_variants(tmp_path)
    for crop_fraction in (0.2, 0.35, 0.5, 0.61, 0.7, 0.83, 0.9, 1.0):
        preprocessing = Preprocessing(input_size=input_size, crop_fraction=crop_fraction)
        dataset = file_dataset(paths, None, preprocessing, batch_size=len(paths),
                               shuffle=False)
        np.testing.assert_array_equal(next(iter(dataset)).numpy(),
                                      decode_images(paths, preprocessing),
                                      err_msg=f"crop_fraction {crop_fraction}")


def test_file_dataset_checks_files_before_decoding(tmp_path):
    paths = _jpeg_variants(tmp_path)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InputError, match="empty.jpg"):
        file_dataset(paths + [str(tmp_path / "empty.jpg")], None, Preprocessing())
    # A truncated JPEG (no end marker) goes through PIL, whose error names the file.
    whole = (tmp_path / "420.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(whole[:len(whole) // 2])
    dataset = file_dataset([str(tmp_path / "cut.jpg")], None, Preprocessing(), shuffle=False)
    import tensorflow as tf
    with pytest.raises(tf.errors.OpError, match="cut.jpg"):  # raised inside tf.data
        next(iter(dataset))
    with pytest.raises(InputError, match="cannot be read"):
        file_dataset([str(tmp_path)], None, Preprocessing())  # a folder


def test_missing_files_are_named(tmp_path):
    with pytest.raises(InputError, match="do not exist"):
        file_dataset([str(tmp_path / "nope.jpg")], None, Preprocessing())
    with pytest.raises(InputError, match="nope.jpg"):
        decode_images([str(tmp_path / "nope.jpg")] * 3, Preprocessing())


def test_array_dataset_batches_everything():
    images = np.random.default_rng(0).random((7, 8, 8, 3)).astype("float32")
    batches = [x.numpy() for x in array_dataset(images, batch_size=3, shuffle=False)]
    assert [len(b) for b in batches] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(batches), images)


def test_colour_after_crop_equals_crop_after_colour(mock_survey):
    cutouts = make_cutouts(mock_survey.source("des"), mock_survey.catalog("des")[:4],
                           size=96, resampling="fast")
    preprocessing = Preprocessing(input_size=32, crop_fraction=0.35)
    images, _, flags = prepare_images(cutouts, preprocessing)
    np.testing.assert_array_equal(images, preprocessing.apply(bands_to_rgb(cutouts)))
    np.testing.assert_array_equal(flags, cutouts.flags)


@pytest.mark.slow
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
