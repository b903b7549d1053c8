import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astro_morph import (
    Cutouts,
    FITSImageSource,
    FootprintError,
    InputError,
    MockSurvey,
    make_cutouts,
)
from astro_morph.imaging import CUTOUT_FLAGS, estimate_background, measure_centroid

POSITION = SkyCoord(27.9520, 0.26352, unit="deg")  # the SN2006bh host, README of shared data


def _flux_in_footprint(path, cutout_wcs, size):
    """Sum of the original image pixels whose centres fall inside the cutout."""
    data = fits.getdata(path).astype(float)
    wcs = WCS(fits.getheader(path))
    yy, xx = np.mgrid[:data.shape[0], :data.shape[1]]
    gx, gy = cutout_wcs.world_to_pixel(wcs.pixel_to_world(xx, yy))
    inside = (gx > -0.5) & (gx < size - 0.5) & (gy > -0.5) & (gy < size - 0.5)
    return data[inside].sum()


@pytest.fixture(scope="module")
def des(sn2006bh):
    return FITSImageSource({b: sn2006bh / f"DES_{b}.fits" for b in "gri"}, survey="des")


@pytest.mark.filterwarnings("ignore::astropy.wcs.FITSFixedWarning")
def test_real_des_cutout_conserves_flux(des, sn2006bh):
    cutouts = make_cutouts(des, POSITION, size=64 * u.pixel, background=None)
    assert cutouts.data.shape == (1, 64, 64, 3) and cutouts.data.dtype == np.float32
    for k, band in enumerate("gri"):
        original = _flux_in_footprint(sn2006bh / f"DES_{band}.fits", cutouts.wcs[0], 64)
        # DES pixels are electrons at MAGZERO = 30: 1e-3 nanomaggies each.
        total = cutouts.data[0, :, :, k].sum() / 1e-3
        assert total == pytest.approx(original, rel=0.01)


def test_real_des_cutout_is_centred_on_the_galaxy(des):
    cutouts = make_cutouts(des, POSITION, size=64, recenter=True)
    x, y = measure_centroid(cutouts.band("r")[0], search_radius=24)
    assert np.hypot(x - 31.5, y - 31.5) < 1.5
    # The catalogue position itself is within 1" of the nucleus DES sees.
    assert POSITION.separation(cutouts.positions[0]) < 1 * u.arcsec
    plain = make_cutouts(des, POSITION, size=64)
    x0, y0 = measure_centroid(plain.band("r")[0], search_radius=24)
    assert np.hypot(x0 - 31.5, y0 - 31.5) < 3.0


def test_broken_sdss_header_raises_footprint_error(sn2006bh):
    sdss = FITSImageSource({b: sn2006bh / f"SDSS_{b}.fits" for b in "gri"}, survey="sdss")
    with pytest.raises(FootprintError, match=r"outside the g-band image .*SDSS_g.fits.*CRPIX"):
        make_cutouts(sdss, POSITION)
    flagged = make_cutouts(sdss, POSITION, on_error="flag")
    assert flagged.flag_names(0) == ["outside_footprint"]
    assert not np.any(flagged.data)


def _flat_source(value=1.0, n=200, scale=0.263):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [(n + 1) / 2, (n + 1) / 2]
    wcs.wcs.cdelt = [-scale / 3600, scale / 3600]
    data = np.full((n, n), value)
    return FITSImageSource({"r": (data, wcs)}, survey="des", zero_point=22.5), wcs


def test_flux_per_pixel_scales_with_pixel_area():
    source, _ = _flat_source(1.0)
    cutouts = make_cutouts(source, SkyCoord(150, 2, unit="deg"), size=16, bands="r",
                           background=None)
    np.testing.assert_allclose(cutouts.data, (0.396 / 0.263) ** 2, rtol=1e-3)


