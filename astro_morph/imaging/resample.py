"""Batch resampling: many cutouts from one image with one WCS evaluation, vectorised.

The per-galaxy path (`reproject.reproject_exact` on a `~astropy.nddata.Cutout2D`)
sets up two WCS objects and a reprojection per galaxy and band: at survey
scale that set-up, not the arithmetic, is the cost. Here the north-up TAN
grids of all galaxies of a chunk are deprojected together in numpy, the
image's own WCS (distortions included) converts a lattice of their points (every 16th pixel) to
image pixels in one call, and `scipy.ndimage.map_coordinates` interpolates
all cutouts at once. When the output pixels are coarser than the image's
and the image is north-up (survey coadds are), each output pixel is the
exact average of the image pixels under its box, weighted by their overlap
(what `reproject.reproject_exact` computes), in one compiled loop (numba);
very coarse pixels first average the image in blocks. Rotated images are
sampled a few times per output pixel instead. The flux is kept either way
(the per-pixel area ratio comes from the same transform). `fast_stamps` runs it
over every image a source offers for a batch of galaxies (``resampling="fast"``).
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from scipy.ndimage import map_coordinates

__all__ = ["tan_grid_world", "resample_batch", "fast_stamps", "box_average", "default_workers"]

_ARCSEC = np.pi / (180.0 * 3600.0)
#: Largest rotation or shear (as a fraction of a pixel per pixel) for which output
#: pixels are treated as boxes aligned with the image's axes.
_MAX_SKEW = 0.02


def default_workers():
    """Threads used for resampling: every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def tan_grid_world(ra_deg, dec_deg, offsets_x, offsets_y):
    """RA, Dec (deg) of tangent-plane offsets around many centres (gnomonic inverse).

    Parameters
    ----------
    ra_deg, dec_deg : array (N,)
        Tangent points.
    offsets_x, offsets_y : array (P,)
        Offsets in arcsec on the tangent plane, x towards the east (increasing
        RA) and y towards the north, the same for every centre.

    Returns
    -------
    ra, dec : arrays (N, P) in degrees

    Examples
    --------
    >>> ra, dec = tan_grid_world([10.0], [0.0], [0.0, 36.0], [0.0, 0.0])
    >>> [round(float(v), 6) for v in ra[0]]  # 36" east of RA 10 deg on the equator
    [10.0, 10.01]
    """
    ra0 = np.radians(np.asarray(ra_deg, dtype=float))[:, None]
    dec0 = np.radians(np.asarray(dec_deg, dtype=float))[:, None]
    xi = np.asarray(offsets_x, dtype=float)[None, :] * _ARCSEC
    eta = np.asarray(offsets_y, dtype=float)[None, :] * _ARCSEC
    sin0, cos0 = np.sin(dec0), np.cos(dec0)
    denominator = cos0 - eta * sin0
    ra = ra0 + np.arctan2(xi, denominator)
    dec = np.arctan2(sin0 + eta * cos0, np.hypot(xi, denominator))
    return np.degrees(ra) % 360.0, np.degrees(dec)


def _knots(size, step=16):
    """Pixel indices where the WCS is evaluated (every ``step``-th and the last) and the
    (size, n_knots) matrix that interpolates linearly between them."""
    knots = np.unique(np.r_[np.arange(0, size, step), size - 1])
    weights = np.zeros((size, len(knots)))
    right = np.clip(np.searchsorted(knots, np.arange(size), side="right"), 1, len(knots) - 1)
    left = right - 1
    span = np.maximum(knots[right] - knots[left], 1)
    fraction = (np.arange(size) - knots[left]) / span
    weights[np.arange(size), left] = 1 - fraction
    weights[np.arange(size), right] += fraction
    return knots, weights


def _jacobian(image, ra, dec, pixel_scale):
    """Image-pixel steps (dx, dy) per output column and per output row, at each centre.

    Returns an (N, 2, 2) array: ``[:, :, 0]`` per column, ``[:, :, 1]`` per row.
    """
    r, d = tan_grid_world(ra, dec, [0.0, -pixel_scale, 0.0], [0.0, 0.0, pixel_scale])
    x, y = image.wcs.all_world2pix(r.ravel(), d.ravel(), 0)
    x, y = x.reshape(r.shape), y.reshape(r.shape)
    return np.stack([np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]], axis=1),
                     np.stack([y[:, 1] - y[:, 0], y[:, 2] - y[:, 0]], axis=1)], axis=1)


