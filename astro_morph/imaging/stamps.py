"""Cutting the stamps: every band of every galaxy resampled onto its own grid.

`cut_stamps` takes positions already parsed (a `~astropy.coordinates.SkyCoord`)
and checked options; `~astro_morph.make_cutouts` is the entry point that parses
them. Two ways: all galaxies of an image at once (``"fast"``,
`~astro_morph.imaging.resample_batch`) or `reproject.reproject_exact` galaxy by
galaxy (``"exact"``); both recentre on the flux centroid when asked.
"""

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.nddata import Cutout2D
from tqdm.auto import tqdm

from astro_morph.exceptions import FootprintError
from astro_morph.imaging.background import measure_centroid, subtract_background
from astro_morph.imaging.grid import local_pixel_area
from astro_morph.imaging.resample import resample_batch
from astro_morph.utils.wcs import tan_wcs

__all__ = ["cut_stamps", "CUTOUT_FLAGS", "RESAMPLING"]

#: Resampling methods of `~astro_morph.make_cutouts`.
RESAMPLING = ("exact", "fast")

#: Bit flags set per cutout in ``Cutouts.flags``.
CUTOUT_FLAGS = {
    "outside_footprint": 1,   # no image covers the position (data are zeros)
    "partial_coverage": 2,    # some pixels had no data and were set to 0
    "recenter_rejected": 4,   # the centroid moved too far; the catalog position was kept
    "uncalibrated": 8,        # no zero point was known: pixels are in native units
}


def _footprint_message(image, coord, band):
    ny, nx = image.data.shape
    corners = image.wcs.pixel_to_world([0, nx - 1, 0, nx - 1], [0, 0, ny - 1, ny - 1])
    return (f"position RA={coord.ra.deg:.5f}, Dec={coord.dec.deg:+.5f} is outside the "
            f"{band}-band image {image.label}, whose WCS covers RA "
            f"{corners.ra.deg.min():.4f}..{corners.ra.deg.max():.4f}, Dec "
            f"{corners.dec.deg.min():+.4f}..{corners.dec.deg.max():+.4f}. Check that the image "
            "is of this galaxy and that its WCS is right (a header that keeps a full-frame "
            "CRPIX is a common defect), or pass on_error='flag' to flag such rows.")


def _resample(image, coord, grid, size, scale_arcsec):
    """Reproject one image onto ``grid``, conserving flux; return (stamp, coverage)."""
    from reproject import reproject_exact  # on first use: a light import

    native_area = local_pixel_area(image.wcs, coord)
    # Side of a native cutout that surely contains the rotated output grid.
    side = int(np.ceil(size * scale_arcsec / np.sqrt(native_area) * 1.5)) + 6
    cut = Cutout2D(image.data, coord, (side, side), wcs=image.wcs, mode="partial",
                   fill_value=np.nan, copy=True)
    # reproject_exact averages surface brightness over exact pixel overlaps; scaling by
    # the ratio of pixel areas turns that back into flux per output pixel.
    stamp, footprint = reproject_exact((cut.data, cut.wcs), grid, shape_out=(size, size))
    stamp *= scale_arcsec**2 / native_area * image.to_nanomaggies
    covered = (footprint > 0.5) & np.isfinite(stamp)
    return stamp, covered.mean()


def _cutout_at(source, coord, bands, size, scale_arcsec, max_blank_fraction):
    """All bands at one position: (stamp (H, W, B), grid WCS, flags). Raises FootprintError."""
    grid = tan_wcs(coord, size, scale_arcsec)
    stamp = np.zeros((size, size, len(bands)), dtype=np.float64)
    flags = 0
    for k, band in enumerate(bands):
        images = source.images_for(band, coord)
        covering = [image for image in images if image.contains(coord)]
        if not covering:
            raise FootprintError(_footprint_message(images[0], coord, band) if images else
                                 f"{source!r} has no {band}-band image at {coord.to_string()}.")
        best, coverage = None, -1.0
        for image in covering:
            resampled, fraction = _resample(image, coord, grid, size, scale_arcsec)
            if fraction > coverage:
                best, coverage, used = resampled, fraction, image
            if fraction == 1.0:
                break
        if coverage < 1.0 - max_blank_fraction:
            raise FootprintError(
                f"the {band}-band cutout at RA={coord.ra.deg:.5f}, Dec={coord.dec.deg:+.5f} "
                f"from {used.label} is {100 * (1 - coverage):.0f}% blank (NaN or off the "
                "image edge); use images that cover the galaxy, or raise max_blank_fraction.")
        if coverage < 1.0:
            flags |= CUTOUT_FLAGS["partial_coverage"]
        if used.zero_point is None:
            flags |= CUTOUT_FLAGS["uncalibrated"]
        stamp[..., k] = np.nan_to_num(best, nan=0.0)
    return stamp, grid, flags


