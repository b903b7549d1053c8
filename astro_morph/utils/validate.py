"""Checks of numbers and quantities at the public boundary, with messages naming the
argument, the value and the allowed range."""

import numbers

import numpy as np
from astropy import units as u

from astro_morph.exceptions import InputError

__all__ = ["check_number", "check_integer", "check_probability", "check_quantity"]


def _range_text(low, high, low_inclusive, high_inclusive):
    left = "[" if low_inclusive and low is not None else "("
    right = "]" if high_inclusive and high is not None else ")"
    return f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"


def check_number(name, value, low=None, high=None, *, low_inclusive=True,
                 high_inclusive=True):
    """``value`` as a float, or `~astro_morph.InputError` naming ``name`` and the range.

    Examples
    --------
    >>> check_number("learning_rate", 1e-3, low=0, low_inclusive=False)
    0.001
    >>> check_number("learning_rate", -1, low=0, low_inclusive=False)
    Traceback (most recent call last):
    ...
    astro_morph.exceptions.InputError: learning_rate must be a number in (0, inf), got -1.
    """
    if isinstance(value, np.generic):
        value = value.item()  # messages show 0.5, not np.float64(0.5)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}.")
    too_low = low is not None and (value < low or (value == low and not low_inclusive))
    too_high = high is not None and (value > high or (value == high and not high_inclusive))
    if too_low or too_high:
        raise InputError(f"{name} must be a number in "
                         f"{_range_text(low, high, low_inclusive, high_inclusive)}, "
                         f"got {value!r}.")
    return float(value)


def check_integer(name, value, low=None, high=None):
    """``value`` as an int in ``[low, high]``, or `~astro_morph.InputError`.

    Examples
    --------
    >>> check_integer("epochs", 5, low=1)
    5
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a whole number, got {value!r}.")
    check_number(name, value, low, high)
    return int(value)


def check_probability(name, value):
    """``value`` in [0, 1] (a probability or threshold), or `~astro_morph.InputError`."""
    return check_number(name, value, 0, 1)


def check_quantity(name, value, unit, low=None, *, low_inclusive=False, default_unit=None):
    """``value`` in ``unit`` (a float), from a Quantity or (with ``default_unit``) a number.

    Examples
    --------
    >>> check_quantity("max_separation", 1 * u.arcmin, u.arcsec, low=0)
    60.0
    """
    if isinstance(value, u.Quantity):
        try:
            value = value.to_value(unit)
        except u.UnitConversionError:
            raise InputError(f"{name} must be a Quantity convertible to {unit}, "
                             f"got {value!r}.") from None
    elif default_unit is not None:
        value = (check_number(name, value) * default_unit).to_value(unit)
    else:
        raise InputError(f"{name} must be a Quantity in {unit} (e.g. 1 * u.{unit}), "
                         f"got {value!r}.")
    if low is not None and not value > low and not (low_inclusive and value == low):
        raise InputError(f"{name} must be a Quantity above {low} {unit}, got {value} {unit}.")
    return check_number(name, value, low, low_inclusive=low_inclusive)
