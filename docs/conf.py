"""Sphinx configuration for astro_morph (sphinx-astropy defaults)."""

import datetime
from importlib.metadata import version as _version

from sphinx_astropy.conf.v2 import *  # noqa: F401,F403
from sphinx_astropy.conf.v2 import exclude_patterns, extensions, intersphinx_mapping

project = "astro_morph"
author = "astro_morph developers"
copyright = f"{datetime.datetime.now().year}, {author}"
try:
    release = _version("astro_morph")
except Exception:  # building from a source tree that was never installed
    release = "0.0.dev0"
version = release.split("+")[0]

extensions = [*extensions, "sphinx_automodapi.automodapi"]
exclude_patterns = [*exclude_patterns, "_build", "scripts"]
intersphinx_mapping.update({
    "photutils": ("https://photutils.readthedocs.io/en/stable/", None),
    "reproject": ("https://reproject.readthedocs.io/en/stable/", None),
})
# No network during builds here: intersphinx inventories cannot be fetched.
intersphinx_disabled_reftypes = ["*"]
intersphinx_mapping = {}

automodapi_toctreedirnm = "api"
automodsumm_inherited_members = False
numpydoc_show_class_members = False
html_theme_options = {"github_url": "https://github.com/astro-morph/astro_morph"}
html_title = f"{project} v{release}"
html_static_path = ["_static"]
nitpicky = False
