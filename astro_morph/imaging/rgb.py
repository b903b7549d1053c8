"""Bands to colour: Lupton et al. (2004) asinh RGB images from calibrated cutouts."""

import numpy as np
from astropy.visualization import LuptonAsinhStretch, ManualInterval
from astropy.visualization.lupton_rgb import RGBImageMappingLupton

from astro_morph.exceptions import InputError
from astro_morph.imaging.cutouts import Cutouts
from astro_morph.surveys.info import get_survey, known_survey

__all__ = ["bands_to_rgb", "RGB_Q", "RGB_STRETCH"]

#: Asinh softening and linear stretch (nanomaggies per 0.396" pixel) chosen so that
#: colour images of calibrated cutouts resemble the SDSS SkyServer JPEGs that the
#: Galaxy Zoo labels were made on: sky near black, galaxy cores just saturating.
RGB_Q = 8.0
RGB_STRETCH = 0.6
#: Images mapped to colour together (bounds the temporaries of `bands_to_rgb`).
RGB_BLOCK = 64


def _planes(cutouts, bands, survey):
    if isinstance(cutouts, Cutouts):
        data, bands = cutouts.data, cutouts.bands
        survey = (get_survey(survey) if survey is not None else
                  known_survey(cutouts.survey, holder="these cutouts are", hint=" or a SurveyInfo"))
    else:
        data = np.asarray(cutouts)
        if bands is None:
            raise InputError("with a bare array, say which band each plane is: "
                             "bands_to_rgb(array, bands=('g', 'r', 'i')).")
        survey = get_survey(survey or "sdss")
        bands = tuple(bands)
    if data.ndim == 3:
        data = data[None]
    if data.ndim != 4 or data.shape[-1] != len(bands):
        raise InputError(f"cutouts must have shape (N, H, W, {len(bands)}) for bands {bands}, "
                         f"got {data.shape}.")
    return data, bands, survey


def bands_to_rgb(cutouts, *, bands=None, survey=None, weights=None, Q=RGB_Q,
                 stretch=RGB_STRETCH, minimum=0.0):
    """Make Lupton et al. (2004) asinh colour images from calibrated cutouts.

    The blue, green and red channels are the survey's colour bands (g, r, i for
    SDSS and DES), each multiplied by its weight, and mapped with
    astropy's `~astropy.visualization.lupton_rgb.RGBImageMappingLupton`, which
    preserves colours while compressing the dynamic range.

    Parameters
    ----------
    cutouts : `~astro_morph.imaging.Cutouts` or `~numpy.ndarray`
        Cutouts in nanomaggies per pixel, shape (N, H, W, n_bands) or (H, W, n_bands).
    bands : sequence of str, optional
        Band of each plane, required with a bare array.
    survey : str or `~astro_morph.surveys.SurveyInfo`, optional
        Chooses the colour bands and their weights (default: those of the
        cutouts' survey, or SDSS for an array).
    weights : dict, optional
        ``{band: weight}`` overriding the survey's colour weights.
    Q, stretch, minimum : float, optional
        Asinh softening, linear stretch and black level (see
        `~astropy.visualization.make_lupton_rgb`).

    Returns
    -------
    rgb : `~numpy.ndarray`
        float32 images in [0, 1], shape (N, H, W, 3), channels red, green, blue.

    Raises
    ------
    InputError
        Cutouts that lack the survey's colour bands, an array without
        ``bands=``, a shape that does not match the bands, NaN or infinite
        pixels, or an unknown survey.

    See Also
    --------
    make_cutouts : calibrated cutouts on a common grid.

    Examples
    --------
    >>> import numpy as np
    >>> stamps = np.zeros((2, 16, 16, 3), dtype=np.float32)
    >>> stamps[:, 8, 8, :] = [1.0, 2.0, 3.0]  # g, r, i: a red point
    >>> rgb = bands_to_rgb(stamps, bands=("g", "r", "i"))
    >>> rgb.shape, rgb.dtype, bool(rgb[0, 8, 8, 0] > rgb[0, 8, 8, 2])
    ((2, 16, 16, 3), dtype('float32'), True)
    """
    data, bands, survey = _planes(cutouts, bands, survey)
    blue, green, red = survey.rgb_bands
    missing = [b for b in (blue, green, red) if b not in bands]
    if missing:
        raise InputError(f"colour images need bands {survey.rgb_bands}; the cutouts lack "
                         f"{missing} (they have {bands}).")
    weights = {**survey.rgb_weights, **(weights or {})}
    planes = [(bands.index(b), weights[b]) for b in (red, green, blue)]
    mapping = RGBImageMappingLupton(interval=ManualInterval(vmin=minimum, vmax=None),
                                    stretch=LuptonAsinhStretch(stretch=stretch, Q=Q))
    rgb = np.empty(data.shape[:3] + (3,), dtype=np.float32)
    # Lupton's mapping works pixel by pixel: blocks of images give the same pixels while
    # their float64 temporaries stay small and reused (not a fresh gigabyte per call).
    for start in range(0, len(data), RGB_BLOCK):
        block = data[start:start + RGB_BLOCK]
        channels = [block[..., plane].astype(np.float64) * weight for plane, weight in planes]
        if not all(np.all(np.isfinite(c)) for c in channels):
            raise InputError("cutouts contain NaN or infinite pixels; make them with "
                             "make_cutouts (which fills gaps) or replace those pixels first.")
        # astropy computes f(I)/I everywhere and discards it where I <= 0; silence that 0/0.
        with np.errstate(invalid="ignore", divide="ignore"):
            mapped = mapping.apply_mappings(*channels)
        rgb[start:start + RGB_BLOCK] = np.clip(np.moveaxis(mapped, 0, -1), 0.0, 1.0)
    return rgb
