"""The traditional baseline: hand-made morphology measurements and a scikit-learn classifier.

Before CNNs, galaxies were told apart by a few numbers measured on their
light (Conselice 2003; Lotz, Primack & Madau 2004): concentration,
asymmetry, Gini coefficient, M20, ellipticity, colour. Khan et al. (2019)
quote about 85% for such methods; `FeatureClassifier` measures them with
photutils and numpy and trains a gradient-boosted tree classifier, so the
CNN can be shown beside them on the same split.
"""

import numpy as np
from astropy.table import Table
from photutils.morphology import gini
from sklearn.ensemble import HistGradientBoostingClassifier

from astro_morph.catalogs.labels import CLASSES, predicted_index
from astro_morph.exceptions import InputError
from astro_morph.inputs.framing import Framing, parse_framing
from astro_morph.inputs.images import check_image_batch, prepare_images
from astro_morph.inputs.preprocessing import Preprocessing
from astro_morph.inputs.targets import training_labels
from astro_morph.models.params import HyperParameters

__all__ = ["FEATURE_NAMES", "morphology_features", "FeatureClassifier"]

#: The measurements of `morphology_features`, in column order.
FEATURE_NAMES = ("concentration", "asymmetry", "gini", "m20", "ellipticity", "r50",
                 "colour_blue_green", "colour_green_red", "colour_gradient", "smoothness")


def _radial_profile(light, radius):
    """Radii enclosing 20, 50, 80% of the light within the largest circle, per image."""
    edges = np.arange(1, radius.max() + 1)
    inside = radius[None] <= edges[:, None, None]  # (R, H, W)
    growth = np.einsum("rhw,nhw->nr", inside.astype(np.float32), light)
    growth /= np.maximum(growth[:, -1:], 1e-12)
    return [np.array([np.interp(f, np.maximum.accumulate(g), edges) for g in growth])
            for f in (0.2, 0.5, 0.8)]


def _m20(values, x, y):
    """Lotz et al. (2004) M20 of each image's pixels (values >= 0) about their centroid."""
    total = values.sum(axis=1, keepdims=True) + 1e-12
    xc = (values * x).sum(axis=1, keepdims=True) / total
    yc = (values * y).sum(axis=1, keepdims=True) / total
    moment = values * ((x - xc) ** 2 + (y - yc) ** 2)
    order = np.argsort(-values, axis=1)
    sorted_values = np.take_along_axis(values, order, axis=1)
    brightest = np.cumsum(sorted_values, axis=1) <= 0.2 * total
    top = (np.take_along_axis(moment, order, axis=1) * brightest).sum(axis=1)
    return np.log10(np.maximum(top, 1e-12) / np.maximum(moment.sum(axis=1), 1e-12))


def morphology_features(images):
    """Non-parametric morphology of a batch of colour images, as a Table.

    Parameters
    ----------
    images : array
        (N, H, W, 3) colour images in [0, 1], the galaxy at the centre
        (channel order red, green, blue: i, r, g for SDSS colour images).

    Returns
    -------
    features : `~astropy.table.Table`
        One row per image, columns `FEATURE_NAMES`: concentration
        ``5 log10(r80 / r20)``, rotational asymmetry, Gini coefficient
        (photutils) and M20 of the pixels within 1.5 r80, ellipticity from the
        second moments, ``r50`` in pixels, two colours (-2.5 log10 of channel
        ratios) within r50, the colour difference between inside and outside
        r50, and the fraction of light left after subtracting a smoothed copy.

    Examples
    --------
    >>> yy, xx = np.mgrid[-15:16, -15:16]
    >>> disc = np.exp(-np.hypot(xx, yy) / 3.0)
    >>> images = np.repeat(disc[None, :, :, None], 3, axis=3) * [1.0, 0.8, 0.5]
    >>> table = morphology_features(images)
    >>> round(float(table["asymmetry"][0]), 3), float(table["ellipticity"][0]) < 0.01
    (0.0, True)
    """
    images = check_image_batch(images, "morphology_features images", min_size=8)
    n, height, width, _ = images.shape
    border = np.concatenate([images[:, :2].reshape(n, -1, 3), images[:, -2:].reshape(n, -1, 3)],
                            axis=1)
    channels = images - np.median(border, axis=1)[:, None, None, :]
    light = np.clip(channels.sum(axis=3), 0, None)
    y, x = np.mgrid[:height, :width].astype(np.float32)
    radius = np.hypot(x - (width - 1) / 2, y - (height - 1) / 2)
    r20, r50, r80 = _radial_profile(light, np.minimum(radius, min(height, width) / 2))
    aperture = radius[None] <= 1.5 * r80[:, None, None]
    within = light * aperture
    flux = within.sum(axis=(1, 2)) + 1e-12
    asymmetry = np.abs(within - within[:, ::-1, ::-1]).sum(axis=(1, 2)) / (2 * flux)
    gini_values = np.array([gini(light[i], mask=~aperture[i]) for i in range(n)])
    m20 = _m20(within.reshape(n, -1), x.ravel()[None], y.ravel()[None])
    # Second moments about the centre give the ellipticity 1 - b/a.
    dx, dy = x - (width - 1) / 2, y - (height - 1) / 2
    xx = (within * dx ** 2).sum(axis=(1, 2)) / flux
    yy = (within * dy ** 2).sum(axis=(1, 2)) / flux
    xy = (within * dx * dy).sum(axis=(1, 2)) / flux
    spread = np.sqrt(((xx - yy) / 2) ** 2 + xy ** 2)
    major, minor = (xx + yy) / 2 + spread, np.maximum((xx + yy) / 2 - spread, 0)
    ellipticity = 1 - np.sqrt(minor / np.maximum(major, 1e-12))
    inner = (radius[None] <= r50[:, None, None])[..., None]
    outer = aperture[..., None] & ~inner
    inner_flux = np.clip((channels * inner).sum(axis=(1, 2)), 1e-6, None)
    outer_flux = np.clip((channels * outer).sum(axis=(1, 2)), 1e-6, None)
    colour = -2.5 * np.log10(inner_flux[:, [2, 1]] / inner_flux[:, [1, 0]])
    colour_outer = -2.5 * np.log10(outer_flux[:, 2] / outer_flux[:, 0])
    smoothed = (light + np.roll(light, 1, 1) + np.roll(light, -1, 1) + np.roll(light, 1, 2)
                + np.roll(light, -1, 2)) / 5
    smoothness = (np.clip(light - smoothed, 0, None) * aperture).sum(axis=(1, 2)) / flux
    values = (5 * np.log10(r80 / np.maximum(r20, 0.5)), asymmetry, gini_values, m20,
              ellipticity, r50, colour[:, 0], colour[:, 1],
              colour_outer - (colour[:, 0] + colour[:, 1]), smoothness)
    return Table(dict(zip(FEATURE_NAMES, (np.asarray(v, dtype=np.float64) for v in values))))


