"""ImageNet weights that load offline: a file, a configured folder, Keras' cache, or our
error naming the file to fetch and where to put it."""

import numpy as np
import pytest

import astro_morph
from astro_morph import ModelFileError, MorphologyClassifier
from astro_morph.models import BACKBONES, build_network
from astro_morph.models.backbones import imagenet_weights


def _backbone_weights(name, size, seed, weights):
    import keras
    keras.utils.set_random_seed(seed)
    _, backbone = build_network(name, size, 2, weights=weights, augment=False)
    return backbone.get_weights()


@pytest.mark.parametrize("name, size", [("mobilenet", 32), ("xception", 71)])
def test_imagenet_weights_load_offline_from_a_configured_folder(name, size, shared_weights,
                                                                monkeypatch, tmp_path):
    monkeypatch.delenv("ASTRO_MORPH_WEIGHTS", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # nothing in Keras' cache
    with astro_morph.conf.set_temp("weights_dir", str(shared_weights)):
        assert imagenet_weights(name).startswith(str(shared_weights))
        first = _backbone_weights(name, size, 1, "imagenet")
        second = _backbone_weights(name, size, 2, "imagenet")
    # The same ImageNet weights whatever the seed; a random start differs.
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    random = _backbone_weights(name, size, 1, None)
    assert not all(np.array_equal(a, b) for a, b in zip(first, random))
    # The environment variable and an explicit file give the same weights.
    monkeypatch.setenv("ASTRO_MORPH_WEIGHTS", str(shared_weights))
    from_env = _backbone_weights(name, size, 3, "imagenet")
    from_file = _backbone_weights(name, size, 3, imagenet_weights(name))
    assert all(np.array_equal(a, b) for a, b in zip(first, from_env))
    assert all(np.array_equal(a, b) for a, b in zip(first, from_file))


def test_no_local_file_and_no_network_names_the_fix(monkeypatch, tmp_path):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):  # as Keras fails without a network
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- "
                        "[Errno -2] Name or service not known")

    monkeypatch.setattr(file_utils, "get_file", offline)
    monkeypatch.setenv("ASTRO_MORPH_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with astro_morph.conf.set_temp("weights_dir", ""), pytest.raises(ModelFileError) as info, \
            pytest.warns(UserWarning, match="224"):
        build_network("mobilenet", 32, 2, weights="imagenet", augment=False)
    message = str(info.value)
    assert "mobilenet_1_0_224_tf_no_top.h5" in message
    assert "astro_morph.conf.weights_dir" in message and "ASTRO_MORPH_WEIGHTS" in message
    with pytest.raises(astro_morph.InputError, match="does not exist"):
        build_network("mobilenet", 32, 2, weights=str(tmp_path / "nope.h5"), augment=False)


def test_every_pretrainable_backbone_names_its_weights_files():
    for spec in BACKBONES.values():
        assert bool(spec.weights_files) == spec.pretrainable, spec.name


@pytest.mark.slow
def test_mobilenet_fine_tunes_from_imagenet_offline(shared_weights, monkeypatch):
    monkeypatch.setenv("ASTRO_MORPH_WEIGHTS", str(shared_weights))
    rng = np.random.default_rng(0)
    images = rng.random((24, 32, 32, 3)).astype("float32")
    clf = MorphologyClassifier(backbone="mobilenet", weights="imagenet", input_size=32,
                               epochs=3, batch_size=8, verbose=0, crop_fraction=1.0)
    clf.fit(images, ["spiral", "elliptical"] * 12)
    assert clf.predict_proba(images[:4]).shape == (4, 2)
    assert clf.training_info_["epochs_run"] == 3
