"""The one builder of north-up tangent-plane grids (cutouts, mock tiles, archive cutouts)."""

from astropy.wcs import WCS

__all__ = ["tan_wcs"]


def tan_wcs(center, size, pixel_scale):
    """North-up, east-left TAN WCS of a ``size`` x ``size`` grid centred on ``center``.

    Examples
    --------
    >>> from astropy.coordinates import SkyCoord
    >>> wcs = tan_wcs(SkyCoord(27.952, 0.2635, unit="deg"), 64, 0.396)
    >>> [round(float(v), 4) for v in wcs.wcs_pix2world([[31.5, 31.5]], 0)[0]]
    [27.952, 0.2635]
    """
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.crval = [center.ra.deg, center.dec.deg]
    wcs.wcs.crpix = [(size + 1) / 2.0, (size + 1) / 2.0]
    scale_deg = pixel_scale / 3600.0
    wcs.wcs.cdelt = [-scale_deg, scale_deg]
    wcs.wcs.radesys = "ICRS"
    wcs.pixel_shape = (size, size)
    return wcs
