"""The common output grid: north-up tangent-plane WCS centred on each galaxy."""

import numbers

import numpy as np
from astropy import units as u

from astro_morph.exceptions import InputError

__all__ = ["parse_size", "parse_shift", "parse_pixel_scale", "local_pixel_area"]


def _in_pixels(value, pixel_scale, name, example):
    """A scalar in pixels (float) from a number, a pixel Quantity or an angle Quantity."""
    if isinstance(value, u.Quantity):
        if value.unit == u.pixel:
            value = value.value
        elif value.unit.physical_type == "angle":
            value = value.to_value(u.arcsec) / pixel_scale
        else:
            raise InputError(f"{name} must be in pixels or an angle, e.g. {example}, "
                             f"not {value}.")
    if not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise InputError(f"{name} must be a single finite value, e.g. {example}, "
                         f"got {value!r}.")
    return float(value)


def parse_size(size, pixel_scale):
    """A cutout side in whole pixels (at least 8) from an int, a pixel or an angle Quantity.

    Parameters
    ----------
    size : int or `~astropy.units.Quantity`
        Pixels, or an angle on the sky.
    pixel_scale : float
        Arcsec per pixel, to turn an angle into pixels.

    Returns
    -------
    size : int

    Examples
    --------
    >>> import astropy.units as u
    >>> parse_size(64 * u.pixel, 0.396), parse_size(25.3 * u.arcsec, 0.396)
    (64, 64)
    """
    pixels = _in_pixels(size, pixel_scale, "size", "64 * u.pixel")
    if int(round(pixels)) < 8:
        raise InputError(f"size must be a single value of at least 8 pixels, got {size!r}.")
    return int(round(pixels))


def parse_shift(shift, pixel_scale):
    """A largest recentring shift in pixels (above 0, not rounded) from a pixel or angle
    Quantity or a number of pixels.

    Parameters
    ----------
    shift : float or `~astropy.units.Quantity`
        Pixels, or an angle on the sky.
    pixel_scale : float
        Arcsec per pixel, to turn an angle into pixels.

    Returns
    -------
    shift : float

    Examples
    --------
    >>> import astropy.units as u
    >>> round(parse_shift(3 * u.arcsec, 0.396), 3)
    7.576
    """
    pixels = _in_pixels(shift, pixel_scale, "max_recenter_shift", "3 * u.arcsec")
    if pixels <= 0:
        raise InputError(f"max_recenter_shift must be above 0 (a shift of 0 recentres "
                         f"nothing), got {shift!r}.")
    return pixels


def parse_pixel_scale(pixel_scale):
    """Pixel scale in arcsec/pixel from a Quantity (arcsec/pix or arcsec) or a float."""
    if isinstance(pixel_scale, u.Quantity):
        try:
            value = pixel_scale.to_value(u.arcsec / u.pixel)
        except u.UnitConversionError:
            try:
                value = pixel_scale.to_value(u.arcsec)
            except u.UnitConversionError:
                raise InputError(f"pixel_scale must be an angle per pixel, e.g. "
                                 f"0.396 * u.arcsec / u.pixel, not {pixel_scale}.") from None
    else:
        value = pixel_scale
    if not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise InputError(f"pixel_scale must be a positive angle per pixel, got {pixel_scale!r}.")
    return float(value)


def local_pixel_area(wcs, coord):
    """Sky area (arcsec**2) of the pixel of ``wcs`` at ``coord``, distortions included.

    Measured from the corners of that pixel, so it is right for TPV/SIP images
    where the linear part of the WCS alone would be off by a percent or more.
    """
    x, y = wcs.world_to_pixel(coord)
    corners = wcs.pixel_to_world(np.array([x - 0.5, x + 0.5, x - 0.5]),
                                 np.array([y - 0.5, y - 0.5, y + 0.5]))
    dlon_x, dlat_x = corners[0].spherical_offsets_to(corners[1])
    dlon_y, dlat_y = corners[0].spherical_offsets_to(corners[2])
    area = abs(dlon_x.to_value(u.arcsec) * dlat_y.to_value(u.arcsec)
               - dlat_x.to_value(u.arcsec) * dlon_y.to_value(u.arcsec))
    return float(area)
