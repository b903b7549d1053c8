"""The package logger.

astro_morph logs through the standard `logging` module under the
``astro_morph`` name, so that users configure it like any other library
logger (and astropy's ``log`` handlers see it as a child logger would).
"""

import logging

__all__ = ["log"]

log = logging.getLogger("astro_morph")
log.addHandler(logging.NullHandler())
