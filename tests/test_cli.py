import re
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astro_morph.cli import main


@pytest.mark.slow
def test_demo_runs_the_workflow_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n-galaxies", "100", "--seed", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "median r-band correlation" in printed and "roc_auc" in printed
    matched = Table.read(out / "matched.ecsv")
    assert len(matched) >= 40 and np.median(matched["r_correlation"]) > 0.8
    with fits.open(out / "cutouts_des.fits") as hdul:
        assert hdul[0].data.shape == (len(matched), 3, 64, 64)
    assert (out / "mock" / "mock_sdss_r.fits").exists()
    labelled = Table.read(out / "des_labelled.ecsv")
    assert {"des_p_spiral", "des_morphology", "des_flag"} <= set(labelled.colnames)
    assert "label" not in labelled.colnames and labelled.meta["AMSURVEY"]
    page = (out / "report.html").read_text()
    links = re.findall(r'src="([^"]+)"', page)
    assert {"mosaic.png", "training.png", "roc.png", "confident.png", "self_training.png",
            "tsne.png"} <= set(links)
    for link in links:  # every figure is a real PNG of this run
        png = (out / link).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    for heading in ("Results on the test galaxies", "Recursive training", "silhouette",
                    "SN2006bh"):
        assert heading in page


@pytest.mark.slow
def test_report_command(tmp_path, capsys, labelled_folder):
    labels = labelled_folder(tmp_path, n=24, side=32)
    model = tmp_path / "m.keras"
    assert main(["train", "--labels", str(labels), "--out", str(model), "--epochs", "2",
                 "--quiet"]) == 0
    assert main(["report", str(model), "--labels", str(labels), "--out",
                 str(tmp_path / "rep")]) == 0
    assert "report.html" in capsys.readouterr().out
    page = (tmp_path / "rep" / "report.html").read_text()
    assert all((tmp_path / "rep" / link).is_file() for link in re.findall(r'src="([^"]+)"', page))


def test_our_errors_become_a_message_and_exit_status_2(capsys):
    assert main(["demo", "--n-galaxies", "0", "--quiet"]) == 2
    assert "n_galaxies >= 100" in capsys.readouterr().err


def test_console_entry_point_help():
    result = subprocess.run([sys.executable, "-m", "astro_morph.cli", "--help"],
                            capture_output=True, text=True, check=True)
    assert "demo" in result.stdout


@pytest.mark.slow
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


@pytest.mark.slow
def test_train_command_runs_the_seed_recipe_on_imagenet_xception_offline(
        tmp_path, capsys, labelled_folder, shared_weights, monkeypatch):
    monkeypatch.setenv("ASTRO_MORPH_WEIGHTS", str(shared_weights))
    labels = labelled_folder(tmp_path, n=16, side=72)
    model = tmp_path / "xception.keras"
    assert main(["train", "--labels", str(labels), "--out", str(model), "--backbone",
                 "xception", "--weights", "imagenet", "--input-size", "71",
                 "--crop-fraction", "1", "--epochs", "1", "--quiet"]) == 0
    from astro_morph import MorphologyClassifier
    trained = MorphologyClassifier.load(model)
    assert trained.backbone == "xception" and trained.preprocessing_.input_size == 71
    assert trained.training_info_["head_stage"]["views"] == 1
    # The ImageNet start came from the local file: the model's record names it.
    assert trained.get_params()["weights"] == "imagenet"
    assert trained.training_info_["weights_source"] == str(
        shared_weights / "xception_imagenet_notop.weights.h5")
    assert main(["train", "--labels", str(labels), "--out", str(model), "--backbone",
                 "compact", "--weights", "imagenet", "--epochs", "1", "--quiet"]) == 2
    assert "no ImageNet weights" in capsys.readouterr().err


def test_similar_command_writes_neighbours_index_and_page(tmp_path, capsys, small_mock):
    from astro_morph import SimilarityIndex

    paths = small_mock.write(tmp_path / "mock")["des"]
    base = ["similar", paths["catalog"], "--survey", "des", "--out", str(tmp_path / "sim"),
            "--k", "3", "--n-odd", "4"]
    for band, path in paths["images"].items():
        base += ["--fits", f"{band}={path}"]
    args = base + ["--query", "2"]
    catalog = Table.read(paths["catalog"])
    position = ["--position", str(catalog["ra"][5]), str(catalog["dec"][5])]
    assert main(args + position) == 0
    assert "12 of 12 galaxies embedded; 2 queries x 3 neighbours" in capsys.readouterr().out
    folder = tmp_path / "sim"
    neighbours = Table.read(folder / "neighbours.ecsv")
    assert list(neighbours["query"]) == [0, 0, 0, 1, 1, 1]
    assert 2 not in neighbours["index"][:3] and 5 not in neighbours["index"][3:]
    page = (folder / "similar.html").read_text()
    assert "neighbours.png" in page and "oddest.png" in page
    assert (folder / "neighbours.png").stat().st_size > 1000
    index = SimilarityIndex.load(folder / "index.zip")
    assert len(index) == 12 and index.model == Table.read(folder /
                                                          "embeddings.ecsv").meta["AMEMBED"]
    # The embeddings are reused; a query far from every galaxy is our error.
    far = ["--position", str(catalog["ra"][5]), str(catalog["dec"][5] + 1)]
    assert main(args + far) == 2
    err = capsys.readouterr().err
    assert "using the embeddings" in err and "no catalogue galaxy lies within" in err
    assert main(base) == 2
    assert "give the query galaxies" in capsys.readouterr().err
    other = tmp_path / "other.ecsv"
    catalog[:5].write(other)
    assert main([*base[:1], str(other), *base[2:], "--query", "1"]) == 2
    assert "embeddings of another catalogue" in capsys.readouterr().err
