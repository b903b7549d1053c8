"""Optional dependencies, detected once at import time (photutils style)."""

import importlib.util

from astro_morph.exceptions import MissingDependencyError

__all__ = ["HAS_ASTROQUERY", "HAS_HOROVOD", "HAS_SKLEARN", "require"]

# Which extra of ``astro_morph`` installs each optional module.
_EXTRAS = {"astroquery": "surveys", "pyvo": "surveys", "horovod": "distributed",
           "sklearn": "all"}


def _has(module):
    return importlib.util.find_spec(module) is not None


HAS_ASTROQUERY = _has("astroquery")
HAS_HOROVOD = _has("horovod")
HAS_SKLEARN = _has("sklearn")


def require(module, feature):
    """Raise `MissingDependencyError` unless ``module`` can be imported.

    Parameters
    ----------
    module : str
        Top-level module name, e.g. ``"astroquery"``.
    feature : str
        What the user asked for, used in the message.
    """
    if not _has(module):
        extra = _EXTRAS.get(module, "all")
        raise MissingDependencyError(
            f"{feature} needs the optional package {module!r}; install it with "
            f'pip install "astro_morph[{extra}]"')