def _binned(image, factor):
    """The image averaged in ``factor`` x ``factor`` blocks, in native byte order (kept
    with the image for reuse)."""
    data = np.asarray(image.data)
    if factor == 1 and data.dtype.kind == "f" and data.dtype.isnative:
        return data
    cache = image.__dict__.setdefault("_binned_by_astro_morph", {})
    if factor == 1 and 1 not in cache:  # FITS data are big-endian, or integers
        cache[1] = data.astype(np.float32 if data.dtype.itemsize <= 4 else np.float64)
    if factor not in cache:
        ny, nx = (side // factor * factor for side in data.shape)
        blocks = data[:ny, :nx].reshape(ny // factor, factor, nx // factor, factor)
        cache[factor] = blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32)
    return cache[factor]


@numba.njit(nogil=True, cache=True)
def _box_sums(flat, ny, nx, x, y, half_x, half_y, out):
    """Compiled loop of `box_average`: boxes (n, m) on the flattened image; releases
    the interpreter lock, so threads share the work."""
    for i in range(x.shape[0]):
        inverse_area = 1.0 / (4.0 * half_x[i] * half_y[i])
        for j in range(x.shape[1]):
            # Box edges counted from the outer edge of pixel 0.
            low_x, high_x = x[i, j] - half_x[i] + 0.5, x[i, j] + half_x[i] + 0.5
            low_y, high_y = y[i, j] - half_y[i] + 0.5, y[i, j] + half_y[i] + 0.5
            if not (low_x >= 0.0 and low_y >= 0.0 and high_x <= nx and high_y <= ny):
                out[i, j] = np.nan  # off the image (or a NaN position)
                continue
            total = 0.0
            for p in range(int(np.floor(low_y)), int(np.ceil(high_y))):
                row = 0.0
                for q in range(int(np.floor(low_x)), int(np.ceil(high_x))):
                    row += (min(q + 1.0, high_x) - max(q * 1.0, low_x)) * flat[p * nx + q]
                total += (min(p + 1.0, high_y) - max(p * 1.0, low_y)) * row
            out[i, j] = total * inverse_area


def box_average(data, x, y, half_x, half_y):
    """Exact mean of an image over axis-aligned boxes, weighted by pixel overlap.

    Pixel ``(p, q)`` of ``data`` covers ``[q - 0.5, q + 0.5] x [p - 0.5, p + 0.5]``;
    each box is ``[x - half_x, x + half_x] x [y - half_y, y + half_y]``: what
    `reproject.reproject_exact` computes for output pixels aligned with the image.
    A box that reaches outside the image, or covers a NaN pixel, gives NaN.

    Parameters
    ----------
    data : 2-d array
    x, y : arrays (n, m)
        Box centres in pixels, ``m`` boxes for each of ``n`` cutouts.
    half_x, half_y : arrays (n,)
        Half sides of the boxes of each cutout, in pixels.

    Returns
    -------
    means : `~numpy.ndarray`
        (n, m) float64.

    Examples
    --------
    >>> image = np.arange(16.0).reshape(4, 4)
    >>> float(box_average(image, np.array([[1.5]]), np.array([[1.5]]), [1.0], [1.0])[0, 0])
    7.5
    >>> round(float(box_average(image, np.array([[1.25]]), np.array([[1.0]]),
    ...                         [0.75], [0.5])[0, 0]), 6)
    5.333333
    """
    # Native byte order (FITS data are big-endian) for the compiled loop.
    data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("="))
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    out = np.empty(x.shape)
    _box_sums(data.reshape(-1), data.shape[0], data.shape[1], x, y,
              np.asarray(half_x, dtype=np.float64).reshape(-1),
              np.asarray(half_y, dtype=np.float64).reshape(-1), out)
    return out


