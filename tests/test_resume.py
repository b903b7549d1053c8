"""Classification of a catalog into a file survives interruptions, SIGKILL included."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from astropy.table import Table

from astro_morph import InputError, MockSurvey, MorphologyClassifier, classify, classify_catalog
from astro_morph.workflows import catalog as catalog_module


@pytest.fixture(scope="module")
def mock():
    return MockSurvey(n_galaxies=12, seed=5)


@pytest.fixture(scope="module")
def model(mock):
    clf = MorphologyClassifier(input_size=16, epochs=1, batch_size=8, verbose=0, seed=1,
                               crop_fraction=1.0)
    return clf.fit(mock.catalog("sdss"), source=mock.source("sdss"), cutout_kwargs={"size": 32})


def _kill_when(command, log_path, count, progress, timeout=240):
    """Start ``command``; SIGKILL it once ``progress()`` reaches ``count``. Returns the
    progress read last (the command must still be running then)."""
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    deadline, reached = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            reached = progress()
        except (OSError, ValueError, KeyError):
            reached = 0  # the progress file is not written yet
        if reached >= count:
            break
        time.sleep(0.01)
    assert process.poll() is None, log_path.read_text()[-2000:]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return reached


def _same_rows(a, b, prefix=""):
    """Same rows in the same order; probabilities equal up to batch-size rounding."""
    assert list(a["truth_id"]) == list(b["truth_id"])
    for name in ("p_spiral", "p_spiral_std", "morphology", "flag"):
        left, right = a[prefix + name], b[prefix + name]
        np.testing.assert_array_equal(np.ma.getmaskarray(left), np.ma.getmaskarray(right))
        good = ~np.ma.getmaskarray(left)
        left, right = np.asarray(left)[good], np.asarray(right)[good]
        if left.dtype.kind == "f":
            np.testing.assert_allclose(left, right, rtol=1e-5, atol=1e-7)
        else:
            np.testing.assert_array_equal(left, right)


def test_chunks_equal_one_classify_call(mock, model, tmp_path):
    catalog = mock.catalog("des")
    out = tmp_path / "classified.ecsv"
    result = classify_catalog(catalog, mock.source("des"), out, classifier=model, chunk_size=5,
                              prefix="des_", cutout_size=32)
    direct = classify(catalog, mock.source("des"), classifier=model, prefix="des_",
                      cutout_size=32)
    _same_rows(result, direct, "des_")
    assert result.meta["AMPREFIX"] == "des_" and result.meta["AMBACKBN"] == "compact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classified.ecsv"]
    with pytest.raises(InputError, match="exists"):
        classify_catalog(catalog, mock.source("des"), out, classifier=model)
    with pytest.raises(InputError, match="table format"):
        classify_catalog(catalog, mock.source("des"), tmp_path / "x.unknown", classifier=model)


def test_interrupted_run_resumes_after_the_last_chunk(mock, model, tmp_path, monkeypatch):
    catalog = mock.catalog("des")
    assert len(catalog) == 12  # three chunks of 5, 5 and 2 rows
    out = tmp_path / "resumed.fits"
    calls, interrupt = [], [True]
    real = catalog_module.classification_columns

    def failing(*args, **kwargs):
        calls.append(len(args[2]))
        if len(calls) == 3 and interrupt and interrupt.pop():
            raise KeyboardInterrupt  # as a user's Ctrl-C in the middle of chunk 3
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog_module, "classification_columns", failing)
    with pytest.raises(KeyboardInterrupt):
        classify_catalog(catalog, mock.source("des"), out, classifier=model, chunk_size=5,
                         cutout_size=32)
    assert not out.exists()
    record = json.loads((tmp_path / "resumed.fits.partial" / "progress.json").read_text())
    assert record["done"] == [0, 1] and record["n_chunks"] == 3

    # Other inputs never reuse (nor delete) the finished chunks.
    with pytest.raises(InputError, match="remove that folder"):
        classify_catalog(catalog[:10], mock.source("des"), out, classifier=model, chunk_size=5)
    assert (tmp_path / "resumed.fits.partial" / "chunk_000001.ecsv").exists()

    calls.clear()
    result = classify_catalog(catalog, mock.source("des"), out, classifier=model, chunk_size=5,
                              cutout_size=32)
    assert calls == [2]  # chunk 2 only
    reference = classify_catalog(catalog, mock.source("des"), tmp_path / "ref.fits",
                                 classifier=model, chunk_size=5, cutout_size=32)
    _same_rows(result, reference)
    assert not (tmp_path / "resumed.fits.partial").exists()


def test_sigkill_mid_run_then_resume_loses_and_duplicates_nothing(mock, model, tmp_path):
    files = mock.write(tmp_path / "mock")["des"]
    model_path = tmp_path / "model.keras"
    model.save(model_path)
    catalog = Table.read(files["catalog"])
    catalog = Table(np.repeat(catalog.as_array(), 4))  # 48 rows, 24 chunks
    catalog["row"] = np.arange(len(catalog))
    # Four copies of each galaxy, 0.5 arcsec apart: distinct positions, known answers.
    catalog["ra"] = np.asarray(catalog["ra"], dtype=float) + (catalog["row"] % 4) * 0.5 / 3600
    catalog["ra"].unit = "deg"
    catalog_path = tmp_path / "catalog.ecsv"
    catalog.write(catalog_path)

    def command(out):
        args = [sys.executable, "-m", "astro_morph.cli", "classify", str(catalog_path),
                "--out", str(out), "--model", str(model_path), "--chunk-size", "2",
                "--cutout-size", "32", "--survey", "des"]
        for band, path in files["images"].items():
            args += ["--fits", f"{band}={path}"]
        return args

    out = tmp_path / "killed.ecsv"
    record_path = tmp_path / "killed.ecsv.partial" / "progress.json"
    kill_after = int(np.random.default_rng().integers(1, 20))  # a random point in the run
    done = _kill_when(command(out), tmp_path / "killed.log", kill_after,
                      lambda: len(json.loads(record_path.read_text())["done"]))
    assert not out.exists()

    resumed = subprocess.run(command(out), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    reference = tmp_path / "uninterrupted.ecsv"
    subprocess.run(command(reference), capture_output=True, check=True)
    got, want = Table.read(out), Table.read(reference)
    lost = len(set(want["row"]) - set(got["row"]))
    duplicated = len(got) - len(set(got["row"]))
    print(f"SIGKILL after {done} of 24 chunks: rows lost {lost}, rows duplicated {duplicated}")
    assert lost == 0 and duplicated == 0
    assert list(got["row"]) == list(want["row"])
    for name in ("p_spiral", "morphology", "flag", "uncertain"):
        assert list(got[name]) == list(want[name])


def test_interrupted_fit_continues_from_its_last_epoch(tmp_path, monkeypatch, labelled_folder):
    from astro_morph.models import TrainingCheckpoint
    labels = labelled_folder(tmp_path, n=24)
    params = {"input_size": 16, "epochs": 5, "batch_size": 8, "verbose": 0, "seed": 2,
              "patience": 100, "crop_fraction": 1.0}
    checkpoint = tmp_path / "ckpt"
    real = TrainingCheckpoint.on_epoch_end

    def killed_after_two(self, epoch, logs=None):
        real(self, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(TrainingCheckpoint, "on_epoch_end", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        MorphologyClassifier(**params).fit(str(labels), checkpoint_dir=checkpoint)
    state = json.loads((checkpoint / "state.json").read_text())
    assert state["epoch"] == 2 and len(state["history"]["loss"]) == 2
    monkeypatch.setattr(TrainingCheckpoint, "on_epoch_end", real)

    with pytest.raises(InputError, match="other data or settings"):
        MorphologyClassifier(**{**params, "seed": 3}).fit(str(labels), checkpoint_dir=checkpoint)

    epochs_seen = []
    monkeypatch.setattr(TrainingCheckpoint, "on_epoch_begin",
                        lambda self, epoch, logs=None: epochs_seen.append(epoch), raising=False)
    resumed = MorphologyClassifier(**params).fit(str(labels), checkpoint_dir=checkpoint)
    assert epochs_seen == [2, 3, 4]  # continues, does not restart
    assert resumed.training_info_["epochs_run"] == 5
    assert resumed.history_["loss"][:2] == state["history"]["loss"]
    # Adam's state came back too: its step count covers all five epochs.
    steps = 5 * -(-resumed.training_info_["n_train"] // params["batch_size"])
    assert int(resumed.model_.optimizer.iterations.numpy()) == steps
    assert not checkpoint.exists()


def test_sigkill_during_training_then_resume_continues_the_epochs(tmp_path, labelled_folder):
    labels = labelled_folder(tmp_path, n=64)
    out = tmp_path / "model.keras"
    command = [sys.executable, "-m", "astro_morph.cli", "train", "--labels", str(labels),
               "--out", str(out), "--epochs", "12"]
    state_path = tmp_path / "model.keras.checkpoint" / "state.json"
    kill_after = int(np.random.default_rng().integers(2, 6))
    _kill_when(command, tmp_path / "killed.log", kill_after,
               lambda: json.loads(state_path.read_text())["epoch"])
    assert not out.exists()
    saved = json.loads(state_path.read_text())["epoch"]

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from" in resumed.stderr
    first = next(line for line in resumed.stdout.splitlines() if line.startswith("Epoch "))
    print(f"SIGKILL after epoch {saved}; the restarted run began at {first!r}")
    assert first == f"Epoch {saved + 1}/12"
    assert out.exists() and not state_path.parent.exists()
