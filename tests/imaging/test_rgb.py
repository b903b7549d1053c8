import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.visualization import make_lupton_rgb

from astro_morph import FITSImageSource, InputError, bands_to_rgb, make_cutouts
from astro_morph.imaging import RGB_Q, RGB_STRETCH
from astro_morph.surveys.info import SKYSERVER_WEIGHTS


def test_matches_astropy_lupton_on_one_image():
    rng = np.random.default_rng(3)
    stamps = rng.gamma(1.0, 0.5, (1, 20, 20, 3)).astype(np.float32)
    ours = bands_to_rgb(stamps, bands=("g", "r", "i"))
    g, r, i = (stamps[0, :, :, k] * SKYSERVER_WEIGHTS[b] for k, b in enumerate("gri"))
    reference = make_lupton_rgb(i, r, g, minimum=0, stretch=RGB_STRETCH, Q=RGB_Q,
                                output_dtype=np.float64)
    np.testing.assert_allclose(ours[0], reference, atol=1e-6)


def test_range_shape_dtype_and_colour(mock_survey):
    cutouts = make_cutouts(mock_survey.source("des"), mock_survey.catalog("des"), size=32)
    rgb = bands_to_rgb(cutouts)
    assert rgb.shape == (len(cutouts), 32, 32, 3) and rgb.dtype == np.float32
    assert rgb.min() >= 0 and rgb.max() <= 1
    centre = rgb[:, 14:18, 14:18].mean(axis=(1, 2))
    labels = np.asarray(mock_survey.catalog("des")["label"])
    redness = centre[:, 0] / centre[:, 2]
    # Ellipticals are redder than spirals, as in the SkyServer images.
    assert np.median(redness[labels == "elliptical"]) > np.median(redness[labels == "spiral"])


def test_sdss_and_des_colour_images_look_alike(mock_survey):
    truth = mock_survey.truth
    bright = truth[np.argsort(truth["r_mag"])[:4]]
    positions = SkyCoord(bright["ra"], bright["dec"])
    sdss, des = (bands_to_rgb(make_cutouts(mock_survey.source(s), positions, size=48))
                 for s in ("sdss", "des"))
    core = slice(18, 30)
    np.testing.assert_allclose(sdss[:, core, core].mean(axis=(1, 2)),
                               des[:, core, core].mean(axis=(1, 2)), atol=0.06)


def test_real_des_and_ps1_colours_agree(sn2006bh):
    position = SkyCoord(27.9520, 0.26352, unit="deg")
    colours = []
    for survey in ("DES", "PS1"):
        source = FITSImageSource({b: sn2006bh / f"{survey}_{b}.fits" for b in "gri"},
                                 survey=survey.lower())
        rgb = bands_to_rgb(make_cutouts(source, position, size=64, recenter=True))
        colours.append(rgb[0, 24:40, 24:40].mean(axis=(0, 1)))
    np.testing.assert_allclose(colours[0], colours[1], atol=0.05)


def test_bad_inputs():
    with pytest.raises(InputError, match="say which band"):
        bands_to_rgb(np.zeros((1, 8, 8, 3)))
    with pytest.raises(InputError, match="shape"):
        bands_to_rgb(np.zeros((1, 8, 8, 2)), bands=("g", "r", "i"))
    with pytest.raises(InputError, match="lack"):
        bands_to_rgb(np.zeros((1, 8, 8, 3)), bands=("u", "g", "r"))
    bad = np.zeros((1, 8, 8, 3))
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        bands_to_rgb(bad, bands=("g", "r", "i"))


def test_blocks_of_images_give_the_pixels_of_one_image_at_a_time():
    # bands_to_rgb maps RGB_BLOCK images at a time; Lupton's mapping is pixel by pixel,
    # so the blocks must not change any pixel, even beside a far brighter image.
    from astro_morph.imaging.rgb import RGB_BLOCK
    rng = np.random.default_rng(3)
    stamps = rng.normal(0, 1, (2 * RGB_BLOCK + 5, 8, 8, 3)).astype(np.float32)
    stamps[RGB_BLOCK + 1] *= 1000
    whole = bands_to_rgb(stamps, bands=("g", "r", "i"))
    alone = np.concatenate([bands_to_rgb(s, bands=("g", "r", "i")) for s in stamps])
    np.testing.assert_array_equal(whole, alone)
