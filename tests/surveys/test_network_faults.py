"""Archive downloads against a real HTTP server on 127.0.0.1 that injects the faults a
survey-scale run meets: error pages, 5xx, 404, cut-off and reset transfers, time-outs,
damaged cache entries, processes filling one cache at once, and kills mid-download."""

import gc
import io
import logging
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from astropy.config import paths
from astropy.io import fits
from astropy.utils.data import is_url_in_cache

from astro_morph.surveys import EmptyResultError, NetworkError, conf
from astro_morph.surveys.archive import cached_download, is_complete_fits


def _fits_bytes(seed=0):
    buffer = io.BytesIO()
    data = np.random.default_rng(seed).random((64, 64)).astype(np.float32)
    fits.PrimaryHDU(data).writeto(buffer)
    return buffer.getvalue()


GOOD = _fits_bytes()
ZOO = (pathlib.Path(__file__).parent / "data" / "sdss_zoospec.csv").read_bytes()

# urllib leaves the sockets of timed-out, reset and cut-off requests to the garbage
# collector; collect them after each test here, where their warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning",
                                        "ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(autouse=True)
def _collect_leaked_sockets():
    yield
    gc.collect()


class Faults(BaseHTTPRequestHandler):
    """Routes: /ok, /flaky (503 twice), /page (HTML), /cut (half the body), /healing
    (cut once, then whole), /missing (404), /slow (answers after 3 s), /reset (closes
    after the headers), /trickle (the body over 4 s)."""

    counts = {}

    def log_message(self, *args):  # keep the test output clean
        pass

    def _send(self, status, body, length=None, content_type="application/fits"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def handle(self):
        try:
            super().handle()
        except OSError:  # the client gave up first (a time-out, a kill): expected here
            self.close_connection = True

    def do_GET(self):
        route = self.path.split("?")[0].strip("/").split("/")[0].split(".")[0]
        count = Faults.counts[self.path] = Faults.counts.get(self.path, 0) + 1
        if route.startswith("ok"):
            self._send(200, GOOD)
        elif route == "flaky":
            self._send(503, b"busy") if count <= 2 else self._send(200, GOOD)
        elif route == "page":
            self._send(200, b"<html><body>Service unavailable</body></html>",
                       content_type="text/html")
        elif route == "cut" or (route == "healing" and count == 1):
            self._send(200, GOOD[:len(GOOD) // 2], length=len(GOOD))
            self.close_connection = True
        elif route == "healing":
            self._send(200, GOOD)
        elif route == "missing":
            self._send(404, b"not found", content_type="text/plain")
        elif route == "slow":
            time.sleep(3)
            self._send(200, GOOD)
        elif route == "reset":
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.connection.shutdown(2)
            self.close_connection = True
        elif route == "zooflaky":  # a SkyServer SQL search: busy twice, then the answer
            if count <= 2:
                self._send(503, b"busy")
            else:
                self._send(200, ZOO, content_type="text/plain")
        elif route == "zoopage":
            self._send(200, b"<html><body>Maintenance</body></html>", content_type="text/html")
        elif route == "zoomissing":
            self._send(404, b"not found", content_type="text/plain")
        elif route == "trickle":
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            for start in range(0, len(GOOD), len(GOOD) // 40):
                self.wfile.write(GOOD[start:start + len(GOOD) // 40])
                self.wfile.flush()
                time.sleep(0.1)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Faults)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path):
    """A download cache of this test alone, quick retries and a short time-out."""
    (tmp_path / "astropy").mkdir()
    with paths.set_temp_cache(tmp_path), conf.set_temp("retries", 3), \
            conf.set_temp("backoff", 0.01), conf.set_temp("timeout", 1):
        yield tmp_path


def test_a_good_file_is_downloaded_once_and_served_from_the_cache(server, cache):
    url = f"{server}/ok.fits"
    path = cached_download(url, "test archive")
    assert is_complete_fits(path) and is_url_in_cache(url)
    assert cached_download(url, "test archive") == path
    assert Faults.counts["/ok.fits"] == 1


def test_server_errors_are_retried_with_back_off(server, cache, caplog):
    with caplog.at_level(logging.WARNING, logger="astro_morph"):
        path = cached_download(f"{server}/flaky.fits", "test archive")
    assert is_complete_fits(path)
    assert Faults.counts["/flaky.fits"] == 3
    assert sum("retrying" in record.message for record in caplog.records) == 2


@pytest.mark.parametrize("route, problem", [
    ("page", "no complete FITS file"),
    ("cut", "supposed to be 20160 bytes but we only got 10080"),
    ("slow", "timed out|timeout"),
    ("reset", "Connection|closed|reset|Remote end|IncompleteRead|incomplete"),
])
def test_faults_end_in_a_network_error_naming_url_and_settings(server, cache, route, problem):
    url = f"{server}/{route}.fits"
    with pytest.raises(NetworkError) as info:
        cached_download(url, "test archive")
    message = str(info.value)
    assert url in message and "failed after 3 attempt(s)" in message
    assert "conf.timeout / .retries" in message
    assert re.search(problem, message, flags=re.IGNORECASE), message
    assert not is_url_in_cache(url)  # nothing incomplete is ever served later


def test_a_cut_off_transfer_is_fetched_again(server, cache):
    path = cached_download(f"{server}/healing.fits", "test archive")
    assert is_complete_fits(path) and Faults.counts["/healing.fits"] == 2


def test_off_the_footprint_is_a_footprint_error_at_once(server, cache):
    with pytest.raises(EmptyResultError, match="HTTP 404.*footprint"):
        cached_download(f"{server}/missing.fits", "test archive")
    assert Faults.counts["/missing.fits"] == 1  # 404 is not retried


def test_a_damaged_cache_entry_is_never_served(server, cache):
    url = f"{server}/ok-damaged.fits"
    path = cached_download(url, "test archive")
    with open(path, "r+b") as handle:  # a disk or an old writer cut the cached copy
        handle.truncate(3000)
    with conf.set_temp("offline", True), pytest.raises(NetworkError, match="damaged"):
        cached_download(url, "test archive")
    assert not is_url_in_cache(url)
    again = cached_download(url, "test archive")
    assert is_complete_fits(again) and Faults.counts["/ok-damaged.fits"] == 2


_DOWNLOADER = """
import sys
from astropy.config import paths
from astro_morph.surveys.archive import cached_download, is_complete_fits
with paths.set_temp_cache(sys.argv[1]):
    for url in sys.argv[2:]:
        assert is_complete_fits(cached_download(url, "test archive"))
"""


def test_processes_filling_one_cache_at_once(server, cache):
    urls = [f"{server}/ok{i}.fits" for i in range(6)]
    processes = [subprocess.Popen([sys.executable, "-c", _DOWNLOADER, str(cache),
                                   *urls[k:] + urls[:k]]) for k in range(4)]
    assert [p.wait(timeout=120) for p in processes] == [0] * 4
    for url in urls:  # every entry whole, each served from the cache afterwards
        assert is_url_in_cache(url) and is_complete_fits(cached_download(url, "test archive"))


@pytest.mark.slow
def test_a_download_killed_midway_leaves_nothing_that_looks_whole(server, cache):
    url = f"{server}/trickle.fits"
    process = subprocess.Popen([sys.executable, "-c", _DOWNLOADER, str(cache), url])
    deadline = time.monotonic() + 60
    while Faults.counts.get("/trickle.fits", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # a quarter of the body has arrived
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not is_url_in_cache(url)
    with conf.set_temp("timeout", 10):
        assert is_complete_fits(cached_download(url, "test archive"))


@pytest.mark.parametrize("route, expected", [
    ("zooflaky", None),
    ("zoopage", "failed after 3 attempt"),
    ("zoomissing", "failed after 3 attempt"),
])
def test_galaxy_zoo_label_queries_under_faults(server, cache, route, expected):
    sdss = pytest.importorskip("astroquery.sdss")
    from astro_morph.surveys import galaxy_zoo_labels

    with sdss.conf.set_temp("skyserver_baseurl", f"{server}/{route}/"), \
            conf.set_temp("cache", False):
        if expected is None:
            labels = galaxy_zoo_labels(objids=[1237663784206139437])
            assert "label" in labels.colnames and len(labels) >= 1
        else:
            with pytest.raises(NetworkError, match=expected) as info:
                galaxy_zoo_labels(objids=[1237663784206139437])
            assert "SDSS" in str(info.value) and "conf.timeout / .retries" in str(info.value)
