import json
import zipfile

import keras
import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table
from sklearn.model_selection import train_test_split

from astro_morph import InputError, ModelFileError, MorphologyClassifier, evaluate
from astro_morph.inputs import encode_labels
from astro_morph.models import BACKBONES, GalaxyAugmentation, ProgressiveUnfreezing, TimeBudget
from astro_morph.models.calibration import dihedral_views, fit_temperature
from astro_morph.models.network import build_network

from helpers import large_toy_images

TINY = {"input_size": 16, "epochs": 3, "batch_size": 8, "verbose": 0}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    images, labels = large_toy_images()
    clf = MorphologyClassifier(seed=3, **TINY)
    history = tmp_path_factory.mktemp("history") / "history.png"
    clf.fit(images, labels, history_path=history)
    return clf, images, labels, history


def test_fit_predict_shapes_and_contract(fitted):
    clf, images, labels, history = fitted
    proba = clf.predict_proba(images[:5])
    assert proba.shape == (5, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(images[:5])) <= {"spiral", "elliptical"}
    assert clf.classes_ == ("elliptical", "spiral")
    assert clf.preprocessing_.input_size == 16
    assert 0.05 < clf.temperature_ < 20
    assert len(clf.history_["loss"]) == clf.training_info_["epochs_run"] == 3
    assert history.read_bytes()[:4] == b"\x89PNG"
    # The constructor stores hyper-parameters as given (scikit-learn contract).
    assert MorphologyClassifier(epochs=7).get_params()["epochs"] == 7
    assert not hasattr(MorphologyClassifier(), "model_")


def test_learns_the_toy_problem():
    images, labels = large_toy_images(96, seed=1)
    clf = MorphologyClassifier(seed=0, input_size=16, epochs=12, batch_size=16, verbose=0,
                               learning_rate=3e-3)
    clf.fit(images, labels)
    test_images, test_labels = large_toy_images(40, seed=2)
    assert np.mean(clf.predict(test_images) == test_labels) >= 0.9


def test_deterministic_with_a_seed(fitted):
    clf, images, labels, _ = fitted
    again = MorphologyClassifier(seed=3, **TINY).fit(images, labels)
    np.testing.assert_allclose(again.predict_proba(images[:6]), clf.predict_proba(images[:6]),
                               atol=1e-6)


def test_save_load_identical_predictions(fitted, tmp_path):
    clf, images, _, _ = fitted
    path = tmp_path / "model.keras"
    clf.save(path, training_data="toy")
    loaded = MorphologyClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(images[:8]), clf.predict_proba(images[:8]))
    assert loaded.provenance_["training_data"] == "toy"
    assert len(loaded.provenance_["sha256"]) == 64


def test_bad_model_files(fitted, tmp_path):
    clf, _, _, _ = fitted
    good = tmp_path / "good.keras"
    clf.save(good)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[:2000])
    foreign = tmp_path / "foreign.keras"
    foreign.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    for path in (truncated, foreign, text, tmp_path / "missing.keras"):
        with pytest.raises(ModelFileError, match=path.name):
            MorphologyClassifier.load(path)
    with pytest.raises(ModelFileError, match=r"\.keras"):
        clf.save(tmp_path / "model.h5")


