"""Temperature scaling and test-time augmentation over the 8 symmetries of the square.

The network's outputs are log-concentrations, one per answer of a
`~astro_morph.catalogs.Schema` (`~astro_morph.models.DirichletMultinomial`); a question's
expected vote fractions are their softmax within the question.
"""

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

__all__ = ["dihedral_views", "fit_temperature", "calibrated_fractions"]


def dihedral_views(images):
    """The 8 rotations/reflections of a (N, H, W, C) batch, as a list of arrays."""
    views = []
    for transposed in (images, np.transpose(images, (0, 2, 1, 3))):
        for k in range(4):
            views.append(np.rot90(transposed, k, axes=(1, 2)) if k else transposed)
    # rot90 of the transpose covers the reflections: 4 rotations x 2 parities = 8.
    return views


def _bounds(bounds, width):
    return [(0, width)] if bounds is None else bounds


def fit_temperature(outputs, counts, bounds=None):
    """Temperature T that calibrates the expected vote fractions softmax(outputs / T).

    Guo et al. (2017): one scalar fitted on held-out data, minimising the
    multinomial negative log-likelihood of the vote counts under each
    question's predicted fractions (for class labels, one vote per galaxy:
    the usual cross-entropy). It changes confidences, never the most
    probable answer.

    Parameters
    ----------
    outputs : array-like
        (N, n_answers) network outputs.
    counts : array-like
        (N, n_answers) vote counts (one-hot for class labels), or (N,) class
        indices for a one-question network.
    bounds : list of (int, int), optional
        Each question's answers (`astro_morph.catalogs.Schema.bounds`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, 2000)
    >>> logits = np.stack([-labels, labels], 1) * 2.0 + rng.normal(0, 1, (2000, 2))
    >>> overconfident = 5 * logits
    >>> bool(fit_temperature(overconfident, labels) > 3)
    True
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim == 1:
        counts = np.eye(outputs.shape[1])[counts.astype(int)]
    bounds = _bounds(bounds, outputs.shape[1])

    def nll(log_t):
        scaled = outputs / np.exp(log_t)
        return -sum(np.sum(counts[:, a:b] * log_softmax(scaled[:, a:b], axis=1))
                    for a, b in bounds) / max(len(outputs), 1)

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def calibrated_fractions(outputs, temperature, bounds=None):
    """Expected vote fractions: softmax(outputs / temperature) within each question.

    Examples
    --------
    >>> calibrated_fractions([[0.0, 0.0, 1.0, 1.0, 1.0]], 1.0, [(0, 2), (2, 5)]).round(3)
    array([[0.5  , 0.5  , 0.333, 0.333, 0.333]])
    """
    outputs = np.asarray(outputs, dtype=np.float64) / temperature
    out = np.empty_like(outputs)
    for a, b in _bounds(bounds, outputs.shape[-1]):
        out[..., a:b] = softmax(outputs[..., a:b], axis=-1)
    return out
