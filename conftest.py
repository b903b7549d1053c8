"""Configuration of the pytest run: the astropy test header lists our dependencies."""

# Sphinx configuration and the figure script are not test modules (they need the
# docs extra and the real data), so doctest collection skips them.
collect_ignore = ["docs/conf.py", "docs/scripts", "build", "setup.py"]

try:
    from pytest_astropy_header.display import PYTEST_HEADER_MODULES, TESTED_VERSIONS
except ImportError:  # pragma: no cover - the header plugin is optional
    PYTEST_HEADER_MODULES, TESTED_VERSIONS = {}, {}


def pytest_configure(config):
    config.option.astropy_header = True
    PYTEST_HEADER_MODULES.clear()
    PYTEST_HEADER_MODULES.update({
        "Numpy": "numpy", "Astropy": "astropy", "Scipy": "scipy", "photutils": "photutils",
        "reproject": "reproject", "GalSim": "galsim", "Matplotlib": "matplotlib",
    })
    try:
        from astro_morph import __version__
        TESTED_VERSIONS["astro_morph"] = __version__
    except ImportError:  # pragma: no cover
        pass
