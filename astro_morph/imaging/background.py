"""Sky background estimation and centring on cutouts, with photutils."""

import warnings

import numpy as np
from astropy import units as u
from astropy.stats import SigmaClip
from astropy.utils.exceptions import AstropyUserWarning

from astro_morph.exceptions import InputError

__all__ = ["estimate_background", "subtract_background", "measure_centroid",
           "centroid_positions", "border_pixels", "MAX_BORDER_PIXELS"]

BACKGROUND_METHODS = ("border", "mesh")


#: Most sky pixels a 'border' estimate uses: beyond this, an evenly spaced subset
#: (the estimate's error, a few per cent of the sky noise of one pixel, is already
#: negligible; every sky pixel of a batch is resampled and clipped, so more cost time).
MAX_BORDER_PIXELS = 1024


def _galaxy_mask(shape, radius_fraction=0.35):
    ny, nx = shape
    yy, xx = np.mgrid[:ny, :nx]
    radius = radius_fraction * min(shape)
    return (xx - (nx - 1) / 2) ** 2 + (yy - (ny - 1) / 2) ** 2 < radius**2


def border_pixels(shape):
    """Flat indices of the sky pixels a 'border' estimate uses (at most ``MAX_BORDER_PIXELS``).

    Examples
    --------
    >>> len(border_pixels((64, 64))), len(border_pixels((128, 128)))
    (843, 1007)
    """
    border = np.flatnonzero(~_galaxy_mask(shape))
    step = int(np.ceil(len(border) / MAX_BORDER_PIXELS))
    return border[::step]


