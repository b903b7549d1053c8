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
