"""The hyper-parameter half of scikit-learn's estimator contract, for our estimators."""

import inspect

from astro_morph.exceptions import InputError

__all__ = ["HyperParameters"]


class HyperParameters:
    """``get_params`` / ``set_params`` from the names of ``__init__``'s arguments.

    Hyper-parameters are stored as given under their own names, so
    scikit-learn's ``clone`` and parameter checks work on any subclass.
    """

    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return tuple(name for name in signature.parameters if name != "self")

    def get_params(self, deep=True):
        """Hyper-parameters, as scikit-learn's ``get_params`` (``deep`` changes nothing:
        no parameter is itself an estimator to look into)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Change hyper-parameters, as scikit-learn's ``set_params``; takes effect at the
        next ``fit``."""
        names = self._param_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise InputError(f"unknown hyper-parameter(s) {unknown}; "
                             f"{type(self).__name__} takes {list(names)}.")
        for name, value in params.items():
            setattr(self, name, value)
        return self