def _resample_block(data, image, ra, dec, size, pixel_scale, oversample, jacobian, factor,
                    pixels):
    """Surface brightness (n, len(pixels)) at the chosen pixels of a few cutouts, and the
    coverage of each cutout."""
    n = len(ra)
    # One WCS evaluation (distortions included) for a lattice of every 16th pixel of every
    # cutout; the smooth map in between is interpolated (errors far below 0.001 pixel).
    knots, weights = _knots(size)
    offsets = (knots - (size - 1) / 2.0) * pixel_scale
    knot_y, knot_x = np.meshgrid(offsets, offsets, indexing="ij")
    world_ra, world_dec = tan_grid_world(ra, dec, -knot_x.ravel(), knot_y.ravel())
    x, y = image.wcs.all_world2pix(world_ra.ravel(), world_dec.ravel(), 0)
    shape = (n, len(knots), len(knots))
    x = (weights @ x.reshape(shape) @ weights.T).reshape(n, -1)[:, pixels, None, None]
    y = (weights @ y.reshape(shape) @ weights.T).reshape(n, -1)[:, pixels, None, None]
    if oversample == 0:  # exact box averages on a north-up image
        to_data = lambda v: (v - (factor - 1) / 2) / factor  # noqa: E731
        half_x = np.abs(jacobian[:, 0, 0]) / (2 * factor)
        half_y = np.abs(jacobian[:, 1, 1]) / (2 * factor)
        values = box_average(data, to_data(x[:, :, 0, 0]), to_data(y[:, :, 0, 0]),
                             half_x, half_y)
        return values, np.isfinite(values).mean(axis=1)
    points = np.empty((2, n, len(pixels), oversample, oversample))
    if oversample > 1:
        # Sub-samples placed by each cutout's local Jacobian (constant over a pixel).
        sub = (np.arange(oversample) + 0.5) / oversample - 0.5
        rows, cols = sub[:, None], sub[None, :]
        jac = jacobian[:, :, :, None, None, None]
        points[0] = y + jac[:, 1, 0] * cols + jac[:, 1, 1] * rows
        points[1] = x + jac[:, 0, 0] * cols + jac[:, 0, 1] * rows
    else:
        points[0], points[1] = y, x
    if factor > 1:  # pixel coordinates on the block-averaged image
        points -= (factor - 1) / 2
        points /= factor
    values = map_coordinates(data, points.reshape(2, -1), output=np.float64, order=1,
                             mode="constant", cval=np.nan, prefilter=False)
    values = values.reshape(n, len(pixels), oversample * oversample)
    finite = np.isfinite(values)
    coverage = finite.reshape(n, -1).mean(axis=1)
    if oversample == 1:
        return values[:, :, 0], coverage
    if finite.all():
        return values.mean(axis=2), coverage
    # Mean of the samples with data; NaN where none has (no warnings: this runs in threads).
    counts = finite.sum(axis=2)
    sums = np.where(finite, values, 0.0).sum(axis=2)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), coverage


