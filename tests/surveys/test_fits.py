import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import CCDData, NDData
from astropy.wcs import WCS

from astro_morph import FITSImageSource, InputError, parse_image_input
from astro_morph.surveys import get_survey
from astro_morph.surveys.fits import header_zero_point


def _wcs(crval=(150.0, 2.0), scale=0.396):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(crval)
    wcs.wcs.crpix = [50.5, 50.5]
    wcs.wcs.cdelt = [-scale / 3600, scale / 3600]
    return wcs


@pytest.fixture
def image():
    return np.arange(100 * 100, dtype=np.float32).reshape(100, 100)


def test_every_input_kind_gives_the_same_pixels(image, tmp_path):
    wcs = _wcs()
    hdu = fits.PrimaryHDU(image, wcs.to_header())
    path = tmp_path / "img.fits"
    extension = fits.ImageHDU(image, wcs.to_header(), name="SCI")
    fits.HDUList([fits.PrimaryHDU(), extension]).writeto(path)
    inputs = [(image, wcs), (image, wcs.to_header()), hdu, fits.HDUList([hdu]), str(path), path,
              NDData(image, wcs=wcs), CCDData(image, wcs=wcs, unit="adu")]
    for item in inputs:
        data, parsed_wcs, _, _ = parse_image_input(item)
        np.testing.assert_array_equal(data, image)
        assert parsed_wcs.wcs.ctype[0] == "RA---TAN"
        assert parsed_wcs.pixel_to_world(0, 0).separation(wcs.pixel_to_world(0, 0)).arcsec < 1e-6
    data, _, _, _ = parse_image_input(path, hdu="SCI")
    np.testing.assert_array_equal(data, image)


def test_nan_and_inf_become_nan(image):
    image[0, 0], image[1, 1] = np.inf, -np.inf
    data, _, _, _ = parse_image_input((image, _wcs()))
    assert np.isnan(data[0, 0]) and np.isnan(data[1, 1])


@pytest.mark.parametrize("make,match", [
    (lambda im, tmp: [1, 2, 3], "cannot read an image from a list"),
    (lambda im, tmp: (im, "not a wcs"), "must be an astropy WCS"),
    (lambda im, tmp: (np.ones(10), _wcs()), "expected a 2-d image"),
    (lambda im, tmp: (np.full((10, 10), np.nan), _wcs()), "every pixel is NaN"),
    (lambda im, tmp: (np.array([["a"] * 5] * 5), _wcs()), "real numbers"),
    (lambda im, tmp: fits.PrimaryHDU(im), "no celestial WCS"),
    (lambda im, tmp: NDData(im), "has no WCS"),
    (lambda im, tmp: tmp / "missing.fits", "does not exist"),
])
def test_bad_images_raise_input_error(image, tmp_path, make, match):
    with pytest.raises(InputError, match=match):
        parse_image_input(make(image, tmp_path))


def test_truncated_and_corrupt_files(image, tmp_path):
    good = tmp_path / "good.fits"
    fits.PrimaryHDU(image, _wcs().to_header()).writeto(good)
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(good.read_bytes()[:5000])
    corrupt = tmp_path / "corrupt.fits"
    corrupt.write_bytes(b"this is not a FITS file at all" * 200)
    for path in (truncated, corrupt):
        with pytest.raises(InputError, match="not a readable FITS file|truncated"):
            parse_image_input(path)


def test_source_bands_and_zero_points(image):
    header = _wcs().to_header()
    header["MAGZERO"] = 30.0
    source = FITSImageSource({"g": fits.PrimaryHDU(image, header), "r": (image, _wcs())},
                             survey="des")
    assert source.bands == ("g", "r")
    g, = source.images_for("g", None)
    r, = source.images_for("r", None)
    assert g.zero_point == 30.0 and g.to_nanomaggies == pytest.approx(1e-3)
    assert r.zero_point == get_survey("des").zero_point
    with pytest.raises(InputError, match="not available"):
        source.check_bands(["z"])
    with pytest.raises(InputError, match="are not DES bands"):
        FITSImageSource({"q": (image, _wcs())}, survey="des")
    with pytest.raises(InputError, match="non-empty dict"):
        FITSImageSource([image])
    with pytest.raises(InputError, match="unknown survey"):
        FITSImageSource({"r": (image, _wcs())}, survey="hubble-deep")


def test_header_zero_point_conventions():
    assert header_zero_point(fits.Header({"BUNIT": "nanomaggy"}), get_survey("sdss")) == 22.5
    ps1 = header_zero_point(fits.Header({"EXPTIME": 100.0}), get_survey("ps1"))
    assert ps1 == pytest.approx(30.0)
    assert header_zero_point(fits.Header({"EXPTIME": 100.0}), get_survey("des")) is None


def test_real_decam_ccd_with_tpv_in_extension_1(shared_data):
    folder = shared_data / "fits" / "legacypipe-decam" / "testcase4"
    path = folder / "c4d_170316_062107_ooi_z_ls9.N2.fits"
    data, wcs, header, _ = parse_image_input(path)
    assert data.shape == fits.getdata(path, 1).shape
    assert header["CTYPE1"] == "RA---TPV"
    centre = wcs.pixel_to_world(data.shape[1] / 2, data.shape[0] / 2)
    # README: testcase4 lies at (186.74, 25.46); the TPV terms must be applied.
    assert abs(centre.ra.deg - 186.74) < 0.01 and abs(centre.dec.deg - 25.46) < 0.01
    plain = header.copy()
    plain["CTYPE1"], plain["CTYPE2"] = "RA---TAN", "DEC--TAN"
    for key in [k for k in plain if k.startswith("PV")]:
        del plain[key]
    linear = parse_image_input((data, plain))[1]
    offset = centre.separation(linear.pixel_to_world(data.shape[1] / 2, data.shape[0] / 2))
    assert offset.arcsec > 1.0  # the distortion is real and we did not drop it


def test_real_sdss_stamp_in_nanomaggies(shared_data):
    path = shared_data / "fits" / "celeste-sdss-stamps" / "stamp-r-5.0073-0.0739.fits"
    source = FITSImageSource({"r": path}, survey="sdss")
    image, = source.images_for("r", None)
    assert image.zero_point == 22.5
    assert image.contains(SkyCoord(5.0073, 0.0739, unit="deg"))