def test_a_model_file_of_a_newer_keras_names_the_upgrade(fitted, tmp_path):
    """A file whose layer configs this Keras cannot read (a newer Keras's settings)."""
    clf, _, _, _ = fitted
    good, newer = tmp_path / "good.keras", tmp_path / "newer.keras"
    clf.save(good)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(newer, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "metadata.json":
                data = json.dumps({"keras_version": "99.1.0"}).encode()
            elif item.filename == "config.json":
                data = data.replace(b'"seed": null', b'"seed": null, "setting_of_keras_99": 1')
            target.writestr(item, data)
    with pytest.raises(ModelFileError, match=r"written by Keras 99\.1\.0.*upgrade Keras"):
        MorphologyClassifier.load(newer)


def test_progressive_unfreezing_changes_trainable_layers_on_schedule():
    images, labels = large_toy_images(32)
    model, backbone = build_network("compact", 16, 2, augment=False)
    callback = ProgressiveUnfreezing(backbone, [(1, 1, 0.5), (2, 4, 1.0)], n_groups=4,
                                     compile_kwargs={"loss": "sparse_categorical_crossentropy"})
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    y = (labels == "spiral").astype(int)
    model.fit(images[:, :16, :16], y, epochs=3, batch_size=8, verbose=0, callbacks=[callback])
    epochs = [epoch for epoch, _ in callback.stages_]
    counts = [count for _, count in callback.stages_]
    assert epochs == [0, 1, 2]
    assert counts[0] == 0 and 0 < counts[1] < counts[2]
    assert float(model.optimizer.learning_rate) == pytest.approx(0.5e-3)


def test_unfreezing_reaches_inside_an_applications_backbone():
    # keras.applications networks sit inside our backbone as one nested model: the
    # groups must be its own layers (unfreezing "the top quarter" once unfroze all of
    # MobileNet, batch normalisations included, and wrecked the trained head).
    from astro_morph.models.callbacks import layer_groups, set_trainable_groups
    _, backbone = build_network("mobilenet", 32, 2, augment=False)
    groups = layer_groups(backbone, 4)
    assert len(groups) == 4 and not any(hasattr(layer, "layers")
                                        for group in groups for layer in group)
    set_trainable_groups(backbone, groups, 1)
    top = {id(w) for layer in groups[-1] for w in layer.trainable_weights}
    assert backbone.trainable_weights
    assert all(id(w) in top for w in backbone.trainable_weights)
    assert len(backbone.trainable_weights) < len(backbone.weights) // 4
    norms = [layer for group in groups for layer in group
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and not any(layer.trainable for layer in norms)


def test_early_stopping_restores_the_best_weights():
    images, labels = large_toy_images(32)
    clf = MorphologyClassifier(seed=1, input_size=16, epochs=8, batch_size=8, verbose=0,
                               patience=2, learning_rate=0.05)
    clf.fit(images, labels)
    history = clf.history_["val_loss"]
    best = int(np.argmin(history))
    assert len(history) <= best + 1 + 2  # stopped `patience` epochs after the best
    # The kept weights are the best epoch's: their validation loss equals the best one.
    x = clf.preprocessing_.apply(images)
    y = encode_labels(labels, clf.classes_)
    _, val_x, _, val_y = train_test_split(x, y, test_size=clf.validation_fraction, stratify=y,
                                          random_state=clf.seed)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert float(loss(val_y, clf.model_.predict(val_x, verbose=0))) == pytest.approx(
        min(history), rel=1e-3)


@pytest.mark.slow
def test_time_budget_stops_cleanly():
    images, labels = large_toy_images(48)
    clf = MorphologyClassifier(seed=0, input_size=16, epochs=500, batch_size=8, verbose=0,
                               time_budget=4 * u.s, patience=1000)
    clf.fit(images, labels)
    assert clf.training_info_["epochs_run"] < 500
    assert TimeBudget(10).seconds == 10
    steady = MorphologyClassifier(seed=0, input_size=16, epochs=500, batch_size=8, verbose=0,
                                  time_budget=2 * u.s, patience=1000, anneal=False)
    rates = steady.fit(images, labels).history_["learning_rate"]
    np.testing.assert_allclose(rates, clf.learning_rate, rtol=1e-6)


def test_time_budget_anneals_and_composes_with_other_schedules():
    model = build_network("compact", 16, 2, augment=False)[0]
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    budget = TimeBudget(100.0, anneal=True, floor=0.1)
    budget.set_model(model)
    budget.on_train_begin()
    budget._start -= 50.0  # half the budget spent
    budget.on_train_batch_begin(0)
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.5e-3, rtol=1e-3)
    model.optimizer.learning_rate = 0.25e-3  # ReduceLROnPlateau halves it
    budget._start -= 25.0  # three quarters spent
    budget.on_train_batch_begin(1)
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.5e-3 * 0.25, rtol=1e-3)
    budget._start -= 100.0  # overspent: the floor holds
    budget.on_train_batch_begin(2)
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.5e-3 * 0.1, rtol=1e-3)


