"""classify_catalog: chunks into a file that survive interruptions, SIGKILL included."""

import json
import subprocess
import sys

import numpy as np
import pytest
from astropy.table import Table

from astro_morph import (
    InputError,
    classify,
    classify_catalog,
)
from astro_morph.classification import catalog_file as catalog_module

from helpers import kill_when


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


def test_chunks_equal_one_classify_call(small_mock, small_model, tmp_path):
    catalog = small_mock.catalog("des")
    out = tmp_path / "classified.ecsv"
    result = classify_catalog(catalog, small_mock.source("des"), out, classifier=small_model,
                              chunk_size=5, prefix="des_")
    direct = classify(catalog, small_mock.source("des"), classifier=small_model, prefix="des_")
    _same_rows(result, direct, "des_")
    assert result.meta["AMPREFIX"] == "des_" and result.meta["AMBACKBN"] == "compact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classified.ecsv"]
    with pytest.raises(InputError, match="exists"):
        classify_catalog(catalog, small_mock.source("des"), out, classifier=small_model)
    with pytest.raises(InputError, match="table format"):
        classify_catalog(catalog, small_mock.source("des"), tmp_path / "x.unknown",
                         classifier=small_model)


def test_interrupted_run_resumes_after_the_last_chunk(small_mock, small_model, tmp_path,
                                                      monkeypatch):
    catalog = small_mock.catalog("des")
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
        classify_catalog(catalog, small_mock.source("des"), out, classifier=small_model,
                         chunk_size=5)
    assert not out.exists()
    record = json.loads((tmp_path / "resumed.fits.partial" / "progress.json").read_text())
    assert record["done"] == [0, 1] and record["n_chunks"] == 3

    # Other inputs never reuse (nor delete) the finished chunks.
    with pytest.raises(InputError, match="remove that folder"):
        classify_catalog(catalog[:10], small_mock.source("des"), out, classifier=small_model,
                         chunk_size=5)
    assert (tmp_path / "resumed.fits.partial" / "chunk_000001.ecsv").exists()

    calls.clear()
    result = classify_catalog(catalog, small_mock.source("des"), out, classifier=small_model,
                              chunk_size=5)
    assert calls == [2]  # chunk 2 only
    reference = classify_catalog(catalog, small_mock.source("des"), tmp_path / "ref.fits",
                                 classifier=small_model, chunk_size=5)
    _same_rows(result, reference)
    assert not (tmp_path / "resumed.fits.partial").exists()


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_loses_and_duplicates_nothing(small_mock, small_model,
                                                                 tmp_path):
    files = small_mock.write(tmp_path / "mock")["des"]
    model_path = tmp_path / "model.keras"
    small_model.save(model_path)
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
                "--survey", "des"]
        for band, path in files["images"].items():
            args += ["--fits", f"{band}={path}"]
        return args

    out = tmp_path / "killed.ecsv"
    record_path = tmp_path / "killed.ecsv.partial" / "progress.json"
    kill_after = int(np.random.default_rng().integers(1, 20))  # a random point in the run
    done = kill_when(command(out), tmp_path / "killed.log", kill_after,
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