def _border_sky(pixels):
    """'border' sky level of each row of ``pixels`` (sky pixels, NaN where there is no
    data): the SExtractor mode of the sigma-clipped values, 0 with fewer than 10."""
    from photutils.background import SExtractorBackground  # on first use: a light import

    pixels = np.array(pixels, dtype=np.result_type(pixels, np.float32))
    pixels[~np.isfinite(pixels)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        values = SExtractorBackground(sigma_clip=SigmaClip(sigma=3.0)).calc_background(
            pixels, axis=1)
    return np.nan_to_num(np.where(np.isfinite(pixels).sum(axis=1) < 10, 0.0, values))


def estimate_background(image, *, method="border"):
    """Estimate the sky under a galaxy cutout.

    Parameters
    ----------
    image : `~numpy.ndarray`
        2-d cutout with the galaxy at its centre.
    method : {'border', 'mesh'}
        ``'border'``: one value, the SExtractor-style mode of the sigma-clipped
        pixels outside a central circle (radius 35% of the side) that holds the
        galaxy (at most ``MAX_BORDER_PIXELS`` of them, evenly spaced).
        ``'mesh'``: a smooth 2-d map from `photutils.background.Background2D`
        on a 4 x 4 mesh with that circle masked, for sky gradients.

    Returns
    -------
    background : float or `~numpy.ndarray`

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> image = 3.0 + rng.normal(0, 0.1, (64, 64))
    >>> round(float(estimate_background(image)), 1)
    3.0
    """
    if method == "border":
        return float(_border_sky(image.ravel()[border_pixels(image.shape)][None])[0])
    if method == "mesh":
        from photutils.background import Background2D, MedianBackground

        mask = _galaxy_mask(image.shape) | ~np.isfinite(image)
        box = max(image.shape[0] // 4, 4)
        with warnings.catch_warnings():
            # Boxes under the galaxy are masked on purpose; photutils warns about them.
            warnings.simplefilter("ignore", AstropyUserWarning)
            bkg = Background2D(image, box, mask=mask, filter_size=3, exclude_percentile=50,
                               sigma_clip=SigmaClip(sigma=3.0), bkg_estimator=MedianBackground())
        return bkg.background
    raise InputError(f"background method must be one of {BACKGROUND_METHODS} or None, "
                     f"not {method!r}.")


def subtract_background(stamps, *, method="border"):
    """Subtract the sky from each band of each cutout, in place.

    Parameters
    ----------
    stamps : `~numpy.ndarray`
        Cutouts of shape (N, H, W, B).
    method : {'border', 'mesh'}
        See `estimate_background`.

    Returns
    -------
    stamps : `~numpy.ndarray`
        The same array.
    """
    if method == "border" and stamps.size:
        # All cutouts and bands at once: photutils clips and estimates along an axis.
        n, height, width, n_bands = stamps.shape
        flat = stamps.reshape(n, height * width, n_bands)[:, border_pixels((height, width))]
        values = _border_sky(np.moveaxis(flat, 1, -1).reshape(n * n_bands, -1))
        stamps -= values.reshape(n, 1, 1, n_bands).astype(stamps.dtype)
        return stamps
    for index in np.ndindex(stamps.shape[0], stamps.shape[3]):
        image = stamps[index[0], :, :, index[1]]
        image -= np.asarray(estimate_background(image, method=method), dtype=image.dtype)
    return stamps


def measure_centroid(image, search_radius):
    """Flux-weighted centroid (x, y) of the positive pixels near the image centre.

    Parameters
    ----------
    image : `~numpy.ndarray`
        Background-subtracted 2-d cutout.
    search_radius : float
        Only pixels within this many pixels of the centre count, so that a
        bright neighbour cannot pull the centre away.

    Returns
    -------
    x, y : float
        Pixel coordinates (0-based), or NaN when there is no positive flux.
    """
    from photutils.centroids import centroid_com

    ny, nx = image.shape
    yy, xx = np.mgrid[:ny, :nx]
    near = (xx - (nx - 1) / 2) ** 2 + (yy - (ny - 1) / 2) ** 2 <= search_radius**2
    weights = np.where(near & np.isfinite(image), np.clip(image, 0, None), 0.0)
    if not np.any(weights > 0):
        return np.nan, np.nan
    x, y = centroid_com(weights)
    return float(x), float(y)


def centroid_positions(stamps, centres, *, pixel_scale, background, max_shift):
    """Sky positions of the flux centroids of stamps cut on north-up grids.

    Measured in the last band (i for g, r, i), after subtracting its sky with
    ``background`` (when not None).

    Parameters
    ----------
    stamps : `~numpy.ndarray`
        (N, H, W, B) stamps, each north-up and east-left, centred on its centre.
    centres : `~astropy.coordinates.SkyCoord`
        (N,) sky positions of the stamps' central points.
    pixel_scale : float
        Pixel scale of the stamps in arcsec per pixel.
    background : {'border', 'mesh'} or None
        Sky estimate to subtract first (see `estimate_background`).
    max_shift : float
        Largest accepted distance of the centroid from the centre, in pixels.

    Returns
    -------
    positions : `~astropy.coordinates.SkyCoord`
        (N,) centroids; the centre itself where none was accepted.
    found : `~numpy.ndarray`
        (N,) whether a centroid with positive flux lay within ``max_shift``.

    Examples
    --------
    >>> from astropy.coordinates import SkyCoord
    >>> stamps = np.zeros((1, 33, 33, 1))
    >>> stamps[0, 16, 14, 0] = 1.0  # two pixels left of the centre: 1 arcsec east
    >>> moved, found = centroid_positions(stamps, SkyCoord([10.0], [0.0], unit="deg"),
    ...                                   pixel_scale=0.5, background=None, max_shift=4)
    >>> bool(found[0]), round(float(moved.ra.deg[0] - 10.0) * 3600, 3)
    (True, 1.0)
    """
    size = stamps.shape[1]
    centre = (size - 1) / 2
    offsets = np.zeros((len(stamps), 2))
    found = np.zeros(len(stamps), dtype=bool)
    last = stamps[..., -1:].astype(np.float64)
    if background:
        subtract_background(last, method=background)
    for i, image in enumerate(last[..., 0]):
        x, y = measure_centroid(image, search_radius=max_shift + 3)
        if np.isfinite(x) and np.hypot(x - centre, y - centre) <= max_shift:
            found[i] = True
            offsets[i] = centre - x, y - centre  # east (x grows to the west), north
    # Offsets of a few pixels: on the tangent plane and on the sphere they agree to
    # far below a micro-arcsecond.
    offsets *= pixel_scale
    return centres.spherical_offsets_by(offsets[:, 0] * u.arcsec, offsets[:, 1] * u.arcsec), found
