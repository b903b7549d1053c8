"""What every archive-backed image source shares: configuration, cache, retries, errors.

Downloads go through astropy's download cache (``astropy.utils.data``), so a
file fetched once is reused by later runs and by other astropy-affiliated
packages; ``conf.offline = True`` uses only that cache.
"""

import http.client
import importlib
import time
import urllib.error
import warnings

from astropy import config as _config
from astropy.io import fits
from astropy.utils.data import clear_download_cache, download_file, is_url_in_cache

from astro_morph.exceptions import AstroMorphError, FootprintError, MissingDependencyError
from astro_morph.logger import log
from astro_morph.surveys.base import ImageSource, each_position, position_key

__all__ = ["ArchiveSource", "conf", "Conf", "NetworkError", "EmptyResultError",
           "IncompleteFileError", "with_retries", "cached_download", "is_complete_fits",
           "require", "CutoutService"]


class Conf(_config.ConfigNamespace):
    """Configuration of archive access (``astro_morph.surveys.conf``).

    Change values for the running Python process (``conf.timeout = 120``), temporarily
    (``with conf.set_temp("offline", True): ...``) or in the astropy
    configuration file of astro_morph.
    """

    timeout = _config.ConfigItem(60, "Seconds before a request to an archive gives up.")
    retries = _config.ConfigItem(3, "Attempts per request before a NetworkError.")
    backoff = _config.ConfigItem(2.0, "Seconds before the first retry; doubled each time.")
    offline = _config.ConfigItem(False, "Use only files already in the download cache.")
    cache = _config.ConfigItem(True, "Keep downloaded files in astropy's download cache.")
    legacy_cutout_url = _config.ConfigItem(
        ["https://www.legacysurvey.org/viewer/fits-cutout",
         "https://www.legacysurvey.org/viewer-dev/fits-cutout"],
        "Legacy Survey FITS cutout service and its mirrors, tried in order.",
        cfgtype="string_list")
    legacy_layer = _config.ConfigItem("ls-dr10", "Legacy Survey data release layer.")
    des_hips = _config.ConfigItem("CDS/P/DES-DR2/{band}",
                                  "HiPS identifier of the DES DR2 band images at CDS.")
    sdss_release = _config.ConfigItem(17, "SDSS data release of the frames.")


conf = Conf()


class NetworkError(AstroMorphError, ConnectionError):
    """An archive could not be reached, or answered with an error, after retries."""


class EmptyResultError(FootprintError):
    """An archive answered, but holds no data for the positions asked for.

    A kind of `~astro_morph.FootprintError`: with ``on_error="flag"``,
    `~astro_morph.make_cutouts` flags such rows and goes on.
    """


