"""Exceptions raised by astro_morph.

Every error that astro_morph raises on purpose derives from
`AstroMorphError`, so a script can catch them all with one ``except``.
Each message names what was wrong and how to fix it.
"""

__all__ = ["AstroMorphError", "InputError", "FootprintError", "ModelFileError",
           "MissingDependencyError", "DistributedError"]


class AstroMorphError(Exception):
    """Base class for all errors raised by astro_morph."""


class InputError(AstroMorphError, ValueError):
    """An argument has the wrong type, shape, unit or content.

    Subclasses `ValueError` so that generic ``except ValueError`` code keeps working.
    """


class FootprintError(AstroMorphError):
    """A requested position lies outside an image, or its cutout is mostly blank.

    Raised, for example, when a FITS header's WCS does not cover the position
    asked for (a broken header, or the wrong file for that galaxy).
    """


class ModelFileError(AstroMorphError):
    """A model file is missing, corrupt, truncated or written by another program."""


class MissingDependencyError(AstroMorphError, ImportError):
    """An optional dependency needed for this feature is not installed."""


class DistributedError(AstroMorphError, RuntimeError):
    """Distributed training or inference (Horovod or TensorFlow engine) cannot start or
    went out of step.

    Raised, for example, when ``fit_distributed`` runs without a launcher
    such as ``horovodrun`` or ``python -m astro_morph.distributed.launch``.
    """
