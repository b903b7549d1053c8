"""The common output grid: north-up tangent-plane WCS centred on each galaxy."""

import numpy as np
from astropy import units as u

from astro_morph.exceptions import InputError

__all__ = ["parse_size", "parse_pixel_scale", "local_pixel_area"]


def parse_size(size, pixel_scale, *, name="size", minimum=8):
    """A length in whole pixels from an int, a pixel Quantity or an angle Quantity.

    ``name`` and ``minimum`` (in pixels) word the check: a cutout side is at
    least 8 pixels, a recentring shift may be as small as 0.

    Examples
    --------
    >>> import astropy.units as u
    >>> parse_size(64 * u.pixel, 0.396), parse_size(3 * u.arcsec, 1.0, minimum=0)
    (64, 3)
    """
    if isinstance(size, u.Quantity):
        if size.unit == u.pixel:
            size = size.value
        elif size.unit.physical_type == "angle":
            size = size.to_value(u.arcsec) / pixel_scale
        else:
            raise InputError(f"{name} must be in pixels or an angle, e.g. 64 * u.pixel, "
                             f"not {size}.")
    if not np.isscalar(size) or not np.isfinite(size) or int(round(size)) < minimum:
        raise InputError(f"{name} must be a single value of at least {minimum} pixels, "
                         f"got {size!r}.")
    return int(round(size))


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
