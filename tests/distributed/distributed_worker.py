"""One rank of the distributed tests (started by tests/distributed/test_distributed.py).

Usage: ``horovodrun --gloo -np 2 -H localhost:2 python distributed_worker.py horovod OUTDIR``
or ``python -m astro_morph.distributed.launch -np 2 python distributed_worker.py tensorflow
OUTDIR``. Each rank writes ``OUTDIR/rank{r}.json`` with what the tests check.
"""

import json
import os
import sys

import numpy as np


def gradient_case(engine):
    """Averaged gradient of two half batches versus the gradient of the whole batch."""
    import keras
    import tensorflow as tf

    from astro_morph.distributed.data_parallel import allreduce_gradients

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(2)])
    engine.broadcast_variables(model.variables)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 6)).astype("float32")
    y = rng.integers(0, 2, 8)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def gradients(rows):
        with tf.GradientTape() as tape:
            loss = loss_fn(y[rows], model(x[rows], training=True))
        return tape.gradient(loss, model.trainable_variables)

    mine = np.arange(engine.rank(), 8, engine.size())
    averaged = allreduce_gradients(gradients(mine))
    whole = gradients(np.arange(8))
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(w))))
               for a, w in zip(averaged, whole))


def train_case(engine, workdir):
    """A short fit_distributed run on learnable images; spies on checkpoint writes."""
    import keras

    from astro_morph import MorphologyClassifier
    from astro_morph.distributed import weights_checksum

    writes = []
    original = keras.Model.save_weights

    def spy(self, filepath, *args, **kwargs):
        writes.append(os.fspath(filepath))
        return original(self, filepath, *args, **kwargs)

    keras.Model.save_weights = spy
    rng = np.random.default_rng(0)
    images = (rng.random((96, 16, 16, 3)) * 0.2).astype("float32")
    labels = np.array(["elliptical", "spiral"] * 48)
    images[labels == "elliptical", 5:11, 5:11, 0] = 0.9
    images[labels == "spiral", 5:11, 5:11, 2] = 0.9
    checkpoint = os.path.join(workdir, "checkpoint")
    seen = []
    clf = MorphologyClassifier(input_size=16, crop_fraction=1.0, epochs=4, batch_size=8,
                               learning_rate=3e-3, validation_fraction=0.25, verbose=0,
                               seed=1, patience=10)
    # After each epoch's checkpoint, every rank looks for the state rank 0 wrote.
    from astro_morph.models import checkpoint as checkpoint_module
    original_end = checkpoint_module.TrainingCheckpoint.on_epoch_end

    def end_and_watch(self, epoch, logs=None):
        original_end(self, epoch, logs)
        engine.allreduce([np.float32(0)], name=f"sync.{epoch}")  # rank 0 has written by now
        seen.append(os.path.isfile(os.path.join(checkpoint, "state.json")))

    checkpoint_module.TrainingCheckpoint.on_epoch_end = end_and_watch
    clf.fit_distributed(images, labels, checkpoint_dir=checkpoint, engine=engine.name,
                        warmup_epochs=1)
    keras.Model.save_weights = original
    checkpoint_module.TrainingCheckpoint.on_epoch_end = original_end
    proba = clf.predict_proba(images[:8])
    return {
        "checksum": weights_checksum(clf.model_),
        "loss": clf.history_["loss"],
        "val_loss": clf.history_["val_loss"],
        "temperature": clf.temperature_,
        "proba": proba.tolist(),
        "n_train": clf.training_info_["n_train"],
        "ranks": clf.training_info_["ranks"],
        "checkpoint_writes": writes,
        "state_seen": seen,
        "checkpoint_left": os.path.exists(checkpoint),
    }


def budget_case(engine):
    """A time budget much shorter than the epochs asked for: every rank stops at the same step
    (with float16 gradient compression: the averaged gradient is still the same everywhere)."""
    from astro_morph import MorphologyClassifier
    from astro_morph.distributed import weights_checksum

    rng = np.random.default_rng(2)
    images = rng.random((64, 16, 16, 3)).astype("float32")
    labels = np.array(["elliptical", "spiral"] * 32)
    clf = MorphologyClassifier(input_size=16, crop_fraction=1.0, epochs=10_000, batch_size=4,
                               validation_fraction=0.25, verbose=0, seed=2, patience=10_000,
                               time_budget=4.0)
    clf.fit_distributed(images, labels, engine=engine.name, fp16_compression=True)
    return {"epochs": clf.training_info_["epochs_run"], "checksum": weights_checksum(clf.model_)}


def classify_case():
    """Sharded classification versus one process, on a mock survey (7 rows: uneven blocks)."""
    from astro_morph import MockSurvey, MorphologyClassifier, classify

    mock = MockSurvey(n_galaxies=7, seed=4)
    catalog, source = mock.catalog("des"), mock.source("des")
    clf = MorphologyClassifier.pretrained()
    sharded = classify(catalog, source, classifier=clf, distributed=True,
                       framing={"size": 64}, batch_size=4)
    single = classify(catalog, source, classifier=clf, framing={"size": 64}, batch_size=4)
    return {
        "n_rows": len(sharded),
        "ra_equal": bool(np.all(sharded["ra"] == single["ra"])),
        "p_spiral_sharded": np.asarray(sharded["p_spiral"].filled(np.nan)).tolist(),
        "p_spiral_single": np.asarray(single["p_spiral"].filled(np.nan)).tolist(),
        "morphology_equal": bool(np.all(sharded["morphology"] == single["morphology"])),
        "flag_equal": bool(np.all(sharded["flag"] == single["flag"])),
    }


def main(engine_name, outdir):
    from astro_morph.distributed import init

    engine = init(engine=engine_name)
    result = {"rank": engine.rank(), "size": engine.size(), "engine": engine.name}
    result["gradient_max_difference"] = gradient_case(engine)
    result["train"] = train_case(engine, outdir)
    result["classify"] = classify_case()
    result["budget"] = budget_case(engine)
    with open(os.path.join(outdir, f"rank{engine.rank()}.json"), "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(*sys.argv[1:])
