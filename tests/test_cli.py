import subprocess
import sys

import numpy as np
from astropy.io import fits
from astropy.table import Table

from astro_morph.cli import main


def test_demo_writes_cutouts_mosaic_and_catalog(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n-galaxies", "6", "--seed", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "median r-band correlation" in printed
    matched = Table.read(out / "matched.ecsv")
    assert len(matched) >= 5 and np.median(matched["r_correlation"]) > 0.8
    with fits.open(out / "cutouts_des.fits") as hdul:
        assert hdul[0].data.shape == (len(matched), 3, 64, 64)
    png = (out / "mosaic.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert (out / "mock" / "mock_sdss_r.fits").exists()


def test_our_errors_become_a_message_and_exit_status_2(capsys):
    assert main(["demo", "--n-galaxies", "0", "--quiet"]) == 2
    assert "n_galaxies must be at least 1" in capsys.readouterr().err


def test_console_entry_point_help():
    result = subprocess.run([sys.executable, "-m", "astro_morph.cli", "--help"],
                            capture_output=True, text=True, check=True)
    assert "demo" in result.stdout


def test_train_evaluate_classify_commands(tmp_path, capsys, mock_survey, labelled_folder):
    labels = labelled_folder(tmp_path, classes=("spiral", "elliptical", "other"), side=48,
                             suffix=".jpeg")
    model = tmp_path / "m.keras"
    assert main(["train", "--labels", str(labels), "--out", str(model), "--epochs", "2",
                 "--time-budget", "1", "--quiet"]) == 0
    assert model.exists() and (tmp_path / "m_history.png").exists()
    assert "epochs" in capsys.readouterr().out
    metrics = tmp_path / "metrics.json"
    assert main(["evaluate", str(model), "--labels", str(labels), "--out", str(metrics)]) == 0
    import json
    row = json.loads(metrics.read_text())
    assert row["n"] == 11 and 0 <= row["accuracy"] <= 1
    assert "roc_auc" in capsys.readouterr().out

    paths = mock_survey.write(tmp_path / "mock")["des"]
    catalog = tmp_path / "catalog.ecsv"
    mock_survey.catalog("des")[:3].write(catalog)
    out = tmp_path / "classified.fits"
    args = ["classify", str(catalog), "--survey", "des", "--out", str(out), "--model", str(model)]
    for band, path in paths["images"].items():
        args += ["--fits", f"{band}={path}"]
    assert main(args) == 0
    assert len(Table.read(out)) == 3 and "p_spiral" in Table.read(out).colnames
    assert main(["classify", str(catalog), "--fits", "nonsense", "--out", str(out)]) == 2
    assert main(["train", "--labels", str(tmp_path / "none.csv"), "--out", str(model)]) == 2
    assert "does not exist" in capsys.readouterr().err
