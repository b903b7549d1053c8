"""Imaging: cutouts on a common grid, background, centring, bands to RGB."""

from astro_morph.imaging.background import (
    estimate_background,
    measure_centroid,
    subtract_background,
)
from astro_morph.imaging.cutouts import (
    CUTOUT_FLAGS,
    RESAMPLING,
    Cutouts,
    make_cutouts,
)
from astro_morph.imaging.resample import resample_batch
from astro_morph.imaging.rgb import RGB_Q, RGB_STRETCH, bands_to_rgb

__all__ = ["make_cutouts", "Cutouts", "CUTOUT_FLAGS", "RESAMPLING",
           "bands_to_rgb", "RGB_Q", "RGB_STRETCH", "estimate_background", "subtract_background",
           "measure_centroid", "resample_batch"]
