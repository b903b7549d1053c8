"""Fine-tuning a model trained on one survey with a few labelled galaxies of another."""

from astro_morph.exceptions import InputError
from astro_morph.models.classifier import MorphologyClassifier
from astro_morph.utils.validate import check_integer, check_number

__all__ = ["fine_tune"]


def fine_tune(classifier, X, y=None, *, learning_rate_factor=0.2, epochs=15, source=None,
              images_dir=None, **params):
    """Continue training a fitted classifier on labelled galaxies of another survey.

    Domínguez Sánchez et al. (2019) found that SDSS-trained networks reach
    about 90% on DES images directly and above 95% once fine-tuned on a few
    hundred labelled DES galaxies. This is that step in one call: the new
    classifier starts from ``classifier``'s weights and trains every layer
    at a lower learning rate; ``classifier`` itself is left unchanged.

    Parameters
    ----------
    classifier : `~astro_morph.MorphologyClassifier`
        A fitted or loaded classifier.
    X, y
        The new survey's labelled galaxies: anything
        `~astro_morph.MorphologyClassifier.fit` reads (images, a labels CSV,
        positions with a ``source``...).
    learning_rate_factor : float
        The new learning rate as a fraction of ``classifier``'s.
    epochs : int
        At most this many epochs (early stopping keeps the best).
    source, images_dir
        As in `~astro_morph.MorphologyClassifier.fit`; positions are cut out at
        ``classifier``'s framing (pass ``framing=`` to change it).
    **params
        Other hyper-parameters to change (e.g. ``time_budget``, ``verbose``).

    Returns
    -------
    tuned : `~astro_morph.MorphologyClassifier`
        A new fitted classifier (same backbone, classes, preprocessing and framing).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((16, 16, 16, 3)).astype("float32")
    >>> labels = ["spiral", "elliptical"] * 8
    >>> base = MorphologyClassifier(input_size=16, crop_fraction=1.0, epochs=1,
    ...                             batch_size=8, verbose=0).fit(images, labels)
    >>> tuned = fine_tune(base, images, labels, epochs=1)
    >>> tuned.weights is base, tuned.learning_rate == 0.2 * base.learning_rate
    (True, True)
    """
    if not isinstance(classifier, MorphologyClassifier):
        raise InputError("fine_tune needs a fitted MorphologyClassifier, got "
                         f"{type(classifier).__name__}.")
    classifier.check_fitted()
    check_number("learning_rate_factor", learning_rate_factor, 0, 1, low_inclusive=False)
    check_integer("epochs", epochs, low=1)
    settings = classifier.get_params()
    settings.update(weights=classifier, epochs=epochs,
                    learning_rate=classifier.learning_rate * learning_rate_factor,
                    input_size=classifier.preprocessing_.input_size,
                    crop_fraction=classifier.preprocessing_.crop_fraction,
                    framing=classifier.framing_,
                    classes=classifier.classes_, schema=classifier.schema_,
                    unfreeze_schedule=None, time_budget=None)
    settings.update(params)
    return MorphologyClassifier(**settings).fit(X, y, source=source, images_dir=images_dir)
