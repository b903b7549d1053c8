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
from astro_morph.imaging import (
    CUTOUT_FLAGS,
    RESAMPLING,
    estimate_background,
    measure_centroid,
    resample_batch,
)
from astro_morph.imaging.grid import local_pixel_area
from astro_morph.imaging.resample import box_average
from astro_morph.utils.wcs import tan_wcs

POSITION = SkyCoord(27.9520, 0.26352, unit="deg")  # the SN2006bh host, README of shared data


def _flux_in_footprint(path, grid, size):
    """Sum of the original image pixels whose centres fall inside the cutout."""
    data = fits.getdata(path).astype(float)
    wcs = WCS(fits.getheader(path))
    yy, xx = np.mgrid[:data.shape[0], :data.shape[1]]
    gx, gy = grid.world_to_pixel(wcs.pixel_to_world(xx, yy))
    inside = (gx > -0.5) & (gx < size - 0.5) & (gy > -0.5) & (gy < size - 0.5)
    return data[inside].sum()


@pytest.fixture(scope="module")
def des(sn2006bh):
    return FITSImageSource({b: sn2006bh / f"DES_{b}.fits" for b in "gri"}, survey="des")


@pytest.mark.filterwarnings("ignore::astropy.wcs.FITSFixedWarning")
@pytest.mark.parametrize("resampling", RESAMPLING)
def test_real_des_cutout_conserves_flux(resampling, des, sn2006bh):
    cutouts = make_cutouts(des, POSITION, size=64 * u.pixel, background=None, resampling=resampling)
    assert cutouts.data.shape == (1, 64, 64, 3) and cutouts.data.dtype == np.float32
    for k, band in enumerate("gri"):
        original = _flux_in_footprint(sn2006bh / f"DES_{band}.fits", cutouts.wcs[0], 64)
        # DES pixels are electrons at MAGZERO = 30: 1e-3 nanomaggies each.
        total = cutouts.data[0, :, :, k].sum() / 1e-3
        assert total == pytest.approx(original, rel=0.01)


@pytest.mark.parametrize("resampling", RESAMPLING)
def test_real_des_cutout_is_centred_on_the_galaxy(resampling, des):
    cutouts = make_cutouts(des, POSITION, size=64, recenter=True, resampling=resampling)
    x, y = measure_centroid(cutouts.band("r")[0], search_radius=24)
    assert np.hypot(x - 31.5, y - 31.5) < 1.5
    # The catalogue position itself is within 1" of the nucleus DES sees.
    assert POSITION.separation(cutouts.positions[0]) < 1 * u.arcsec
    plain = make_cutouts(des, POSITION, size=64, resampling=resampling)
    x0, y0 = measure_centroid(plain.band("r")[0], search_radius=24)
    assert np.hypot(x0 - 31.5, y0 - 31.5) < 3.0


def test_recentring_at_coarse_pixels_agrees_between_resamplers(des):
    # 1"/pixel makes the default 3" shift 3 pixels: below a cutout's 8, and accepted.
    offset = POSITION.spherical_offsets_by(1.5 * u.arcsec, -1 * u.arcsec)
    centres = {resampling: make_cutouts(des, SkyCoord([POSITION, offset]), size=32,
                                        pixel_scale=1 * u.arcsec / u.pixel, recenter=True,
                                        resampling=resampling)
               for resampling in RESAMPLING}
    for cutouts in centres.values():
        assert cutouts.flags.tolist() == [0, 0]
        # Both starts move towards the one nucleus: 1.8" apart before, under 0.9" after.
        assert cutouts.positions[0].separation(cutouts.positions[1]) < 0.9 * u.arcsec
    assert np.all(centres["fast"].positions.separation(centres["exact"].positions)
                  < 0.01 * u.arcsec)


@pytest.mark.parametrize("resampling", RESAMPLING)
def test_recentring_without_flux_keeps_the_position(resampling):
    source, wcs = _flat_source(0.0)
    position = SkyCoord(150, 2, unit="deg")
    cutouts = make_cutouts(source, position, size=16, bands="r", background=None,
                           recenter=True, resampling=resampling)
    assert cutouts.flag_names(0) == ["recenter_rejected"]
    assert cutouts.positions[0].separation(position) < 1e-6 * u.arcsec


