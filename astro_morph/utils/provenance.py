"""Provenance metadata written into the ``meta`` of every Table and file we write."""

import datetime
import importlib.metadata

__all__ = ["provenance", "package_versions", "PROVENANCE_PACKAGES"]

#: The packages whose versions every provenance record names.
PROVENANCE_PACKAGES = ("astro_morph", "numpy", "astropy", "photutils", "reproject", "galsim",
                       "keras", "tensorflow")


def package_versions(names=PROVENANCE_PACKAGES):
    """``{package: version}``, with ``"not installed"`` for a missing package.

    Reads installed metadata only: nothing is imported.

    Examples
    --------
    >>> package_versions(("numpy", "no-such-package"))["no-such-package"]
    'not installed'
    """
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def utc_now():
    """The current UTC date and time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def provenance(step, **details):
    """Return a provenance record: the step, UTC date, package versions and details.

    Examples
    --------
    >>> record = provenance("crossmatch", max_separation_arcsec=1.0)
    >>> record["step"], sorted(record["versions"])[:2]
    ('crossmatch', ['astro_morph', 'astropy'])
    """
    return {"step": step, "date": utc_now(), "versions": package_versions(), **details}
