"""Learning vote counts: the Dirichlet-multinomial loss over a schema's questions (Keras only).

The network gives one output ``z`` per answer of a `~astro_morph.catalogs.Schema`;
``exp(z)`` are the concentrations of a Dirichlet distribution over each
question's vote fractions, and the loss is the negative log-likelihood of
each question's vote counts under the Dirichlet-multinomial they imply,
summed over questions (Walmsley et al. 2022, Zoobot). A question with no
votes adds exactly nothing; one vote (a class label) gives the cross-entropy
of ``softmax(z)``, so class labels and vote counts train one network
together. The expected fractions are ``softmax(z)`` within each question.
"""

import math

import keras
from keras import ops

__all__ = ["LogConcentration", "DirichletMultinomial", "vote_accuracy", "compile_kwargs",
           "lgamma", "LOG_CONCENTRATION_BOUND"]

#: Outputs are kept in (-8, 8): concentrations between 3e-4 and 3e3 keep the loss
#: exact in float32 and let a one-vote answer reach a probability of 1 - 1e-7.
LOG_CONCENTRATION_BOUND = 8.0

# Stirling's series for log Gamma(z), z >= 7 (error below 1e-10).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def lgamma(x):
    """log Gamma(x) for x > 0 in `keras.ops` (no backend has it in common).

    Shifts x by 7 with the recurrence Gamma(x + 1) = x Gamma(x), then uses
    Stirling's series; agrees with `scipy.special.gammaln` to 1e-6 relative in
    float32 and 1e-10 in float64.
    """
    shift = ops.zeros_like(x)
    for k in range(7):
        shift = shift + ops.log(x + k)
    z = x + 7.0
    inverse = 1.0 / z
    inverse_square = inverse * inverse
    series = inverse * (_STIRLING[0] + inverse_square * (
        _STIRLING[1] + inverse_square * (_STIRLING[2] + inverse_square * _STIRLING[3])))
    return (z - 0.5) * ops.log(z) - z + _HALF_LOG_2PI + series - shift


@keras.saving.register_keras_serializable(package="astro_morph")
class LogConcentration(keras.layers.Layer):
    """``bound * tanh(x / bound)``: log-concentrations that stay in (-bound, bound).

    Identity near 0 (class labels train as through a plain softmax), and the
    Dirichlet-multinomial never meets a concentration it cannot evaluate.
    """

    def __init__(self, *, bound=LOG_CONCENTRATION_BOUND, **kwargs):
        super().__init__(**kwargs)
        self.bound = float(bound)

    def call(self, inputs):
        return self.bound * ops.tanh(inputs / self.bound)

    def get_config(self):
        return {**super().get_config(), "bound": self.bound}


def _membership(bounds):
    """(n_answers, n_questions) matrix: 1 where an answer belongs to a question."""
    n_answers = max(b for _, b in bounds)
    rows = [[1.0 if a <= k < b else 0.0 for a, b in bounds] for k in range(n_answers)]
    return ops.convert_to_tensor(rows, dtype="float64")


@keras.saving.register_keras_serializable(package="astro_morph")
class DirichletMultinomial(keras.losses.Loss):
    """Negative log-likelihood of vote counts, summed over a schema's questions.

    Per question, with concentrations ``alpha = exp(output)`` and counts ``n``
    (sums ``A`` and ``N``): ``-[lgamma(A) - lgamma(A + N) + sum(lgamma(alpha + n)
    - lgamma(alpha))]``, the multinomial coefficient left out (it does not
    depend on the network). All questions are computed at once.

    Parameters
    ----------
    bounds : list of (int, int)
        Each question's ``(start, stop)`` among the answers
        (`astro_morph.catalogs.Schema.bounds`).

    Examples
    --------
    One vote is the cross-entropy of the softmax:

    >>> import numpy as np
    >>> loss = DirichletMultinomial([(0, 2)])
    >>> z = np.array([[0.3, -0.2]], "float32")
    >>> round(float(loss(np.array([[0.0, 1.0]], "float32"), z)), 4)
    0.9741
    >>> round(float(np.log1p(np.exp(0.5))), 4)
    0.9741
    """

    def __init__(self, bounds, *, name="dirichlet_multinomial", **kwargs):
        super().__init__(name=name, **kwargs)
        self.bounds = [(int(a), int(b)) for a, b in bounds]
        self._membership = _membership(self.bounds)

    def call(self, y_true, y_pred):
        # float64 inside: lgamma(A + N) - lgamma(A) loses 1e-3 in float32 when A ~ 3e3.
        counts = ops.cast(y_true, "float64")
        alpha = ops.exp(ops.cast(y_pred, "float64"))
        total_alpha = ops.matmul(alpha, self._membership)
        total_counts = ops.matmul(counts, self._membership)
        per_answer = ops.matmul(lgamma(alpha + counts) - lgamma(alpha), self._membership)
        log_likelihood = lgamma(total_alpha) - lgamma(total_alpha + total_counts) + per_answer
        # A question nobody answered is exactly 0; the mask also stops its gradient.
        answered = ops.cast(total_counts > 0, "float64")
        return ops.cast(-ops.sum(answered * log_likelihood, axis=-1), "float32")

    def get_config(self):
        return {**super().get_config(), "bounds": [list(b) for b in self.bounds]}


def vote_accuracy(bounds):
    """A Keras metric: how often the most probable answer is the one most voted for,
    over the questions each galaxy has votes for (the accuracy, for class labels)."""

    def accuracy(y_true, y_pred):
        hits, asked = 0.0, 0.0
        for a, b in bounds:
            counts = ops.cast(y_true[:, a:b], "float32")
            answered = ops.cast(ops.sum(counts, axis=-1) > 0, "float32")
            same = ops.cast(ops.argmax(counts, axis=-1) == ops.argmax(y_pred[:, a:b], axis=-1),
                            "float32")
            hits, asked = hits + answered * same, asked + answered
        return hits / ops.maximum(asked, 1.0)

    return accuracy


def compile_kwargs(schema):
    """``loss`` and ``metrics`` for `keras.Model.compile` of a network answering ``schema``."""
    bounds = schema.bounds
    return {"loss": DirichletMultinomial(bounds), "metrics": [vote_accuracy(bounds)]}