class FeatureClassifier(HyperParameters):
    """Spiral / elliptical from `morphology_features` with gradient-boosted trees.

    The scikit-learn contract, like `~astro_morph.MorphologyClassifier`, and
    the same inputs (image batches, labels CSVs, positions with a source...),
    prepared by the same `~astro_morph.Preprocessing`; scikit-learn's ``clone``,
    ``get_params`` and ``set_params`` work on it.

    Parameters
    ----------
    input_size : int
        Side of the images measured.
    crop_fraction : float
        Central fraction of each image kept (as for the CNN).
    classes : tuple of str
        Class names; the last is the positive class.
    seed : int
        Random seed of the tree ensemble.
    framing : `~astro_morph.Framing`, optional
        How positions are cut out of a source (default ``Framing()``), in
        `fit` and `predict_proba` alike (``framing_`` once fitted).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> yy, xx = np.mgrid[-15:16, -15:16]
    >>> def galaxy(scale, q):
    ...     light = np.exp(-np.hypot(xx, yy / q) / scale)
    ...     noisy = np.repeat(light[:, :, None], 3, axis=2) + rng.normal(0, 0.01, (31, 31, 3))
    ...     return np.clip(noisy, 0, 1)
    >>> images = np.stack([galaxy(1.5, 1.0) for _ in range(20)]
    ...                   + [galaxy(4.0, 0.4) for _ in range(20)])
    >>> labels = ["elliptical"] * 20 + ["spiral"] * 20
    >>> clf = FeatureClassifier(input_size=31, crop_fraction=1.0).fit(images, labels)
    >>> float((clf.predict(images) == np.array(labels)).mean())
    1.0
    """

    def __init__(self, *, input_size=64, crop_fraction=0.35, classes=CLASSES, seed=0,
                 framing=None):
        self.input_size = input_size
        self.crop_fraction = crop_fraction
        self.classes = classes
        self.seed = seed
        self.framing = framing

    def check_fitted(self):
        """Raise `~astro_morph.InputError` unless fitted; return self."""
        if not hasattr(self, "model_"):
            raise InputError("this FeatureClassifier is not fitted yet: call fit(...) first.")
        return self

    def _features(self, X, source, framing, images_dir=None, unique=False):
        preprocessing = Preprocessing(input_size=int(self.input_size),
                                      crop_fraction=float(self.crop_fraction))
        images, labels, _ = prepare_images(X, preprocessing, framing=framing, source=source,
                                           images_dir=images_dir, classes=self.classes,
                                           unique=unique)
        table = morphology_features(images)
        return np.stack([table[name] for name in FEATURE_NAMES], axis=1), labels

    def fit(self, X, y=None, *, source=None, images_dir=None):
        """Measure the features of labelled images and train the trees."""
        framing = parse_framing(self.framing, Framing())
        # unique: a galaxy given twice would be counted twice.
        features, found = self._features(X, source, framing, images_dir, unique=True)
        labels = training_labels(found, y, self.classes, len(features))
        self.model_ = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05,
                                                     random_state=self.seed)
        self.model_.fit(features, labels)
        self.classes_ = tuple(self.classes)
        self.framing_ = framing
        return self

    def predict_proba(self, X, *, source=None, framing=None):
        """Class probabilities (N, n_classes), columns in the order of ``classes_``."""
        self.check_fitted()
        features, _ = self._features(X, source, parse_framing(framing, self.framing_))
        proba = np.zeros((len(features), len(self.classes_)))
        proba[:, self.model_.classes_] = self.model_.predict_proba(features)
        return proba

    def predict(self, X, *, source=None, framing=None):
        """Predicted class name of each image (``p_spiral >= 0.5`` for two classes)."""
        proba = self.predict_proba(X, source=source, framing=framing)
        return np.asarray(self.classes_)[predicted_index(proba, self.classes_)]

    def __repr__(self):
        fitted = "fitted" if hasattr(self, "model_") else "not fitted"
        return f"<FeatureClassifier input_size={self.input_size!r} ({fitted})>"
