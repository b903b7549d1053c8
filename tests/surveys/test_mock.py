import numpy as np
import pytest
from astropy import units as u

from astro_morph import MockSurvey, crossmatch, make_cutouts
from astro_morph.surveys import FITSImageSource


def test_deterministic_given_a_seed():
    a, b = MockSurvey(n_galaxies=5, seed=3), MockSurvey(n_galaxies=5, seed=3)
    np.testing.assert_array_equal(a.hdus("sdss")["r"].data, b.hdus("sdss")["r"].data)
    assert list(a.catalog("des")["truth_id"]) == list(b.catalog("des")["truth_id"])
    c = MockSurvey(n_galaxies=5, seed=4)
    assert not np.array_equal(a.hdus("sdss")["r"].data, c.hdus("sdss")["r"].data)


def test_truth_distributions():
    truth = MockSurvey(n_galaxies=400, seed=1).truth
    spirals = truth["label"] == "spiral"
    assert 0.4 < spirals.mean() < 0.6
    assert set(np.unique(truth["sersic_n"][~spirals])) <= {3.0, 3.5, 4.0, 4.5, 5.0, 5.5}
    assert {"faint", "small", "edge_on"} <= set(truth["hard_case"])
    assert truth["half_light_radius"].unit == u.arcsec
    edge_on = truth["hard_case"] == "edge_on"
    assert np.all(truth["axis_ratio"][edge_on & spirals] < 0.2)
    # The classes overlap, as real ones do: some spirals are redder than some ellipticals
    # (colour scatter) and about a quarter are early types with big bulges.
    shift = truth["colour_shift"].to_value(u.mag)
    assert shift[spirals].std() > 2 * shift[~spirals].std() > 0
    disc_g_r = 0.45 + shift[spirals]
    elliptical_g_r = 0.75 + shift[~spirals]
    assert np.mean(disc_g_r > np.percentile(elliptical_g_r, 5)) > 0.005
    early = truth["bulge_fraction"][spirals] >= 0.45
    assert 0.15 < early.mean() < 0.35


def test_catalogs_need_crossmatching(mock_survey):
    sdss, des = mock_survey.catalog("sdss"), mock_survey.catalog("des")
    assert list(sdss["truth_id"]) != list(des["truth_id"])  # shuffled independently
    assert np.all(sdss["r_mag"].value <= 19.0)
    matched = crossmatch(sdss, des, max_separation=1 * u.arcsec)
    assert np.all(matched["truth_id"] == matched["truth_id_2"])
    assert len(matched) == len(sdss)
    assert 0.01 < np.median(matched["separation"]) < 0.5


def test_two_surveys_have_their_own_grids(mock_survey):
    sdss, des = mock_survey.hdus("sdss")["r"], mock_survey.hdus("des")["r"]
    assert sdss.header["CDELT2"] * 3600 == pytest.approx(0.396)
    assert des.header["CDELT2"] * 3600 == pytest.approx(0.263)
    assert des.data.shape[0] > sdss.data.shape[0]
    # DES-like is deeper: lower pixel noise in nanomaggies.
    assert np.std(des.data[:20, :20]) < 0.3 * np.std(sdss.data[:20, :20])


def test_spirals_have_structure_ellipticals_are_smooth(mock_survey):
    catalog = mock_survey.catalog("des")
    cutouts = make_cutouts(mock_survey.source("des"), catalog, size=48)
    residual = []
    for stamp in cutouts.band("r"):
        rotated = np.rot90(stamp, 2)  # point-symmetric part removed: arms and knots remain
        residual.append(np.abs(stamp - rotated).sum() / np.abs(stamp).sum())
    residual, labels = np.array(residual), np.asarray(catalog["label"])
    assert np.median(residual[labels == "spiral"]) > np.median(residual[labels == "elliptical"])


def test_write_files_readable(tmp_path):
    mock = MockSurvey(n_galaxies=3, seed=2)
    paths = mock.write(tmp_path)
    source = FITSImageSource(paths["des"]["images"], survey="des")
    assert source.bands == ("g", "r", "i")
    assert (tmp_path / "mock_sdss_catalog.ecsv").exists()


def test_hundreds_of_galaxies_render_with_their_catalogue_flux():
    mock = MockSurvey(n_galaxies=200, seed=9)
    expected = np.sum(10 ** (-0.4 * (mock.truth["r_mag"].value - 22.5)))
    assert mock.hdus("sdss")["r"].data.sum() == pytest.approx(expected, rel=0.03)
