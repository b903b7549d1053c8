"""Survey archives (SDSS, DES via hips2fits, Legacy Survey), offline with mocked responses.

As in astroquery's own tests, the request methods are patched: the tests check what
would be sent (URLs, payloads) and how the answers, built from small files under
tests/data, are parsed. The ``remote_data`` tests at the end fetch one real galaxy
from each service (``pytest --remote-data``).
"""

import json
import pathlib
import warnings
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import requests
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS, FITSFixedWarning

from astro_morph import make_cutouts
from astro_morph.surveys import (
    DES,
    SDSS,
    EmptyResultError,
    LegacySurvey,
    NetworkError,
    conf,
    galaxy_zoo_labels,
)
from astro_morph.surveys import archive as archive_module

pytest.importorskip("astroquery")
from astroquery.sdss.core import SDSSClass  # noqa: E402
from astroquery.utils.mocks import MockResponse  # noqa: E402

DATA = pathlib.Path(__file__).parent / "data"
HOST = SkyCoord(27.9520417 * u.deg, 0.2635278 * u.deg)  # SN2006bh's host galaxy
NEIGHBOUR = SkyCoord(27.9012003 * u.deg, 0.2401551 * u.deg)


@pytest.fixture(autouse=True)
def fresh_config(tmp_path, monkeypatch):
    """No back-off waits, and a private astropy cache directory for the index files."""
    (tmp_path / "cache" / "astropy").mkdir(parents=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with conf.set_temp("backoff", 0.0), conf.set_temp("retries", 3):
        yield


@pytest.fixture
def sdss_server(monkeypatch):
    """SkyServer answers from tests/data; every request is recorded."""
    calls, answers = [], {"crossid": "sdss_crossid.csv", "sql": "sdss_zoospec.csv"}

    def request(self, method, url, **kwargs):
        if "fDocColumns" in str(kwargs.get("params")):
            # astroquery's field-name check: a non-JSON answer makes it use its
            # bundled DR12 field lists.
            return MockResponse(b"no schema here", url=url)
        calls.append({"method": method, "url": url, **kwargs})
        if "files" not in kwargs:
            return MockResponse((DATA / answers["sql"]).read_bytes(), url=url)
        # SkyServer answers one row per uploaded position it matched ('obj_<n>').
        n_uploaded = len(kwargs["files"]["upload"][1].strip().splitlines()) - 1
        lines = (DATA / answers["crossid"]).read_text().splitlines()
        kept = lines[:2] + [line for line in lines[2:]
                            if int(line.split(",")[0].split("_")[1]) < n_uploaded]
        return MockResponse("\n".join(kept).encode(), url=url)

    monkeypatch.setattr(SDSSClass, "_request", request)
    return calls, answers


def _sdss_frame(path, band, galaxies=(HOST, NEIGHBOUR)):
    """A frame with the real SDSS header layout (rotated CD matrix, nanomaggies)."""
    header = fits.Header.fromtextfile(str(DATA / "sdss_frame_header.txt"))
    header["FILTER"] = band
    with warnings.catch_warnings():  # real frames still carry the deprecated RADECSYS
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(header)
    ny, nx = header["NAXIS2"], header["NAXIS1"]
    data = np.random.default_rng(1).normal(0, 0.01, (ny, nx)).astype(np.float32)
    yy, xx = np.mgrid[:ny, :nx]
    for galaxy in galaxies:
        x, y = wcs.world_to_pixel(galaxy)
        box = (slice(int(y) - 40, int(y) + 41), slice(int(x) - 40, int(x) + 41))
        data[box] += 5 * np.exp(-((xx[box] - x) ** 2 + (yy[box] - y) ** 2) / 50)
    fits.PrimaryHDU(data, header).writeto(path)
    return path


@pytest.fixture
def downloads(monkeypatch, tmp_path):
    """astropy's download_file, answered by a function of the URL; URLs recorded."""
    state = {"urls": [], "cached": set(), "fail": 0, "answer": None}

    def download_file(url, cache=True, **kwargs):
        state["urls"].append(url)
        if state["fail"] > 0:
            state["fail"] -= 1
            raise requests.exceptions.ConnectionError("connection reset by peer")
        path = state["answer"](url, tmp_path / f"download_{len(state['urls'])}.fits")
        state["cached"].add(url)
        return str(path)

    monkeypatch.setattr(archive_module, "download_file", download_file)
    monkeypatch.setattr(archive_module, "is_url_in_cache", lambda url: url in state["cached"])
    return state


def _frame_answer(url, path):
    band = url.split("frame-")[1][0]
    return _sdss_frame(path, band)


# -- SDSS --------------------------------------------------------------------------------
def test_sdss_frames_feed_make_cutouts(sdss_server, downloads):
    calls, _ = sdss_server
    downloads["answer"] = _frame_answer
    source = SDSS(radius=5 * u.arcsec)
    cutouts = make_cutouts(source, SkyCoord([HOST, NEIGHBOUR]), size=32)
    assert cutouts.data.shape == (2, 32, 32, 3)
    assert cutouts.bands == ("g", "r", "i")
    # The galaxy sits at the centre of its cutout.
    assert np.unravel_index(np.argmax(cutouts.data[0, :, :, 1]), (32, 32)) in {
        (15, 15), (15, 16), (16, 15), (16, 16)}
    # One crossid query for both positions, with the payload SkyServer expects.
    (call,) = calls
    assert call["method"] == "POST" and "dr17" in call["url"].lower()
    assert call["data"]["radius"] == pytest.approx(5 / 60)
    uploaded = call["files"]["upload"][1]
    assert "obj_0 27.9520417" in uploaded and "obj_1 27.9012003" in uploaded
    for name in ("p.run", "p.rerun", "p.camcol", "p.field"):
        assert name in call["data"]["uquery"]
    # One frame per band, from the Science Archive Server's frame path, fetched once.
    assert sorted(u.split("/")[-1] for u in downloads["urls"]) == [
        f"frame-{b}-004263-1-0191.fits.bz2" for b in "gir"]
    assert all("/dr17/eboss/photoObj/frames/301/4263/1/" in u for u in downloads["urls"])
    make_cutouts(source, HOST, size=16)
    assert len(downloads["urls"]) == 3 and len(calls) == 1  # frames and index reused


def test_sdss_offline_mode_uses_only_the_cache(sdss_server, downloads):
    calls, _ = sdss_server
    downloads["answer"] = _frame_answer
    SDSS().images_for("r", HOST)  # online: look-up and frame cached
    with conf.set_temp("offline", True):
        assert len(SDSS().images_for("r", HOST)) == 1
        with pytest.raises(NetworkError, match="offline mode.*not in the download cache"):
            SDSS().images_for("g", HOST)
        with pytest.raises(NetworkError, match=r"offline mode, and the frames of \(27\.90120"):
            SDSS().images_for("r", NEIGHBOUR)
    assert len(calls) == 1


def test_sdss_retries_then_network_error_naming_the_service(sdss_server, downloads):
    downloads["answer"] = _frame_answer
    downloads["fail"] = 2  # two failures, then success on the third attempt
    assert len(SDSS().images_for("g", HOST)) == 1
    downloads["fail"] = 5
    with pytest.raises(NetworkError, match="SDSS Science Archive Server.*3 attempt"):
        SDSS().images_for("r", HOST)


def test_sdss_empty_result_names_the_positions(sdss_server):
    _, answers = sdss_server
    answers["crossid"] = "sdss_crossid_empty.csv"
    with pytest.raises(EmptyResultError, match=r"\(150\.00000, \+2\.00000\).*footprint"):
        SDSS().fields_for(SkyCoord(150 * u.deg, 2 * u.deg))


def test_galaxy_zoo_labels_for_positions(sdss_server):
    calls, answers = sdss_server
    answers["crossid"] = "sdss_crossid_objid.csv"
    labels = galaxy_zoo_labels(Table({"ra": [HOST.ra.deg, NEIGHBOUR.ra.deg],
                                      "dec": [HOST.dec.deg, NEIGHBOUR.dec.deg]}))
    assert list(labels["label"]) == ["spiral", "elliptical"]
    assert list(labels["input_row"]) == [0, 1]
    assert labels["p_cs_debiased"][0] == pytest.approx(0.903)
    sql = calls[-1]["params"]["cmd"]
    assert "FROM zooSpec" in sql and "1237663784206139437" in sql
    with pytest.raises(Exception, match="either positions or objids"):
        galaxy_zoo_labels()


# -- DES through hips2fits ---------------------------------------------------------------
def _hips2fits_answer(url, path):
    """Render a galaxy at the WCS hips2fits was asked for."""
    query = parse_qs(urlparse(url).query)
    header = fits.Header(json.loads(query["wcs"][0]))
    wcs = WCS(header)
    ny, nx = header["NAXIS2"], header["NAXIS1"]
    yy, xx = np.mgrid[:ny, :nx]
    x, y = wcs.world_to_pixel(HOST)
    data = 100 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 80.0)
    fits.PrimaryHDU(data.astype(np.float32), wcs.to_header()).writeto(path)
    return path


