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

# Every reference into astro_morph must resolve (``sphinx-build -n -W``). References to
# other packages cannot be checked here (no intersphinx inventories offline): they are
# left as text.
nitpicky = True
nitpick_ignore_regex = [
    ("py:.*", r"(numpy|np|astropy|keras|tf|tensorflow|matplotlib|sklearn|scipy|photutils|"
              r"reproject|faiss|galsim|horovod|collections|pathlib|os|PIL)(\..*)?"),
    ("py:.*", r"(optional|default|callable|sequence|iterable|path-like|file-like|array-like|"
              r"str|int|float|bool|dict|list|tuple|set|bytes|object|None|type|function|"
              r"generator|any|Exception)"),
]
# Private classes that automodapi names by themselves: under "Bases:" of public classes
# and in the annotation of ``Cutouts.wcs``.
nitpick_ignore = [("py:class", name) for name in (
    "astro_morph.models.params.HyperParameters", "astro_morph.surveys.archive.CutoutService",
    "astro_morph.catalogs.votes.VoteCounts", "astro_morph.surveys.archive.ArchiveSource",
    "astro_morph.imaging.cutouts.CutoutGrids")]


def _documented_name(target, module):
    """Where automodapi documents ``target`` (a flat ``astro_morph.X`` name, or a short
    name seen from ``module``): the subpackage that exports the object; None if none."""
    import importlib

    if target.startswith("astro_morph."):
        head, rest = "astro_morph", target[len("astro_morph."):]
    elif module and module.startswith("astro_morph"):
        head, rest = module, target
    else:
        return None
    parts = rest.split(".")
    try:
        obj = getattr(importlib.import_module(head), parts[0])
    except (ImportError, AttributeError):
        return None
    home = getattr(obj, "__module__", None) or head
    package = ".".join(home.split(".")[:2])
    if package == "astro_morph" or parts[0] not in getattr(
            importlib.import_module(package), "__all__", ()):
        return None
    return ".".join([package, *parts])


def _resolve_flat_names(app, env, node, contnode):
    """Resolve ``astro_morph.classify`` (the flat namespace) and short names used inside
    a module to the subpackage page that documents them."""
    if node.get("refdomain") != "py":
        return None
    target = _documented_name(node["reftarget"], node.get("py:module"))
    if target is None or target == node["reftarget"]:
        return None
    domain = env.get_domain("py")
    node = node.deepcopy()
    node["reftarget"] = target
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], target,
                               node, contnode)


def setup(app):
    app.connect("missing-reference", _resolve_flat_names)
