"""Cutting the stamps: every band of every galaxy resampled onto its own grid.

`cut_stamps` takes positions already parsed (a `~astropy.coordinates.SkyCoord`)
and checked options; `~astro_morph.make_cutouts` is the entry point that parses
them. Two resamplers fill the stamps and say how much of each has data: all
galaxies of an image at once (``"fast"``, `~astro_morph.imaging.resample.fast_stamps`)
or `reproject.reproject_exact` galaxy by galaxy (``"exact"``,
`~astro_morph.imaging.exact.exact_stamps`). What follows is the same for both
and lives here: which cutouts fail, their flags or errors, and the second cut
of the galaxies recentred on their flux centroid.
"""

import numpy as np
from astropy.coordinates import SkyCoord

from astro_morph.exceptions import FootprintError
from astro_morph.imaging.background import centroid_positions
from astro_morph.imaging.exact import exact_stamps
from astro_morph.imaging.resample import fast_stamps

__all__ = ["cut_stamps", "CUTOUT_FLAGS", "RESAMPLING"]

#: Resampling methods of `~astro_morph.make_cutouts`.
RESAMPLING = ("exact", "fast")

#: Bit flags set per cutout in ``Cutouts.flags``.
CUTOUT_FLAGS = {
    "outside_footprint": 1,   # no image covers the position (data are zeros)
    "partial_coverage": 2,    # some pixels had no data and were set to 0
    "recenter_rejected": 4,   # centroid not used (too far, or its cut too blank)
    "uncalibrated": 8,        # no zero point was known: pixels are in native units
}


def _failure(source, coord, band, coverage):
    """The `~astro_morph.exceptions.FootprintError` of a cutout too blank to keep."""
    where = f"RA={coord.ra.deg:.5f}, Dec={coord.dec.deg:+.5f}"
    images = source.images_for(band, coord)
    if coverage >= 0:
        names = ", ".join(image.label for image in images if image.contains(coord))
        return FootprintError(
            f"the {band}-band cutout at {where} from {names} is {100 * (1 - coverage):.0f}% "
            "blank (NaN or off the image edge); use images that cover the galaxy, raise "
            "max_blank_fraction, or pass on_error='flag'.")
    if not images:
        return FootprintError(f"{source!r} has no {band}-band image at {where}.")
    image = images[0]
    ny, nx = image.data.shape
    corners = image.wcs.pixel_to_world([0, nx - 1, 0, nx - 1], [0, 0, ny - 1, ny - 1])
    return FootprintError(
        f"position {where} is outside the {band}-band image {image.label}, whose WCS covers "
        f"RA {corners.ra.deg.min():.4f}..{corners.ra.deg.max():.4f}, Dec "
        f"{corners.dec.deg.min():+.4f}..{corners.dec.deg.max():+.4f}. Check that the image "
        "is of this galaxy and that its WCS is right (a header that keeps a full-frame "
        "CRPIX is a common defect), or pass on_error='flag' to flag such rows.")


def _cut(source, coords, *, bands, size, pixel_scale, max_blank_fraction, on_error, pixels,
         resampling, progress):
    """Stamps (N, size, size, B) of ``coords`` and their flags; raises or flags failures."""
    least = 1.0 - max_blank_fraction
    if resampling == "fast":
        data, coverage, calibrated = fast_stamps(source, coords, bands=bands, size=size,
                                                 pixel_scale=pixel_scale, pixels=pixels)
    else:
        data, coverage, calibrated = exact_stamps(
            source, coords, bands=bands, size=size, pixel_scale=pixel_scale, progress=progress,
            stop_below=least if on_error == "raise" else None)
    failed = coverage < least
    if on_error == "raise" and failed.any():
        row, band = np.argwhere(failed)[0]
        raise _failure(source, coords[row], bands[band], coverage[row, band])
    flags = np.where((coverage < 1.0).any(axis=1), CUTOUT_FLAGS["partial_coverage"], 0)
    flags |= np.where(calibrated.all(axis=1), 0, CUTOUT_FLAGS["uncalibrated"])
    outside = failed.any(axis=1)
    flags[outside] = CUTOUT_FLAGS["outside_footprint"]
    data[outside] = 0.0
    return data, flags.astype(np.int32)


def cut_stamps(source, coords, *, bands, size, pixel_scale, max_blank_fraction, on_error,
               recenter, background, max_shift, pixels, resampling, progress):
    """The (N, size, size, n_bands) stamps of ``coords``, their flags and centres.

    ``coords`` is a parsed `~astropy.coordinates.SkyCoord`, every option has
    been checked and the source prefetched (`~astro_morph.make_cutouts` does all
    three); ``pixel_scale`` is in arcsec per pixel and ``size``, ``max_shift`` in
    pixels. With ``recenter``, a second pass cuts again the galaxies whose flux
    centroid lies within ``max_shift`` of the position, centred on it; where that
    cut is too blank, the first is kept and flagged ``recenter_rejected``.
    """
    options = dict(bands=bands, size=size, pixel_scale=pixel_scale,
                   max_blank_fraction=max_blank_fraction, on_error=on_error, pixels=pixels,
                   resampling=resampling, progress=progress)
    data, flags = _cut(source, coords, **options)
    centres = coords
    if recenter:
        rows = np.flatnonzero((flags & CUTOUT_FLAGS["outside_footprint"]) == 0)
        moved, found = centroid_positions(data[rows], coords[rows], pixel_scale=pixel_scale,
                                          background=background, max_shift=max_shift)
        flags[rows[~found]] |= CUTOUT_FLAGS["recenter_rejected"]
        rows, moved = rows[found], moved[found]
        if len(rows):
            # The given position was cut whole: a second cut that is too blank keeps it.
            stamps, stamp_flags = _cut(source, moved, **{**options, "on_error": "flag"})
            kept = (stamp_flags & CUTOUT_FLAGS["outside_footprint"]) == 0
            flags[rows[~kept]] |= CUTOUT_FLAGS["recenter_rejected"]
            rows, moved = rows[kept], moved[kept]
            data[rows], flags[rows] = stamps[kept], stamp_flags[kept]
        ra, dec = coords.ra.deg.copy(), coords.dec.deg.copy()
        ra[rows], dec[rows] = moved.ra.deg, moved.dec.deg
        centres = SkyCoord(ra, dec, unit="deg", frame=coords.frame)
    if pixels is not None:
        data[:, ~pixels] = 0.0  # after recentring: the centroid of the exact path sees all
    return data, flags, centres