def test_des_requests_hips2fits_at_the_des_pixel_scale(downloads):
    downloads["answer"] = _hips2fits_answer
    source = DES(field=40 * u.arcsec)
    cutouts = make_cutouts(source, HOST, size=32, pixel_scale=0.263 * u.arcsec / u.pixel)
    assert cutouts.data.shape == (1, 32, 32, 3) and cutouts.flags[0] == 0
    urls = downloads["urls"]
    assert len(urls) == 3
    query = parse_qs(urlparse(urls[0]).query)
    assert query["hips"] == ["CDS/P/DES-DR2/g"] and query["format"] == ["fits"]
    header = json.loads(query["wcs"][0])
    assert header["NAXIS1"] == 153 and header["CRVAL1"] == pytest.approx(27.9520417)
    assert abs(header["CDELT1"]) * 3600 == pytest.approx(0.263)
    assert urls[0].startswith("https://alasky")


def test_des_outside_the_footprint(downloads):
    downloads["answer"] = lambda url, path: fits.PrimaryHDU(
        np.zeros((21, 21), np.float32), WCS(fits.Header(json.loads(
            parse_qs(urlparse(url).query)["wcs"][0]))).to_header()).writeto(path) or path
    with pytest.raises(EmptyResultError, match="outside the DES footprint"):
        DES(field=5 * u.arcsec).images_for("g", HOST)