@pytest.mark.parametrize("resampling", RESAMPLING)
def test_recentring_off_the_image_keeps_the_first_cut(resampling):
    # Native-scale cutouts 5 pixels inside the image edge (69% covered), with the only
    # flux between the position and the edge: the recentred cut would be 41% blank.
    _, wcs = _flat_source(0.0, n=100)
    data = np.zeros((100, 100))
    data[50, 1] = 100.0
    source = FITSImageSource({"r": (data, wcs)}, survey="des", zero_point=22.5)
    position = wcs.pixel_to_world(2.5, 50)
    options = dict(size=16, pixel_scale=0.263 * u.arcsec / u.pixel, bands="r",
                   background=None, max_blank_fraction=0.35, resampling=resampling)
    recentred = make_cutouts(source, position, recenter=True, **options)
    plain = make_cutouts(source, position, **options)
    assert recentred.flag_names(0) == ["partial_coverage", "recenter_rejected"]
    assert recentred.positions[0].separation(position) < 1e-6 * u.arcsec
    np.testing.assert_array_equal(recentred.data, plain.data)
    assert recentred.data.max() > 0


@pytest.mark.parametrize("resampling", RESAMPLING)
def test_broken_sdss_header_raises_footprint_error(resampling, sn2006bh):
    sdss = FITSImageSource({b: sn2006bh / f"SDSS_{b}.fits" for b in "gri"}, survey="sdss")
    with pytest.raises(FootprintError, match=r"outside the g-band image .*SDSS_g.fits.*CRPIX"):
        make_cutouts(sdss, POSITION, resampling=resampling)
    flagged = make_cutouts(sdss, POSITION, on_error="flag", resampling=resampling)
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


@pytest.mark.parametrize("resampling", RESAMPLING)
def test_flux_per_pixel_scales_with_pixel_area(resampling):
    source, _ = _flat_source(1.0)
    cutouts = make_cutouts(source, SkyCoord(150, 2, unit="deg"), size=16, bands="r",
                           background=None, resampling=resampling)
    np.testing.assert_allclose(cutouts.data, (0.396 / 0.263) ** 2, rtol=1e-3)


@pytest.mark.parametrize("resampling", RESAMPLING)
def test_mostly_blank_and_partial_cutouts(resampling):
    source, wcs = _flat_source(1.0, n=100)
    edge = wcs.pixel_to_world(1, 1)  # a corner: three quarters of the cutout off the image
    # Either resampler names the image it cut from.
    with pytest.raises(FootprintError, match=r"r-band cutout at .* from \S+.* is \d+% blank"):
        make_cutouts(source, edge, size=64, bands=["r"], background=None, resampling=resampling)
    partial = make_cutouts(source, edge, size=64, bands=["r"], background=None,
                           max_blank_fraction=0.9, resampling=resampling)
    assert partial.flag_names(0) == ["partial_coverage"]
    assert np.all(np.isfinite(partial.data))


@pytest.mark.parametrize("resampling", RESAMPLING)
def test_mixed_batch_with_flags_keeps_good_rows(resampling, mock_survey):
    catalog = mock_survey.catalog("des")
    far = Table({"ra": [catalog["ra"][0].value, 10.0], "dec": [catalog["dec"][0].value, 10.0]})
    cutouts = make_cutouts(mock_survey.source("des"), far, size=32, on_error="flag",
                           resampling=resampling)
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
    assert estimate_background(image, method="border") == pytest.approx(5.0, abs=0.05)
    mesh = estimate_background(image, method="mesh")
    assert mesh.shape == image.shape and np.median(mesh) == pytest.approx(5.0, abs=0.05)
    with pytest.raises(InputError, match="background method"):
        estimate_background(image, method="magic")


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
    assert cutouts.meta["resampling"].startswith("batched")  # the default, "fast"


