"""Every survey of the registry through the whole chain, so a new survey is covered the
day it joins ``astro_morph.surveys.SURVEYS``.

For each survey: FITS images of its colour bands at its pixel scale and in its pixel
units go through `classify`, `classify_catalog`, `make_cutouts` + `bands_to_rgb` and
``astro-morph classify --survey KEY``. The archive sources of the surveys that have one
(SDSS, DES, Legacy Survey) classify offline in tests/surveys/test_archives.py.
"""

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astro_morph import (
    FITSImageSource,
    InputError,
    bands_to_rgb,
    classify,
    classify_catalog,
    make_cutouts,
)
from astro_morph.cli import main
from astro_morph.surveys import SURVEYS

#: Two galaxies, 30 arcsec apart: a round one and an elongated one.
GALAXIES = Table({"ra": [150.10, 150.10 + 30 / 3600 / np.cos(np.radians(2.2))],
                  "dec": [2.20, 2.20], "id": [1, 2]})


def survey_fits(info, folder):
    """One FITS file per colour band of ``info``, in its pixel units and pixel scale."""
    scale = info.pixel_scale.to_value(u.arcsec / u.pixel)
    npix = int(180 / scale)  # both galaxies' 100 arcsec fields inside
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [np.mean(GALAXIES["ra"]), 2.20]
    wcs.wcs.crpix = [(npix + 1) / 2, (npix + 1) / 2]
    wcs.wcs.cdelt = [-scale / 3600, scale / 3600]
    # A zero point in the header where the survey's varies from image to image.
    zero_point = info.zero_point if info.zero_point is not None else 27.0
    yy, xx = np.mgrid[:npix, :npix]
    x, y = wcs.world_to_pixel_values(GALAXIES["ra"], GALAXIES["dec"])
    files = {}
    for k, band in enumerate(info.rgb_bands):
        nanomaggies = np.random.default_rng(k).normal(0, 0.02, (npix, npix))
        for xc, yc, axis in zip(x, y, (1.0, 0.3)):
            radius = np.hypot((xx - xc) * scale, (yy - yc) * scale / axis)  # arcsec
            nanomaggies += (2 + k) * np.exp(-radius / 2.0)
        header = wcs.to_header()
        header["MAGZERO"] = zero_point
        header["FILTER"] = band
        data = nanomaggies * 10 ** (0.4 * (zero_point - 22.5))
        files[band] = str(folder / f"{info.key}_{band}.fits")
        fits.PrimaryHDU(data.astype(np.float32), header).writeto(files[band])
    return files


@pytest.mark.parametrize("key", sorted(SURVEYS))
def test_every_survey_classifies_end_to_end(key, tmp_path):
    info = SURVEYS[key]
    files = survey_fits(info, tmp_path)
    source = FITSImageSource(files, survey=key)

    result = classify(GALAXIES, source)
    assert list(result["flag"]) == [0, 0]
    assert np.all((result["p_spiral"] >= 0) & (result["p_spiral"] <= 1))
    assert result.meta["AMSURVEY"] == key and result.meta["AMBANDS"] == "".join(info.rgb_bands)

    cutouts = make_cutouts(source, GALAXIES, size=48)
    assert cutouts.survey is info and not np.any(cutouts.flags)
    rgb = bands_to_rgb(cutouts)
    assert rgb.shape == (2, 48, 48, 3) and rgb[:, 24, 24].min() > rgb[:, 0, 0].max()

    written = classify_catalog(GALAXIES, source, str(tmp_path / "out.ecsv"), progress=False)
    np.testing.assert_allclose(written["p_spiral"], result["p_spiral"], atol=1e-6)

    catalog = tmp_path / "galaxies.ecsv"
    GALAXIES.write(catalog)
    out = tmp_path / "cli.ecsv"
    assert main(["classify", str(catalog), "--survey", key.upper(), "--out", str(out),
                 *[f"--fits={band}={path}" for band, path in files.items()]]) == 0
    np.testing.assert_allclose(Table.read(out)["p_spiral"], result["p_spiral"], atol=1e-6)


def test_a_source_of_no_survey_is_refused_with_the_fix(tmp_path):
    files = survey_fits(SURVEYS["sdss"], tmp_path)
    with pytest.raises(InputError, match="give survey= one of"):
        classify(GALAXIES, FITSImageSource(files))
    cutouts = make_cutouts(FITSImageSource(files), GALAXIES, size=32)
    with pytest.raises(InputError, match="no known survey.*give survey= one of"):
        bands_to_rgb(cutouts)
    assert bands_to_rgb(cutouts, survey="sdss").shape == (2, 32, 32, 3)
