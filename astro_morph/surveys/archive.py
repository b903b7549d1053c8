"""What every archive-backed image source shares: configuration, cache, retries, errors.

Downloads go through astropy's download cache (``astropy.utils.data``), so a
file fetched once is reused by later runs and by other astropy-affiliated
packages; ``conf.offline = True`` uses only that cache.
"""

import importlib
import time

from astropy import config as _config
from astropy.utils.data import download_file, is_url_in_cache

from astro_morph.catalogs.positions import parse_positions
from astro_morph.exceptions import AstroMorphError, FootprintError, MissingDependencyError
from astro_morph.logger import log

__all__ = ["conf", "Conf", "NetworkError", "EmptyResultError", "with_retries",
           "cached_download", "require", "CutoutService"]


class Conf(_config.ConfigNamespace):
    """Configuration of archive access (``astro_morph.surveys.conf``).

    Change values for a session (``conf.timeout = 120``), temporarily
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


def with_retries(function, service, *, what="request"):
    """Call ``function()`` up to ``conf.retries`` times with exponential back-off.

    Connection problems, timeouts and HTTP errors are retried; when every
    attempt failed a `NetworkError` names the service and the last problem.
    """
    import requests  # astroquery's dependency; astropy downloads raise URLError/OSError

    retryable = (requests.exceptions.RequestException, ConnectionError, TimeoutError, OSError)
    attempts = max(1, int(conf.retries))
    delay = float(conf.backoff)
    for attempt in range(1, attempts + 1):
        try:
            return function()
        except AstroMorphError:
            raise
        except retryable as exc:
            if attempt == attempts:
                raise NetworkError(
                    f"{service}: {what} failed after {attempts} attempt(s) ({exc}); check the "
                    "connection, raise astro_morph.surveys.conf.timeout / .retries, or use "
                    "files already downloaded with conf.offline = True.") from exc
            log.warning("%s: %s failed (%s); retrying in %.0f s", service, what, exc, delay)
            time.sleep(delay)
            delay *= 2


def cached_download(url, service, *, progress=False):
    """Path of ``url``'s file in astropy's download cache, downloading it if needed.

    With ``conf.offline`` only the cache is used, and a missing file raises
    `NetworkError` saying so.
    """
    if conf.offline:
        if not is_url_in_cache(url):
            raise NetworkError(f"{service}: offline mode and {url} is not in the download "
                               "cache; set astro_morph.surveys.conf.offline = False to fetch it.")
        return download_file(url, cache=True)
    return with_retries(lambda: download_file(url, cache=bool(conf.cache),
                                              timeout=float(conf.timeout),
                                              show_progress=progress),
                        service, what=f"download of {url}")


class CutoutService:
    """Mixin of sources that fetch one cutout per position from a web service.

    Subclasses implement ``_fetch(coord, band)`` returning a `BandImage`;
    this class keeps them per (position, band), so the bands of a galaxy and
    repeated calls cost one request each.
    """

    def _cutouts(self, band, coords):
        self.check_bands((band,))
        cache = self.__dict__.setdefault("_fetched", {})
        images = []
        for coord in parse_positions(coords):
            key = (f"{coord.ra.deg:.6f}", f"{coord.dec.deg:+.6f}", band)
            if key not in cache:
                cache[key] = self._fetch(coord, band)
            images.append(cache[key])
        return images