def require(module, feature):
    """Import an optional dependency, or raise `~astro_morph.MissingDependencyError`
    naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs {module.split('.')[0]}: pip install "
            "\"astro_morph[surveys]\"") from exc


class IncompleteFileError(OSError):
    """A download gave a file that is not what was asked for (an error page, a cut-off
    transfer); it was removed from the cache and is retried like a network error."""


def with_retries(function, service, *, what="request"):
    """Call ``function()`` up to ``conf.retries`` times with exponential back-off.

    Connection problems, timeouts, HTTP errors other than 404 and incomplete
    files are retried (``conf.backoff`` seconds, doubled each time); when every
    attempt failed a `NetworkError` names the service, the last problem and the
    settings to change. HTTP 404 (nothing at that address, e.g. a position off
    a survey's footprint) raises `EmptyResultError` at once.
    """
    try:  # astroquery's requests, where astroquery is installed
        requests = importlib.import_module("requests")
        request_errors = (requests.exceptions.RequestException,)
    except ImportError:
        request_errors = ()
    retryable = (*request_errors, ConnectionError, TimeoutError, OSError,
                 http.client.HTTPException)
    attempts = max(1, int(conf.retries))
    delay = float(conf.backoff)
    for attempt in range(1, attempts + 1):
        try:
            return function()
        except AstroMorphError:
            raise
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise EmptyResultError(
                    f"{service}: nothing at {exc.url or what} (HTTP 404); the position may "
                    "lie outside the survey's footprint.") from exc
            problem = exc
        except retryable as exc:
            problem = exc
        if attempt == attempts:
            raise NetworkError(
                f"{service}: {what} failed after {attempts} attempt(s) ({problem}); check the "
                "connection, raise astro_morph.surveys.conf.timeout / .retries, or use "
                "files already downloaded with conf.offline = True.") from problem
        log.warning("%s: %s failed (%s); retrying in %.1f s", service, what, problem, delay)
        time.sleep(delay)
        delay *= 2


def is_complete_fits(path):
    """True when ``path`` is a FITS file whose every HDU reads whole.

    An HTML error page, an empty file or a cut-off transfer is not.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "page.fits"
    >>> _ = path.write_text("<html>Service unavailable</html>")
    >>> is_complete_fits(path)
    False
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # astropy only warns of a truncated file
            # Our own handle: closed even when astropy gives up half-way through.
            with open(path, "rb") as handle, fits.open(handle, memmap=False) as hdulist:
                for hdu in hdulist:
                    hdu.data  # noqa: B018  (reading the data is the check)
        return True
    except Exception:  # any failure to read means an incomplete or foreign file
        return False


def cached_download(url, service, *, progress=False):
    """Path of ``url``'s FITS file in astropy's download cache, downloading it if needed.

    Every file is checked before it is used (`is_complete_fits`): one that is
    not a complete FITS file -- an HTML error page, a cut-off transfer, a
    damaged cache entry -- is removed from the cache and fetched again, never
    served. Downloads go to a temporary file that appears under the URL only
    once complete (astropy's cache), so a killed download leaves nothing that
    looks whole. With ``conf.offline`` only the cache is used, and a missing
    or damaged file raises `NetworkError` saying so.
    """
    if conf.offline:
        if not is_url_in_cache(url):
            raise NetworkError(f"{service}: offline mode and {url} is not in the download "
                               "cache; set astro_morph.surveys.conf.offline = False to fetch it.")
        path = download_file(url, cache=True)
        if not is_complete_fits(path):
            clear_download_cache(url)
            raise NetworkError(f"{service}: the cached copy of {url} was damaged and has "
                               "been removed; set astro_morph.surveys.conf.offline = False "
                               "to fetch it again.")
        return path

    def fetch():
        path = download_file(url, cache=bool(conf.cache), timeout=float(conf.timeout),
                             show_progress=progress)
        if not is_complete_fits(path):
            clear_download_cache(url)
            raise IncompleteFileError(f"{url} gave no complete FITS file (an error page or a "
                                      "cut-off transfer)")
        return path

    return with_retries(fetch, service, what=f"download of {url}")


class ArchiveSource(ImageSource):
    """What every archive source shares: its survey, the bands asked for, a progress
    bar per download. Subclasses implement ``images_for`` and ``identity``."""

    def __init__(self, survey, *, bands, progress):
        super().__init__(survey)
        self.progress = progress
        self._bands = self.check_bands(bands)

    @property
    def bands(self):
        """The bands this source was asked for."""
        return getattr(self, "_bands", self.survey.bands)


class CutoutService(ArchiveSource):
    """Archive sources that fetch one cutout per position from a web service.

    Subclasses implement ``_fetch(coord, band)`` returning a
    `~astro_morph.surveys.BandImage`; this class keeps them per (position, band),
    so the bands of a galaxy and repeated calls cost one request each.
    """

    def images_for(self, band, coords):
        """One image per position in ``band``, fetched once (then kept)."""
        self.check_bands((band,))
        cache = self.__dict__.setdefault("_fetched", {})
        images = []
        for coord in each_position(coords):
            key = (position_key(coord), band)
            if key not in cache:
                cache[key] = self._fetch(coord, band)
            images.append(cache[key])
        return images
