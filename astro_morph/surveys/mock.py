"""A mock survey: spirals and ellipticals rendered with GalSim for two surveys of one sky.

The same galaxies are drawn into an SDSS-like image (0.396"/pix, 1.4" seeing,
shallow) and a DES-like one (0.263"/pix, 0.9" seeing, deep), each with its own
TAN WCS and its own catalog with independent astrometric errors, so the whole
pipeline (crossmatch, cutouts, reprojection, colour) can be exercised offline.
The classes overlap as real ones do (colour scatter, early-type spirals with
big red bulges), so a classifier is not trivially perfect on them.
"""

import os

import galsim
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import QTable

from astro_morph.exceptions import InputError
from astro_morph.surveys.fits import FITSImageSource
from astro_morph.surveys.info import NANOMAGGY_ZERO_POINT, get_survey
from astro_morph.utils.files import atomic_path
from astro_morph.utils.provenance import provenance
from astro_morph.utils.wcs import tan_wcs

__all__ = ["MockSurvey", "MOCK_SURVEYS"]

#: How each mock survey observes: seeing FWHM (arcsec), pixel noise (nanomaggies per
#: pixel, per band), catalog astrometric error (arcsec) and catalog depth (r mag).
MOCK_SURVEYS = {
    "sdss": {"fwhm": 1.4, "noise": {"g": 0.045, "r": 0.05, "i": 0.075},
             "astrometric_error": 0.10, "r_limit": 19.0},
    "des": {"fwhm": 0.9, "noise": {"g": 0.006, "r": 0.0075, "i": 0.011},
            "astrometric_error": 0.05, "r_limit": 23.0},
}

# Colours (g - r, r - i) of each component: old red populations in ellipticals and
# bulges, bluer discs, star-forming knots bluer still.
_COLOURS = {"elliptical": (0.75, 0.40), "bulge": (0.75, 0.40), "disc": (0.45, 0.22),
            "knots": (0.10, 0.00)}
_BANDS = ("g", "r", "i")
_SPACING_ARCSEC = 32.0  # galaxies sit on a jittered grid this far apart: no blends
# Looser FFT accuracy than GalSim's default (0.5% aliasing, 0.2% k-space truncation) is
# far below the survey noise and makes rendering several times faster.
_GSPARAMS = galsim.GSParams(folding_threshold=1e-2, maxk_threshold=2e-3)


def _band_fluxes(r_mag, colour):
    g_r, r_i = colour
    mags = {"g": r_mag + g_r, "r": r_mag, "i": r_mag - r_i}
    return {b: 10 ** (-0.4 * (m - NANOMAGGY_ZERO_POINT)) for b, m in mags.items()}


def _spiral_disc(scale_length, rng, n_arms, pitch_deg, arm_strength):
    """Exponential disc with logarithmic spiral arms, as a GalSim InterpolatedImage."""
    pixel = scale_length / 5.0
    half = 40
    yy, xx = (np.mgrid[-half:half + 1, -half:half + 1] * pixel)
    radius = np.hypot(xx, yy) + 1e-3
    theta = np.arctan2(yy, xx)
    phase = n_arms * (theta - np.log(radius / scale_length) / np.tan(np.radians(pitch_deg)))
    arms = 1.0 + arm_strength * np.cos(phase + rng.uniform(0, 2 * np.pi))
    # The arms fade into the bulge region so the centre stays smooth.
    weight = 1.0 - np.exp(-((radius / (0.8 * scale_length)) ** 2))
    profile = np.exp(-radius / scale_length) * (1.0 + weight * (arms - 1.0))
    image = galsim.ImageD(profile / profile.sum(), scale=pixel)
    return galsim.InterpolatedImage(image, flux=1.0)