def resample_batch(image, ra_deg, dec_deg, size, pixel_scale, *, oversample=None, workers=None,
                   max_samples=2**21, pixels=None):
    """Resample one image onto the north-up grids of many galaxies at once.

    Parameters
    ----------
    image : `~astro_morph.surveys.BandImage`
    ra_deg, dec_deg : array (N,)
        Cutout centres.
    size : int
        Cutout side in pixels.
    pixel_scale : float
        Output pixel scale in arcsec per pixel.
    oversample : int, optional
        Bilinear samples per output pixel side, instead of the default. By
        default, coarser output pixels (``ratio`` image pixels on a side) on a
        north-up image are exact overlap-weighted box averages of the image
        (of blocks of ``floor(ratio / 3)`` pixels beyond 6.5 pixels, which
        smooths by up to a few per cent of the peak; the averaged image is kept
        with ``image``), and on a rotated image the image is
        averaged in blocks of ``floor(ratio)`` pixels and sampled
        ``ceil(ratio / floor(ratio))`` times per side; output pixels as fine as
        the image's are sampled once.
    workers : int, optional
        Threads that share the galaxies (default: all cores).
    max_samples : int
        Largest number of sample points handled at once (bounds the memory:
        about 100 bytes each).
    pixels : `~numpy.ndarray`, optional
        Boolean (size, size) mask of the pixels to compute (default all); the
        others are NaN, and the coverage counts the computed pixels only.

    Returns
    -------
    stamps : `~numpy.ndarray`
        (N, size, size) float64 in nanomaggies per output pixel (NaN where the
        image has no data).
    coverage : `~numpy.ndarray`
        (N,) fraction of each cutout's pixels with data.
    """
    ra_deg = np.atleast_1d(np.asarray(ra_deg, dtype=float))
    dec_deg = np.atleast_1d(np.asarray(dec_deg, dtype=float))
    n = len(ra_deg)
    chosen = (np.arange(size * size) if pixels is None
              else np.flatnonzero(np.asarray(pixels, dtype=bool).reshape(-1)))
    stamps = np.empty((n, size * size)) if pixels is None else np.full((n, size * size), np.nan)
    coverage = np.zeros(n)
    if n == 0:
        return stamps.reshape(n, size, size), coverage
    jacobian = _jacobian(image, ra_deg, dec_deg, pixel_scale)
    area = np.abs(jacobian[:, 0, 0] * jacobian[:, 1, 1] - jacobian[:, 0, 1] * jacobian[:, 1, 0])
    factor = 1
    if oversample is None:
        # Image pixels per output pixel side (2% slack: 0.263" on 0.263" samples once).
        ratio = float(np.sqrt(np.nanmax(area)))
        # Rotation or shear of the image against the north-up cutouts.
        skew = np.max(np.abs(jacobian[:, [0, 1], [1, 0]])) / np.sqrt(np.nanmin(area))
        if ratio > 1.02 and skew < _MAX_SKEW:
            # Exact box averages; boxes wider than 6 pixels work on blocks of pixels.
            factor = max(1, int(np.floor(ratio / 3))) if ratio > 6.5 else 1
            oversample = 0
        elif ratio > 1.02:
            # Rotated image: average it in blocks of ``factor`` pixels, then sample
            # what remains a few times per output pixel.
            factor = max(1, int(np.floor(ratio + 0.05)))
            oversample = int(np.clip(np.ceil(ratio / factor - 0.02), 1, 8))
        else:
            oversample = 1
    data = _binned(image, factor)
    # Sample points per output pixel: the box path gathers about (ratio + 1) ** 2 pixels.
    per_pixel = oversample ** 2 if oversample else (ratio / factor + 1) ** 2
    per_block = max(1, int(max_samples // (len(chosen) * per_pixel)))
    workers = min(workers or default_workers(), n)
    per_block = min(per_block, -(-n // workers))  # at least one block per thread
    blocks = [slice(a, min(a + per_block, n)) for a in range(0, n, per_block)]

    def run(block):
        stamps[block, chosen], coverage[block] = _resample_block(
            data, image, ra_deg[block], dec_deg[block], size, pixel_scale, oversample,
            jacobian[block], factor, chosen)

    workers = min(workers, len(blocks))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, blocks))
    else:
        for block in blocks:
            run(block)
    stamps *= (area * image.to_nanomaggies)[:, None]
    return stamps.reshape(n, size, size), coverage


def fast_stamps(source, coords, *, bands, size, pixel_scale, pixels=None):
    """Stamps of ``coords`` cut image by image, and how much of each has data.

    The batch counterpart of `~astro_morph.imaging.exact.exact_stamps`: the
    same choice (of the images that cover a galaxy, the one with the most
    pixels with data) and the same returns, every galaxy of an image at once.

    Parameters
    ----------
    source : `~astro_morph.surveys.ImageSource`
        Where the images come from (prefetched for ``coords``).
    coords : `~astropy.coordinates.SkyCoord`
        Centres of the stamps, already parsed.
    bands : tuple of str
        Bands of the stamps, in order.
    size : int
        Side of the stamps in pixels.
    pixel_scale : float
        Output pixel scale in arcsec per pixel.
    pixels : `~numpy.ndarray`, optional
        Boolean (size, size) mask of the pixels to compute (default all); the
        others are 0, and the coverage counts the computed pixels only.

    Returns
    -------
    data, coverage, calibrated : `~numpy.ndarray`
        As `~astro_morph.imaging.exact.exact_stamps` returns them.
    """
    n = len(coords)
    data = np.zeros((n, size, size, len(bands)), dtype=np.float32)
    coverage = np.full((n, len(bands)), -1.0)
    calibrated = np.ones((n, len(bands)), dtype=bool)
    ra, dec = coords.ra.deg, coords.dec.deg
    for k, band in enumerate(bands):
        # Every image the source offers for the batch, each resampled for the
        # positions it covers (and that no image has covered whole yet).
        for image in source.images_for(band, coords):
            rows = np.flatnonzero(image.contains(coords) & (coverage[:, k] < 1.0))
            if not len(rows):
                continue
            stamps, covered = resample_batch(image, ra[rows], dec[rows], size, pixel_scale,
                                             pixels=pixels)
            np.nan_to_num(stamps, copy=False, nan=0.0)
            better = covered > coverage[rows, k]
            chosen = rows[better]
            data[chosen, :, :, k] = stamps if better.all() else stamps[better]
            coverage[chosen, k] = covered[better]
            calibrated[chosen, k] = image.zero_point is not None
    return data, coverage, calibrated