def _batch_at(source, coords, bands, size, scale_arcsec, max_blank_fraction, on_error,
              pixels=None):
    """All bands at many positions, image by image: (data (N, H, W, B), flags (N,)).

    The same choices as `_cutout_at` (the covering image with the best coverage,
    the same flags and errors), with the resampling of `resample_batch`.
    """
    n = len(coords)
    data = np.zeros((n, size, size, len(bands)), dtype=np.float32)
    flags = np.zeros(n, dtype=np.int32)
    bad = np.zeros(n, dtype=bool)
    ra, dec = coords.ra.deg, coords.dec.deg
    for k, band in enumerate(bands):
        coverage = np.full(n, -1.0)
        calibrated = np.ones(n, dtype=bool)
        # Every image the source offers for the batch, each resampled for the
        # positions it covers (and that no image has covered whole yet).
        for image in source.images_for(band, coords):
            rows = np.flatnonzero(image.contains(coords) & (coverage < 1.0))
            if not len(rows):
                continue
            stamps, covered = resample_batch(image, ra[rows], dec[rows], size, scale_arcsec,
                                             pixels=pixels)
            np.nan_to_num(stamps, copy=False, nan=0.0)
            better = covered > coverage[rows]
            chosen = rows[better]
            data[chosen, :, :, k] = stamps if better.all() else stamps[better]
            coverage[chosen] = covered[better]
            calibrated[chosen] = image.zero_point is not None
        failed = coverage < 1.0 - max_blank_fraction
        if on_error == "raise" and np.any(failed & ~bad):
            # The per-galaxy path words the error for the first failing position...
            first = int(np.flatnonzero(failed & ~bad)[0])
            _cutout_at(source, coords[first], bands, size, scale_arcsec, max_blank_fraction)
            # ...unless its exact resampling covers just enough where this one did not.
            raise FootprintError(
                f"the {band}-band cutout at RA={ra[first]:.5f}, Dec={dec[first]:+.5f} is "
                f"{100 * (1 - max(coverage[first], 0)):.0f}% blank (NaN or off the image "
                "edge); use images that cover the galaxy, raise max_blank_fraction, or pass "
                "on_error='flag'.")
        bad |= failed
        flags[coverage < 1.0] |= CUTOUT_FLAGS["partial_coverage"]
        flags[~calibrated] |= CUTOUT_FLAGS["uncalibrated"]
    data[bad] = 0.0
    flags[bad] = CUTOUT_FLAGS["outside_footprint"]
    return data, flags


def _recentered(stamp, grid, background, max_shift):
    """Position of the galaxy's flux centroid in the last band (i for g, r, i), or None."""
    image = stamp[..., -1].copy()
    if background:
        image = subtract_background(image[None, :, :, None], method=background)[0, :, :, 0]
    x, y = measure_centroid(image, search_radius=max_shift + 3)
    centre = (image.shape[0] - 1) / 2
    if not np.isfinite(x) or np.hypot(x - centre, y - centre) > max_shift:
        return None
    return grid.pixel_to_world(x, y)


def _exact_cutouts(source, coords, bands, size, scale, max_blank_fraction, on_error,
                   recenter, background, max_shift, progress):
    """Galaxy by galaxy, with `reproject.reproject_exact`."""
    data = np.zeros((len(coords), size, size, len(bands)), dtype=np.float32)
    flags = np.zeros(len(coords), dtype=np.int32)
    centres = []
    for i in tqdm(range(len(coords)), disable=not progress, desc="cutouts", unit="galaxy"):
        coord = coords[i]
        try:
            stamp, grid, flags[i] = _cutout_at(source, coord, bands, size, scale,
                                               max_blank_fraction)
            if recenter:
                moved = _recentered(stamp, grid, background, max_shift)
                if moved is None:
                    flags[i] |= CUTOUT_FLAGS["recenter_rejected"]
                else:
                    coord = moved
                    stamp, grid, flags[i] = _cutout_at(source, coord, bands, size, scale,
                                                       max_blank_fraction)
        except FootprintError:
            if on_error == "raise":
                raise
            stamp = 0.0
            flags[i] = CUTOUT_FLAGS["outside_footprint"]
        data[i] = stamp
        centres.append(coord)
    return data, flags, SkyCoord(centres) if centres else coords


def _fast_cutouts(source, coords, bands, size, scale, max_blank_fraction, on_error,
                  recenter, background, max_shift, pixels):
    """All galaxies together, image by image, with `resample_batch`."""
    data, flags = _batch_at(source, coords, bands, size, scale, max_blank_fraction, on_error,
                            pixels)
    if not recenter:
        return data, flags, coords
    ra, dec = coords.ra.deg.copy(), coords.dec.deg.copy()
    moved_rows, moved = [], []
    for i in np.flatnonzero((flags & CUTOUT_FLAGS["outside_footprint"]) == 0):
        centre = _recentered(data[i].astype(np.float64), tan_wcs(coords[i], size, scale),
                             background, max_shift)
        if centre is None:
            flags[i] |= CUTOUT_FLAGS["recenter_rejected"]
        else:
            moved_rows.append(i)
            moved.append(centre)
    if moved:
        rows = np.asarray(moved_rows)
        moved = SkyCoord(moved)
        data[rows], flags[rows] = _batch_at(source, moved, bands, size, scale,
                                            max_blank_fraction, on_error, pixels)
        ra[rows], dec[rows] = moved.ra.deg, moved.dec.deg
    return data, flags, SkyCoord(ra, dec, unit="deg", frame=coords.frame)


def cut_stamps(source, coords, *, bands, size, scale, max_blank_fraction, on_error,
               recenter, background, max_shift, pixels, resampling, progress):
    """The (N, size, size, n_bands) stamps of ``coords``, their flags and centres.

    ``coords`` is a parsed `~astropy.coordinates.SkyCoord`, every option has
    been checked and the source prefetched (`~astro_morph.make_cutouts` does all
    three); ``scale`` is in
    arcsec per pixel and ``size``, ``max_shift`` in pixels.
    """
    if resampling == "fast":
        return _fast_cutouts(source, coords, bands, size, scale, max_blank_fraction,
                             on_error, recenter, background, max_shift, pixels)
    data, flags, centres = _exact_cutouts(source, coords, bands, size, scale,
                                          max_blank_fraction, on_error, recenter,
                                          background, max_shift, progress)
    if pixels is not None:
        data[:, ~pixels] = 0.0
    return data, flags, centres
