"""Provenance metadata written into the ``meta`` of every Table we return."""

import datetime
import importlib.metadata

__all__ = ["provenance"]

_PACKAGES = ("astro_morph", "numpy", "astropy", "photutils", "reproject", "galsim")


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def provenance(step, **details):
    """Return a provenance record: the step, UTC date, package versions and details.

    Examples
    --------
    >>> record = provenance("crossmatch", max_separation_arcsec=1.0)
    >>> record["step"], sorted(record["versions"])[:2]
    ('crossmatch', ['astro_morph', 'astropy'])
    """
    return {
        "step": step,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": {name: _version(name) for name in _PACKAGES},
        **details,
    }
