"""Benchmark P1: cutouts + RGB for many galaxies on one mock DES tile, versus the naive loop.

Usage: python benchmarks/cutouts_rgb.py [--galaxies 2000] [--size 64]
                                        [--scales 0.396 0.263 0.2] [--reference 200]

The case users meet most comes first: DES pixels (0.263"/px) onto SDSS-like
cutouts of 0.396"/px, the seed's cross-survey test; then the tile's own scale
(interpolation only) and an upsampling case (0.2"/px).

The naive astropy loop, for each galaxy and each band: `~astropy.nddata.Cutout2D`,
`reproject.reproject_interp` onto the galaxy's north-up grid, then
`~astropy.visualization.make_lupton_rgb` per galaxy. astro_morph:
``make_cutouts(..., resampling="fast")`` then ``bands_to_rgb`` on the batch
(the first call at each scale, so it includes any filtering of the tile).
Both use the same grid, calibration, band weights and stretch, no background
subtraction (the naive loop has none).

Pixel agreement, as the largest difference relative to each galaxy's peak over
the first ``--reference`` fully covered galaxies: against the flux-conserving
`reproject.reproject_exact` (``resampling="exact"``) where the cutout pixels are
coarser than the tile's, against `reproject.reproject_interp` (the naive loop)
where they are not; for the flux cutouts and for their colour images (the
same Lupton mapping applied to the reference cutouts: the asinh mapping
magnifies tiny flux differences in sky pixels where g + r + i is near zero,
so the colour figure is the looser one). The speed-up of the first scale
and its flux agreement are printed last.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow start-up chatter

import argparse  # noqa: E402
import time  # noqa: E402

import astropy.units as u  # noqa: E402
import numpy as np  # noqa: E402
from astropy.nddata import Cutout2D  # noqa: E402
from astropy.visualization import make_lupton_rgb  # noqa: E402
from reproject import reproject_interp  # noqa: E402

from astro_morph import MockSurvey, bands_to_rgb, make_cutouts, parse_positions  # noqa: E402
from astro_morph.imaging import RGB_Q, RGB_STRETCH  # noqa: E402
from astro_morph.imaging.grid import local_pixel_area  # noqa: E402
from astro_morph.utils.wcs import tan_wcs  # noqa: E402

TILE_SCALE = 0.263  # arcsec per pixel of the mock DES tile

parser = argparse.ArgumentParser()
parser.add_argument("--galaxies", type=int, default=2000)
parser.add_argument("--size", type=int, default=64, help="cutout side in pixels")
parser.add_argument("--scales", type=float, nargs="+", default=[0.396, 0.263, 0.2],
                    help="cutout pixel scales in arcsec; the first is the headline case")
parser.add_argument("--reference", type=int, default=200,
                    help="galaxies compared with the reference resampling")
args = parser.parse_args()

start = time.perf_counter()
mock = MockSurvey(n_galaxies=args.galaxies, seed=7)
source, catalog = mock.source("des"), mock.catalog("des")
bands = source.survey.rgb_bands
images = {band: source.images_for(band, None)[0] for band in bands}
print(f"mock DES tile {images['r'].data.shape} rendered for {len(catalog)} galaxies in "
      f"{time.perf_counter() - start:.0f} s")
coords = parse_positions(catalog)
weights = source.survey.rgb_weights


def naive(scale):
    stamps = np.zeros((len(coords), args.size, args.size, len(bands)), dtype=np.float32)
    rgb = np.zeros((len(coords), args.size, args.size, 3), dtype=np.float32)
    side = int(np.ceil(args.size * scale / TILE_SCALE * 1.5)) + 6
    for i in range(len(coords)):
        grid = tan_wcs(coords[i], args.size, scale)
        for k, band in enumerate(bands):
            image = images[band]
            cut = Cutout2D(image.data, coords[i], (side, side), wcs=image.wcs, mode="partial",
                           fill_value=np.nan)
            stamp, _ = reproject_interp((cut.data, cut.wcs), grid,
                                        shape_out=(args.size, args.size), order="bilinear")
            area = scale**2 / local_pixel_area(image.wcs, coords[i])
            stamps[i, :, :, k] = np.nan_to_num(stamp * area * image.to_nanomaggies)
        g, r, i_band = (stamps[i, :, :, k] * weights[b] for k, b in enumerate(bands))
        rgb[i] = make_lupton_rgb(i_band, r, g, minimum=0.0, stretch=RGB_STRETCH, Q=RGB_Q,
                                 output_dtype=np.float64)
    return stamps, rgb


def largest_difference(ours, reference):
    peak = np.abs(reference).max(axis=tuple(range(1, reference.ndim)))
    difference = np.abs(ours - reference).max(axis=tuple(range(1, reference.ndim)))
    return float((difference / peak).max())


results = []
for scale in args.scales:
    pixel_scale = scale * u.arcsec / u.pixel
    start = time.perf_counter()
    cutouts = make_cutouts(source, coords, size=args.size, pixel_scale=pixel_scale,
                           background=None, resampling="fast", on_error="flag")
    ours_rgb = bands_to_rgb(cutouts)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    naive_stamps, _ = naive(scale)
    slow = time.perf_counter() - start

    clean = np.flatnonzero(cutouts.flags == 0)[:args.reference]
    if scale > TILE_SCALE * 1.02:
        kind = "reproject_exact"
        reference = make_cutouts(source, coords[clean], size=args.size,
                                 pixel_scale=pixel_scale, background=None,
                                 resampling="exact").data
    else:
        kind = "reproject_interp"
        reference = naive_stamps[clean]
    reference_rgb = bands_to_rgb(reference, bands=bands, survey="des")
    flux = largest_difference(cutouts.data[clean], reference)
    colour = largest_difference(ours_rgb[clean], reference_rgb)
    results.append((scale, fast, slow, flux, colour, kind, len(clean)))
    print(f'{scale:.3f}"/px: astro_morph {fast:.2f} s, naive loop {slow:.2f} s, '
          f"speed-up {slow / fast:.1f}x; largest difference / peak against {kind} "
          f"({len(clean)} galaxies): flux {flux:.2e}, RGB {colour:.2e}", flush=True)

scale, fast, slow, flux, colour, kind, _ = results[0]
print(f"{args.galaxies} galaxies, {args.size} px, 3 bands on a {TILE_SCALE}\"/px tile")
print(f'P1 speed-up at {scale}"/px (naive / astro_morph): {slow / fast:.1f}x, flux pixels '
      f"within {100 * flux:.2f}% of the peak of {kind}")
