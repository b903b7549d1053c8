"""Per-galaxy resampling with `reproject.reproject_exact` (``resampling="exact"``).

Each band of each galaxy is reprojected from a native `~astropy.nddata.Cutout2D`
onto the galaxy's own north-up grid, conserving flux; of the images that cover
the galaxy, the one with the most pixels with data is kept. Which cutouts fail,
and how they are flagged, is decided by `~astro_morph.imaging.stamps.cut_stamps`
for both resamplers.
"""

import numpy as np
from astropy.nddata import Cutout2D
from tqdm.auto import tqdm

from astro_morph.imaging.grid import local_pixel_area
from astro_morph.utils.wcs import tan_wcs

__all__ = ["exact_stamps"]


def _reproject(image, coord, grid, size, pixel_scale):
    """One image onto ``grid`` in flux per output pixel; (stamp, fraction with data)."""
    from reproject import reproject_exact  # on first use: a light import

    native_area = local_pixel_area(image.wcs, coord)
    # Side of a native cutout that surely contains the rotated output grid.
    side = int(np.ceil(size * pixel_scale / np.sqrt(native_area) * 1.5)) + 6
    cut = Cutout2D(image.data, coord, (side, side), wcs=image.wcs, mode="partial",
                   fill_value=np.nan, copy=True)
    # reproject_exact averages surface brightness over exact pixel overlaps; scaling by
    # the ratio of pixel areas turns that back into flux per output pixel.
    stamp, footprint = reproject_exact((cut.data, cut.wcs), grid, shape_out=(size, size))
    stamp *= pixel_scale**2 / native_area * image.to_nanomaggies
    covered = (footprint > 0.5) & np.isfinite(stamp)
    return stamp, covered.mean()


def exact_stamps(source, coords, *, bands, size, pixel_scale, stop_below=None, progress=False):
    """Stamps of ``coords`` cut galaxy by galaxy, and how much of each has data.

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
    stop_below : float, optional
        Stop at the first band whose best coverage is below this fraction (the
        caller raises for it and needs no more).
    progress : bool
        Show a progress bar.

    Returns
    -------
    data : `~numpy.ndarray`
        float32 (N, size, size, n_bands) stamps, 0 where no image has data.
    coverage : `~numpy.ndarray`
        (N, n_bands) fraction of each stamp's pixels with data, -1 where no
        image covers the position.
    calibrated : `~numpy.ndarray`
        (N, n_bands) whether the image kept had a zero point.
    """
    data = np.zeros((len(coords), size, size, len(bands)), dtype=np.float32)
    coverage = np.full((len(coords), len(bands)), -1.0)
    calibrated = np.ones((len(coords), len(bands)), dtype=bool)
    for i in tqdm(range(len(coords)), disable=not progress, desc="cutouts", unit="galaxy"):
        coord = coords[i]
        grid = tan_wcs(coord, size, pixel_scale)
        for k, band in enumerate(bands):
            for image in source.images_for(band, coord):
                if not image.contains(coord):
                    continue
                stamp, fraction = _reproject(image, coord, grid, size, pixel_scale)
                if fraction > coverage[i, k]:
                    data[i, :, :, k] = np.nan_to_num(stamp, nan=0.0)
                    coverage[i, k] = fraction
                    calibrated[i, k] = image.zero_point is not None
                if fraction == 1.0:
                    break
            if stop_below is not None and coverage[i, k] < stop_below:
                return data, coverage, calibrated
    return data, coverage, calibrated