@pytest.mark.parametrize("kwargs,match", [
    ({"size": 4}, "at least 8 pixels"),
    ({"size": 3 * u.kg}, "pixels or an angle"),
    ({"size": "big"}, "size must be a single finite value"),
    ({"pixel_scale": -1 * u.arcsec}, "positive"),
    ({"pixel_scale": 1 * u.kg}, "angle per pixel"),
    ({"bands": ["u"]}, "not available"),
    ({"background": "median"}, "background must be"),
    ({"on_error": "ignore"}, "on_error"),
    ({"max_blank_fraction": 1.5}, "max_blank_fraction"),
    ({"recenter": True, "max_recenter_shift": 2 * u.kg}, "max_recenter_shift must be in"),
    ({"recenter": True, "max_recenter_shift": 0 * u.arcsec}, "max_recenter_shift must be above 0"),
    ({"recenter": True, "max_recenter_shift": [3, 4] * u.arcsec}, "max_recenter_shift must be a"),
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


def test_batch_resampling_equals_reproject_interp_galaxy_by_galaxy():
    """One WCS evaluation for all galaxies gives what reproject_interp gives for each."""
    from astropy.nddata import Cutout2D
    from reproject import reproject_interp


    rng = np.random.default_rng(1)
    data = rng.random((300, 300))
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix = [150.0, -40.0], [150.5, 150.5]
    # A rotated, sheared image grid: nothing lines up with the north-up cutouts.
    wcs.wcs.cd = np.array([[-0.26, 0.05], [0.04, 0.27]]) / 3600
    source = FITSImageSource({"r": (data, wcs)}, survey="des", zero_point=22.5)
    image = source.images_for("r", None)[0]
    centres = wcs.pixel_to_world(rng.uniform(100, 200, 5), rng.uniform(100, 200, 5))
    stamps, coverage = resample_batch(image, centres.ra.deg, centres.dec.deg, 24, 0.4,
                                      oversample=1)
    assert np.all(coverage == 1.0)
    for i in range(len(centres)):
        cut = Cutout2D(data, centres[i], (80, 80), wcs=wcs)
        expected, _ = reproject_interp((cut.data, cut.wcs), tan_wcs(centres[i], 24, 0.4),
                                       shape_out=(24, 24), order="bilinear")
        expected *= 0.4**2 / local_pixel_area(wcs, centres[i])
        np.testing.assert_allclose(stamps[i], expected, rtol=1e-6, atol=1e-9)


def test_fast_and_exact_agree_on_the_mock_survey(mock_survey):
    catalog = mock_survey.catalog("sdss")
    for survey, tolerance in (("sdss", 2e-4), ("des", 0.02)):
        # SDSS at its own pixel scale: the same pixels (reproject_exact itself moves by
        # 1.2e-4 of the peak between numpy 1.26 and 2; the fast path by 2e-9); DES
        # resampled to 0.396": 2% at most.
        source = mock_survey.source(survey)
        exact = make_cutouts(source, catalog, size=48, background=None, resampling="exact")
        fast = make_cutouts(source, catalog, size=48, background=None)  # "fast", the default
        peak = np.abs(exact.data).max(axis=(1, 2, 3), keepdims=True)
        assert np.max(np.abs(fast.data - exact.data) / peak) < tolerance
        np.testing.assert_allclose(fast.data.sum(axis=(1, 2)), exact.data.sum(axis=(1, 2)),
                                   rtol=0.01)
        np.testing.assert_array_equal(fast.flags, exact.flags)
        assert "batched" in fast.meta["resampling"] and "exact" in exact.meta["resampling"]


@pytest.mark.parametrize("scale, reference, tolerance", [
    (0.396, "exact", 0.02),   # DES pixels onto an SDSS-like grid: coarser, box-filtered
    (0.79, "exact", 0.02),    # three DES pixels per cutout pixel: block-averaged
    (1.1, "exact", 0.02),     # blocks of four, then a box 1.05 blocks wide
    (0.263, "interp", 1e-4),  # the tile's own scale: interpolation only
    (0.2, "interp", 1e-4),    # upsampling
])
def test_fast_path_at_each_scale_against_its_reference(mock_survey, scale, reference,
                                                       tolerance):
    """The fast path against the flux-conserving reference where cutout pixels are
    coarser than the image's, and against reproject_interp where they are not."""
    from astropy.nddata import Cutout2D
    from reproject import reproject_interp

    source = mock_survey.source("des")
    catalog = mock_survey.catalog("des")[:6]
    size = 40
    fast = make_cutouts(source, catalog, size=size, pixel_scale=scale * u.arcsec / u.pixel,
                        background=None, bands="r")
    if reference == "exact":
        expected = make_cutouts(source, catalog, size=size, background=None, bands="r",
                                pixel_scale=scale * u.arcsec / u.pixel,
                                resampling="exact").data[..., 0]
    else:
        image = source.images_for("r", None)[0]
        expected = np.empty((len(catalog), size, size))
        for i, centre in enumerate(fast.positions):
            cut = Cutout2D(image.data, centre, (120, 120), wcs=image.wcs, mode="partial",
                           fill_value=np.nan)
            stamp, _ = reproject_interp((cut.data, cut.wcs), tan_wcs(centre, size, scale),
                                        shape_out=(size, size), order="bilinear")
            area = scale**2 / local_pixel_area(image.wcs, centre)
            expected[i] = stamp * area * image.to_nanomaggies
    peak = np.abs(expected).max(axis=(1, 2))
    worst = np.max(np.abs(fast.data[..., 0] - expected).max(axis=(1, 2)) / peak)
    assert worst < tolerance, worst
    np.testing.assert_allclose(fast.data[..., 0].sum(axis=(1, 2)), expected.sum(axis=(1, 2)),
                               rtol=0.01)


def test_box_average_is_the_overlap_weighted_mean():
    rng = np.random.default_rng(3)
    data = rng.random((30, 40))
    x, y = rng.uniform(3, 36, (2, 50)), rng.uniform(3, 26, (2, 50))
    half_x, half_y = np.array([0.75, 1.6]), np.array([0.6, 2.3])
    got = box_average(data, x, y, half_x, half_y)
    # Direct: integrate the piecewise-constant image on a fine grid inside each box.
    fine = 400
    for i in range(2):
        for j in range(50):
            xs = x[i, j] + (np.arange(fine) + 0.5) / fine * 2 * half_x[i] - half_x[i]
            ys = y[i, j] + (np.arange(fine) + 0.5) / fine * 2 * half_y[i] - half_y[i]
            expected = data[np.floor(ys + 0.5).astype(int)][:, np.floor(xs + 0.5).astype(int)]
            assert got[i, j] == pytest.approx(expected.mean(), rel=0.01)
    big_endian = box_average(data.astype(">f8"), x, y, half_x, half_y)  # FITS byte order
    np.testing.assert_array_equal(big_endian, got)
    # Off the image, or over a NaN pixel: no data.
    data[10, 10] = np.nan
    edge = box_average(data, np.array([[0.2, 10.0, 20.0]]), np.array([[5.0, 10.3, 20.0]]),
                       [0.8], [0.8])
    assert np.isnan(edge[0, 0]) and np.isnan(edge[0, 1]) and np.isfinite(edge[0, 2])


def test_cutout_grids_are_made_on_demand():
    centres = SkyCoord([150.0, 150.001], [2.0, 2.001], unit="deg")
    grids = make_cutouts(_flat_source()[0], centres, size=16, bands="r").wcs
    assert len(grids) == 2 and len(grids[0:2]) == 2
    assert grids[1].wcs.crval.tolist() == tan_wcs(centres[1], 16, 0.396).wcs.crval.tolist()


@pytest.mark.parametrize("resampling", RESAMPLING)
def test_only_the_pixels_asked_for_are_computed(mock_survey, resampling):
    catalog = mock_survey.catalog("des")[:3]
    source = mock_survey.source("des")
    mask = np.zeros((32, 32), dtype=bool)
    mask[8:24, 8:24] = True
    mask[0, :] = True
    full = make_cutouts(source, catalog, size=32, background=None, resampling=resampling)
    part = make_cutouts(source, catalog, size=32, background=None, resampling=resampling,
                        pixels=mask)
    np.testing.assert_array_equal(part.data[:, mask], full.data[:, mask])
    assert not np.any(part.data[:, ~mask])
    with pytest.raises(InputError, match="boolean"):
        make_cutouts(source, catalog, size=32, pixels=np.ones((16, 16), dtype=bool))
