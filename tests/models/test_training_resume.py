"""Training resumes after an interruption, SIGKILL included, from its last epoch."""

import json
import subprocess
import sys

import numpy as np
import pytest

from astro_morph import (
    InputError,
    MorphologyClassifier,
)
from astro_morph.models.checkpoint import TrainingCheckpoint

from helpers import kill_when

#: Each trains a classifier (twice) or kills and restarts the command line.
pytestmark = pytest.mark.slow


def test_interrupted_fit_continues_from_its_last_epoch(tmp_path, monkeypatch, labelled_folder):
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
    kill_when(command, tmp_path / "killed.log", kill_after,
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
