"""Workflows: end-to-end runs built only on the public API (the demo, ...)."""

from astro_morph.workflows.demo import *  # noqa: F401,F403
from astro_morph.workflows.demo import __all__ as _demo_all

__all__ = [*_demo_all]
