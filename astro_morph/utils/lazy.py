"""Namespaces whose heavy parts load on first use.

``import astro_morph`` must stay light for someone who only crossmatches or
cuts images: the modules that need TensorFlow, Keras or GalSim are imported
the first time one of their names is asked for (PEP 562).
"""

import importlib

__all__ = ["lazy_namespace"]


def lazy_namespace(package, exports):
    """``__getattr__`` and ``__dir__`` for a package exporting ``{name: module}`` lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict
        Public name -> the absolute module that defines it.
    """

    def __getattr__(name):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__():
        return sorted(exports)

    return __getattr__, __dir__