class MockSurvey:
    """Mock SDSS-like and DES-like observations of the same galaxies.

    Parameters
    ----------
    n_galaxies : int
        Number of galaxies.
    seed : int
        Random seed: the same seed gives the same galaxies, images and catalogs.
    center : `~astropy.coordinates.SkyCoord`, optional
        Field centre (default RA 150.1, Dec 2.2, in the COSMOS field).
    spiral_fraction : float
        Fraction of spirals; the rest are ellipticals.
    hard_fraction : float
        Fraction of hard cases: faint (r 18-19.5), small, or edge-on.

    Examples
    --------
    >>> mock = MockSurvey(n_galaxies=4, seed=3)
    >>> truth = mock.truth
    >>> sorted(set(truth["label"])) <= ["elliptical", "spiral"], len(truth)
    (True, 4)
    >>> mock.source("des").bands
    ('g', 'r', 'i')
    """

    def __init__(self, *, n_galaxies=200, seed=0, center=None, spiral_fraction=0.5,
                 hard_fraction=0.15):
        if int(n_galaxies) < 1:
            raise InputError(f"n_galaxies must be at least 1, got {n_galaxies}.")
        if not 0 <= spiral_fraction <= 1 or not 0 <= hard_fraction <= 1:
            raise InputError("spiral_fraction and hard_fraction must be between 0 and 1.")
        self.n_galaxies = int(n_galaxies)
        self.seed = int(seed)
        self.center = center if center is not None else SkyCoord(150.1, 2.2, unit="deg")
        self.spiral_fraction = spiral_fraction
        self.hard_fraction = hard_fraction
        self.truth = self._draw_truth()
        self._rendered = {}

    # -- the galaxies ---------------------------------------------------------------
    def _draw_truth(self):
        rng = np.random.default_rng(self.seed)
        n = self.n_galaxies
        n_side = int(np.ceil(np.sqrt(n)))
        cells = rng.permutation(n_side * n_side)[:n]
        offsets = (np.stack([cells % n_side, cells // n_side], axis=1) - (n_side - 1) / 2)
        offsets = (offsets + rng.uniform(-0.15, 0.15, (n, 2))) * _SPACING_ARCSEC
        coords = self.center.spherical_offsets_by(offsets[:, 0] * u.arcsec,
                                                  offsets[:, 1] * u.arcsec)
        is_spiral = rng.random(n) < self.spiral_fraction
        hard = rng.random(n) < self.hard_fraction
        hard_kind = rng.choice(["faint", "small", "edge_on"], n)
        r_mag = np.where(hard & (hard_kind == "faint"), rng.uniform(18.0, 19.5, n),
                         rng.uniform(14.5, 17.5, n))
        # Brighter galaxies are bigger; log-normal scatter about that relation.
        size = 10 ** (-0.2 * (r_mag - 16.0)) * np.where(is_spiral, 4.0, 2.8)
        size *= 10 ** rng.normal(0, 0.1, n)
        size = np.where(hard & (hard_kind == "small"), 0.35 * size, size)
        incl = np.degrees(np.arccos(rng.uniform(0.25, 1.0, n)))
        incl = np.where(hard & (hard_kind == "edge_on") & is_spiral, rng.uniform(80, 88, n), incl)
        truth = QTable({
            "id": np.arange(n),
            "ra": coords.ra.to(u.deg), "dec": coords.dec.to(u.deg),
            "label": np.where(is_spiral, "spiral", "elliptical"),
            "r_mag": r_mag * u.mag,
            "half_light_radius": np.clip(size, 0.6, 12.0) * u.arcsec,
            "sersic_n": np.where(is_spiral, 1.0, np.round(rng.uniform(3.0, 5.5, n) * 2) / 2),
            "axis_ratio": np.where(is_spiral, np.clip(np.cos(np.radians(incl)), 0.12, 1.0),
                                   rng.uniform(0.55, 1.0, n)),
            "position_angle": rng.uniform(0, 180, n) * u.deg,
            "bulge_fraction": np.where(is_spiral, rng.uniform(0.1, 0.35, n), 1.0),
            "hard_case": np.where(hard, hard_kind, ""),
        }, meta={"mock_survey": provenance("MockSurvey", seed=self.seed, n_galaxies=n)})
        # Real populations overlap: colours scatter about each class's mean (g - r by
        # 0.05 mag for old populations, 0.12 for star-forming discs; r - i by half that),
        # and a quarter of the spirals are early types whose big red bulge dominates.
        # (Drawn last, so the other properties of a seed's galaxies stay as they were.)
        truth["colour_shift"] = rng.normal(0.0, 1.0, n) * np.where(is_spiral, 0.12, 0.05) * u.mag
        early = is_spiral & (rng.random(n) < 0.25)
        truth["bulge_fraction"] = np.where(early, rng.uniform(0.45, 0.7, n),
                                           truth["bulge_fraction"])
        return truth

    def _components(self, row, rng):
        """[(GalSimObject with flux 1, colour), ...] for one galaxy, sheared on the sky."""
        shear = galsim.Shear(q=float(row["axis_ratio"]),
                             beta=float(row["position_angle"].to_value(u.deg)) * galsim.degrees)
        hlr = float(row["half_light_radius"].to_value(u.arcsec))
        shift = float(row["colour_shift"].to_value(u.mag))

        def colour(name):
            g_r, r_i = _COLOURS[name]
            return g_r + shift, r_i + shift / 2

        if row["label"] == "elliptical":
            gal = galsim.Sersic(n=float(row["sersic_n"]), half_light_radius=hlr)
            return [(gal.shear(shear), colour("elliptical"), 1.0)]
        bulge_frac = float(row["bulge_fraction"])
        bulge = galsim.DeVaucouleurs(half_light_radius=0.12 * hlr + 0.2).shear(
            galsim.Shear(q=max(float(row["axis_ratio"]), 0.6), beta=shear.beta))
        scale_length = hlr / 1.678
        disc = _spiral_disc(scale_length, rng, n_arms=int(rng.choice([2, 2, 3])),
                            pitch_deg=rng.uniform(12, 25), arm_strength=rng.uniform(0.5, 0.9))
        knots = galsim.RandomKnots(npoints=25, half_light_radius=hlr,
                                   rng=galsim.BaseDeviate(int(rng.integers(1 << 30))))
        disc_frac = 1 - bulge_frac
        return [(bulge, colour("bulge"), bulge_frac),
                (disc.shear(shear), colour("disc"), 0.85 * disc_frac),
                (knots.shear(shear), colour("knots"), 0.15 * disc_frac)]

    # -- the images -----------------------------------------------------------------
    def tile_wcs(self, survey):
        """The TAN WCS and shape of the survey's image of the whole field."""
        info = get_survey(survey)
        scale = info.pixel_scale.to_value(u.arcsec / u.pixel)
        n_side = int(np.ceil(np.sqrt(self.n_galaxies)))
        npix = int(np.ceil((n_side + 1) * _SPACING_ARCSEC / scale))
        return tan_wcs(self.center, npix, scale), (npix, npix)

    def _render(self, survey):
        key = survey.lower()
        if key not in MOCK_SURVEYS:
            raise InputError(f"the mock survey observes as {sorted(MOCK_SURVEYS)}, not {survey!r}.")
        config, info = MOCK_SURVEYS[key], get_survey(key)
        wcs, shape = self.tile_wcs(key)
        scale = info.pixel_scale.to_value(u.arcsec / u.pixel)
        tiles = {b: np.zeros(shape, dtype=np.float64) for b in _BANDS}
        psf = galsim.Moffat(beta=3.5, fwhm=config["fwhm"])
        pixel_wcs = galsim.JacobianWCS(-scale, 0.0, 0.0, scale)  # east left, north up
        # Galaxy shapes must not depend on the survey: seed them from the galaxy alone.
        x_all, y_all = wcs.world_to_pixel(SkyCoord(self.truth["ra"], self.truth["dec"]))
        for row, x, y in zip(self.truth, x_all, y_all):
            rng = np.random.default_rng([self.seed, int(row["id"])])
            hlr = float(row["half_light_radius"].to_value(u.arcsec))
            stamp_side = int(min(max(14 * hlr, 8 * config["fwhm"]) / scale, 301)) | 1
            centre = galsim.PositionD(x + 1, y + 1)  # GalSim pixels are 1-based
            for profile, colour, fraction in self._components(row, rng):
                image = galsim.Convolve(profile, psf, gsparams=_GSPARAMS).drawImage(
                    nx=stamp_side, ny=stamp_side, wcs=pixel_wcs, center=centre)
                fluxes = _band_fluxes(float(row["r_mag"].to_value(u.mag)), colour)
                self._add(tiles, image, {b: fraction * f for b, f in fluxes.items()})
        noise_rng = np.random.default_rng([self.seed, 99, len(key), ord(key[0])])
        for band, tile in tiles.items():
            tile += noise_rng.normal(0.0, config["noise"][band], shape)
        return wcs, tiles

    @staticmethod
    def _add(tiles, image, fluxes):
        bounds = image.bounds
        ny, nx = next(iter(tiles.values())).shape
        x0, x1 = max(bounds.xmin - 1, 0), min(bounds.xmax, nx)
        y0, y1 = max(bounds.ymin - 1, 0), min(bounds.ymax, ny)
        if x0 >= x1 or y0 >= y1:
            return
        piece = image.array[y0 - (bounds.ymin - 1):y1 - (bounds.ymin - 1),
                            x0 - (bounds.xmin - 1):x1 - (bounds.xmin - 1)]
        for band, flux in fluxes.items():
            tiles[band][y0:y1, x0:x1] += flux * piece

    def hdus(self, survey):
        """``{band: PrimaryHDU}`` of the survey's images (rendered once, then cached)."""
        key = survey.lower()
        if key not in self._rendered:
            wcs, tiles = self._render(key)
            header = wcs.to_header()
            header["MAGZERO"] = (NANOMAGGY_ZERO_POINT, "AB zero point: pixels in nanomaggies")
            header["BUNIT"] = "nanomaggy"
            header["SURVEY"] = (key, "mock survey (astro_morph)")
            header["SEEING"] = (MOCK_SURVEYS[key]["fwhm"], "[arcsec] PSF FWHM")
            self._rendered[key] = {}
            for band, tile in tiles.items():
                band_header = header.copy()
                band_header["BAND"] = band
                self._rendered[key][band] = fits.PrimaryHDU(tile.astype(np.float32), band_header)
        return self._rendered[key]

    def source(self, survey):
        """A `~astro_morph.surveys.FITSImageSource` over the survey's g, r, i images."""
        return FITSImageSource(dict(self.hdus(survey)), survey=survey)

    def catalog(self, survey):
        """The survey's catalog: measured positions (with its own astrometric errors),
        ``r_mag``, ``half_light_radius``, and the ``label`` truth, shuffled; galaxies
        fainter than the survey's depth are missing."""
        key = survey.lower()
        if key not in MOCK_SURVEYS:
            raise InputError(f"the mock survey observes as {sorted(MOCK_SURVEYS)}, not {survey!r}.")
        config = MOCK_SURVEYS[key]
        rng = np.random.default_rng([self.seed, 7, ord(key[0])])
        truth = self.truth[self.truth["r_mag"].to_value(u.mag) <= config["r_limit"]]
        error = rng.normal(0.0, config["astrometric_error"], (len(truth), 2)) * u.arcsec
        coords = SkyCoord(truth["ra"], truth["dec"]).spherical_offsets_by(error[:, 0], error[:, 1])
        catalog = QTable({"ra": coords.ra.to(u.deg), "dec": coords.dec.to(u.deg),
                          "r_mag": truth["r_mag"], "half_light_radius": truth["half_light_radius"],
                          "label": truth["label"], "truth_id": truth["id"]})
        catalog = catalog[rng.permutation(len(catalog))]
        catalog.meta["survey"] = key
        return catalog

    def write(self, output_dir, *, overwrite=False):
        """Write every survey's FITS images and ECSV catalog into ``output_dir``.

        Returns
        -------
        paths : dict
            ``{survey: {"images": {band: path}, "catalog": path}}``.
        """
        os.makedirs(output_dir, exist_ok=True)
        paths = {}
        for survey in MOCK_SURVEYS:
            images = {}
            for band, hdu in self.hdus(survey).items():
                images[band] = os.path.join(output_dir, f"mock_{survey}_{band}.fits")
                with atomic_path(images[band], overwrite=overwrite) as tmp:
                    hdu.writeto(tmp)
            catalog = os.path.join(output_dir, f"mock_{survey}_catalog.ecsv")
            with atomic_path(catalog, overwrite=overwrite) as tmp:
                self.catalog(survey).write(tmp, format="ascii.ecsv")
            paths[survey] = {"images": images, "catalog": catalog}
        return paths