def test_time_budget_anneals_over_the_epochs_when_they_end_first():
    model = build_network("compact", 16, 2, augment=False)[0]
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    budget = TimeBudget(3600.0, anneal=True, floor=0.02)  # an hour: the epochs end first
    budget.set_model(model)
    budget.set_params({"epochs": 10, "steps": 4})
    budget.on_train_begin()
    budget.on_epoch_begin(5)
    budget.on_train_batch_begin(2)  # 5.5 of 10 epochs done, a few seconds of the hour
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.45e-3, rtol=1e-3)
    assert budget.fraction_done(batch=2) == pytest.approx(0.55, abs=1e-3)


def test_augmentation_is_a_symmetry_and_off_at_inference():
    layer = GalaxyAugmentation(shift=0, zoom=0, seed=2)
    image = np.random.default_rng(0).random((1, 8, 8, 3)).astype("float32")
    batch = np.repeat(image, 64, axis=0)
    out = np.asarray(layer(batch, training=True))
    views = [v[0] for v in dihedral_views(image)]
    assert all(any(np.allclose(o, v) for v in views) for o in out)
    assert len({o.tobytes() for o in out}) > 4  # several different symmetries used
    np.testing.assert_array_equal(np.asarray(layer(batch, training=False)), batch)


def test_temperature_and_tta_views():
    assert len({v.tobytes() for v in dihedral_views(np.arange(16.0).reshape(1, 4, 4, 1))}) == 8
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    logits = np.stack([-labels, labels], 1) + rng.normal(0, 1, (500, 2))
    assert fit_temperature(logits * 10, labels) > 5


def test_evaluate_matches_definitions():
    table = evaluate([1, 1, 0, 0, 0], [0.9, 0.4, 0.6, 0.1, 0.2])
    row = table[0]
    assert row["precision"] == 0.5 and row["recall"] == 0.5
    assert row["fpr"] == pytest.approx(1 / 3) and row["accuracy"] == pytest.approx(0.6)
    assert row["roc_auc"] == pytest.approx(5 / 6)
    with pytest.raises(InputError, match="equal length"):
        evaluate([1, 0], [0.5])


def test_every_backbone_is_registered_and_builds():
    assert {"xception", "resnet50", "inception_v3", "densenet121", "efficientnet_b0",
            "compact"} <= set(BACKBONES)
    model, _ = build_network("resnet50", 32, 2, augment=False)
    assert model.output_shape == (None, 2)


@pytest.mark.parametrize("kwargs,match", [
    ({"backbone": "vgg99"}, "unknown backbone"),
    ({"input_size": 4}, "input_size"),
    ({"classes": ("spiral",)}, "two distinct"),
    ({"validation_fraction": 0.9}, "validation_fraction"),
    ({"backbone": "compact", "weights": "imagenet"}, "no ImageNet weights"),
    ({"class_weight": "auto"}, "class_weight"),
])
def test_bad_hyper_parameters(kwargs, match):
    images, labels = large_toy_images(8)
    with pytest.raises(InputError, match=match):
        MorphologyClassifier(**{**TINY, **kwargs}).fit(images, labels)


def test_bad_training_inputs(tmp_path):
    images, labels = large_toy_images(8)
    clf = MorphologyClassifier(**TINY)
    with pytest.raises(InputError, match="8 images but y has 7"):
        clf.fit(images, labels[:7])
    with pytest.raises(InputError, match="unknown label"):
        clf.fit(images, ["barred"] * 8)
    with pytest.raises(InputError, match="shape"):
        clf.fit(np.zeros((8, 16, 16)), labels)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        clf.fit(images * 5, labels)
    with pytest.raises(InputError, match="no labels"):
        clf.fit(images)
    with pytest.raises(InputError, match="not fitted"):
        clf.predict(images)
    with pytest.raises(InputError, match="need an image source"):
        MorphologyClassifier(**TINY).fit(Table({"ra": [1.0], "dec": [2.0]}), ["spiral"])


def test_scikit_learn_can_clone_and_set_parameters():
    from sklearn.base import clone
    original = MorphologyClassifier(epochs=3, seed=7, classes=("elliptical", "spiral"))
    copy = clone(original)
    assert copy is not original and copy.get_params() == original.get_params()
    assert copy.set_params(epochs=5) is copy and copy.epochs == 5 and original.epochs == 3
    with pytest.raises(InputError, match="unknown hyper-parameter"):
        copy.set_params(epoch=5)