# -- Legacy Survey -----------------------------------------------------------------------
def _legacy_answer(url, path):
    query = parse_qs(urlparse(url).query)
    size, scale = int(query["size"][0]), float(query["pixscale"][0])
    ra, dec = float(query["ra"][0]), float(query["dec"][0])
    header = fits.Header()
    header["CTYPE1"], header["CTYPE2"], header["CTYPE3"] = "RA---TAN", "DEC--TAN", "BAND"
    header["CRVAL1"], header["CRVAL2"] = ra, dec
    header["CRPIX1"] = header["CRPIX2"] = (size + 1) / 2
    header["CD1_1"], header["CD2_2"] = -scale / 3600, scale / 3600
    header["CD1_2"] = header["CD2_1"] = 0.0
    for i, band in enumerate(query["bands"][0]):
        header[f"BAND{i}"] = band
    yy, xx = np.mgrid[:size, :size]
    blob = np.exp(-((xx - (size - 1) / 2) ** 2 + (yy - (size - 1) / 2) ** 2) / 60.0)
    cube = np.stack([blob * (i + 1) for i in range(len(query["bands"][0]))])
    fits.PrimaryHDU(cube.astype(np.float32), header).writeto(path)
    return path


def test_legacy_survey_one_request_per_galaxy_all_bands(downloads):
    downloads["answer"] = _legacy_answer
    source = LegacySurvey(field=30 * u.arcsec)
    cutouts = make_cutouts(source, HOST, size=32, pixel_scale=0.262 * u.arcsec / u.pixel)
    assert cutouts.bands == ("g", "r", "z") and cutouts.data.shape == (1, 32, 32, 3)
    (url,) = downloads["urls"]  # the three bands came in one cube
    query = parse_qs(urlparse(url).query)
    assert query["layer"] == ["ls-dr10"] and query["bands"] == ["grz"]
    assert query["size"] == ["115"] and query["pixscale"] == ["0.262"]
    assert url.startswith("https://www.legacysurvey.org/viewer/fits-cutout?")
    # Planes are in band order: z is three times g.
    ratio = cutouts.data[0, :, :, 2].sum() / cutouts.data[0, :, :, 0].sum()
    assert ratio == pytest.approx(3, rel=0.05)