def test_mostly_blank_and_partial_cutouts():
    source, wcs = _flat_source(1.0, n=100)
    edge = wcs.pixel_to_world(1, 1)  # a corner: three quarters of the cutout off the image
    with pytest.raises(FootprintError, match="blank"):
        make_cutouts(source, edge, size=64, bands=["r"], background=None)
    partial = make_cutouts(source, edge, size=64, bands=["r"], background=None,
                           max_blank_fraction=0.9)
    assert partial.flag_names(0) == ["partial_coverage"]
    assert np.all(np.isfinite(partial.data))


def test_mixed_batch_with_flags_keeps_good_rows(mock_survey):
    catalog = mock_survey.catalog("des")
    far = Table({"ra": [catalog["ra"][0].value, 10.0], "dec": [catalog["dec"][0].value, 10.0]})
    cutouts = make_cutouts(mock_survey.source("des"), far, size=32, on_error="flag")
    assert cutouts.flags[0] == 0 and cutouts.flags[1] == CUTOUT_FLAGS["outside_footprint"]
    assert cutouts.data[0].max() > 0


def test_mock_sdss_and_des_cutouts_correlate(mock_survey):
    truth = mock_survey.truth
    bright = truth[np.argmin(truth["r_mag"])]
    position = SkyCoord(bright["ra"], bright["dec"])
    stacks = [make_cutouts(mock_survey.source(s), position, size=64).band("r")[0]
              for s in ("sdss", "des")]
    assert np.corrcoef(stacks[0].ravel(), stacks[1].ravel())[0, 1] >= 0.9
    # Same calibration: total fluxes agree to the noise.
    assert stacks[0].sum() == pytest.approx(stacks[1].sum(), rel=0.1)


def test_background_is_removed():
    rng = np.random.default_rng(0)
    image = 5.0 + rng.normal(0, 0.1, (64, 64))
    yy, xx = np.mgrid[:64, :64]
    image += 50 * np.exp(-((xx - 31.5) ** 2 + (yy - 31.5) ** 2) / 20)
    assert estimate_background(image, "border") == pytest.approx(5.0, abs=0.05)
    mesh = estimate_background(image, "mesh")
    assert mesh.shape == image.shape and np.median(mesh) == pytest.approx(5.0, abs=0.05)
    with pytest.raises(InputError, match="background method"):
        estimate_background(image, "magic")


def test_cutouts_write_and_table(mock_survey, tmp_path):
    cutouts = make_cutouts(mock_survey.source("sdss"), mock_survey.catalog("sdss")[:3], size=24)
    assert isinstance(cutouts, Cutouts) and len(cutouts) == 3
    path = tmp_path / "cutouts.fits"
    cutouts.write(path)
    with fits.open(path) as hdul:
        assert hdul[0].data.shape == (3, 3, 24, 24)
        assert hdul[0].header["BANDS"] == "gri"
        assert len(hdul["POSITIONS"].data) == 3
    assert cutouts.to_table()["ra"].unit == u.deg
    assert cutouts.meta["resampling"].startswith("reproject_exact")


@pytest.mark.parametrize("kwargs,match", [
    ({"size": 4}, "at least 8 pixels"),
    ({"size": 3 * u.kg}, "pixels or an angle"),
    ({"pixel_scale": -1 * u.arcsec}, "positive"),
    ({"pixel_scale": 1 * u.kg}, "angle per pixel"),
    ({"bands": ["u"]}, "not available"),
    ({"background": "median"}, "background must be"),
    ({"on_error": "ignore"}, "on_error"),
    ({"max_blank_fraction": 1.5}, "max_blank_fraction"),
])
def test_bad_options(mock_survey, kwargs, match):
    with pytest.raises(InputError, match=match):
        make_cutouts(mock_survey.source("sdss"), mock_survey.catalog("sdss")[:1], **kwargs)


def test_source_must_be_an_image_source():
    with pytest.raises(InputError, match="FITSImageSource"):
        make_cutouts({"r": "r.fits"}, SkyCoord(1, 2, unit="deg"))


def test_size_as_angle():
    mock = MockSurvey(n_galaxies=1, seed=5)
    cutouts = make_cutouts(mock.source("des"), mock.catalog("des"), size=12.672 * u.arcsec)
    assert cutouts.data.shape[1:3] == (32, 32)