def test_legacy_survey_falls_back_to_its_mirror(downloads):
    downloads["answer"] = _legacy_answer
    downloads["fail"] = 3  # every attempt on the first mirror fails
    images = LegacySurvey(field=20 * u.arcsec).images_for("r", HOST)
    assert len(images) == 1 and "viewer-dev" in downloads["urls"][-1]


@pytest.mark.parametrize("make_source, answer", [
    (lambda: SDSS(), _frame_answer), (lambda: DES(), _hips2fits_answer),
    (lambda: LegacySurvey(), _legacy_answer)], ids=["sdss", "des", "legacy"])
def test_every_archive_source_classifies_end_to_end(make_source, answer, sdss_server,
                                                    downloads, tmp_path):
    """What docs/archives.rst promises: an archive source works wherever a FITS source
    does, through classify, classify_catalog and bands_to_rgb (offline answers)."""
    from astro_morph import bands_to_rgb, classify, classify_catalog
    from astro_morph.surveys import SURVEYS

    downloads["answer"] = answer
    source = make_source()
    table = Table({"ra": [HOST.ra.deg], "dec": [HOST.dec.deg]})
    result = classify(table, source)
    assert result.meta["AMSURVEY"] == source.survey.key and source.survey.key in SURVEYS
    assert 0 <= result["p_spiral"][0] <= 1 and result["flag"][0] == 0
    written = classify_catalog(table, source, str(tmp_path / "out.fits"), progress=False)
    assert written["p_spiral"][0] == pytest.approx(result["p_spiral"][0], abs=1e-6)
    rgb = bands_to_rgb(make_cutouts(source, HOST, size=32))
    assert rgb.shape == (1, 32, 32, 3) and rgb[0, 16, 16].sum() > rgb[0, 0, 0].sum()


def test_bad_arguments():
    with pytest.raises(Exception, match="3 arcmin"):
        SDSS(radius=10 * u.arcmin)
    with pytest.raises(Exception, match="512"):
        LegacySurvey(field=10 * u.arcmin)
    with pytest.raises(Exception, match="not available"):
        LegacySurvey(bands="gri")


# -- the real services (pytest --remote-data) -------------------------------------------
@pytest.mark.remote_data
def test_remote_sdss_host_of_sn2006bh():
    cutouts = make_cutouts(SDSS(), HOST, size=64)
    assert cutouts.flags[0] == 0 and cutouts.data[0, :, :, 1].max() > 0.5  # nanomaggies


@pytest.mark.remote_data
def test_remote_des_host_of_sn2006bh():
    cutouts = make_cutouts(DES(field=60 * u.arcsec), HOST, size=64,
                           pixel_scale=0.263 * u.arcsec / u.pixel)
    assert cutouts.flags[0] == 0 and np.isfinite(cutouts.data).all()


@pytest.mark.remote_data
def test_remote_legacy_survey_host_of_sn2006bh():
    cutouts = make_cutouts(LegacySurvey(field=60 * u.arcsec), HOST, size=64,
                           pixel_scale=0.262 * u.arcsec / u.pixel)
    assert cutouts.flags[0] == 0 and cutouts.data[0, :, :, 1].max() > 0.5


@pytest.mark.remote_data
def test_remote_galaxy_zoo_label_of_a_gz1_elliptical():
    # DR7 objid of a Galaxy Zoo 1 galaxy voted elliptical (first rows of the GZ1 image set).
    labels = galaxy_zoo_labels(objids=[587722981742215240])
    assert len(labels) == 1 and labels["dr7objid"][0] == 587722981742215240
    assert labels["p_el"][0] > labels["p_cs"][0]
