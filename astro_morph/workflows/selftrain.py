"""Recursive training: grow the training set with the model's most confident predictions."""

import numpy as np
from astropy.table import QTable

from astro_morph.catalogs.labels import predicted_index
from astro_morph.exceptions import InputError
from astro_morph.inputs.images import check_image_batch
from astro_morph.inputs.preprocessing import Preprocessing
from astro_morph.inputs.targets import encode_labels
from astro_morph.logger import log
from astro_morph.models.classifier import MorphologyClassifier
from astro_morph.utils.provenance import provenance
from astro_morph.utils.validate import check_integer, check_number
from astro_morph.workflows.transfer import fine_tune

__all__ = ["self_train"]


def _images(X, what):
    """Check an image batch and return it as float32 in [0, 1], as the classifier takes it
    (the classifier crops and resizes it the way it did in training)."""
    images = check_image_batch(X, f"self_train's {what} (make colour images of positions "
                                  "first, e.g. with make_cutouts and bands_to_rgb)")
    return Preprocessing(input_size=min(images.shape[1:3]), crop_fraction=1.0).apply(images)


def _accuracies(classifier, test_sets):
    scores = {}
    for name, (images, truth) in test_sets.items():
        predicted = predicted_index(classifier.predict_proba(images), classifier.classes_)
        scores[name] = float(np.mean(predicted == truth))
    return scores


def self_train(classifier, labelled, unlabelled, *, test_sets, rounds=3, per_round=None,
               threshold=0.9, patience=1, epochs=10):
    """Recursive training on the most confident predictions (Khan et al. 2019, Sec. 6).

    Each round the classifier labels the galaxies of ``unlabelled`` not used
    yet, takes the ``per_round`` most confident ones whose probability
    reaches ``threshold``, adds them with their predicted classes to the
    training set and continues training from the current weights (see
    `~astro_morph.fine_tune`). Accuracy on every test set is recorded after
    each round; the rounds stop once the mean accuracy has not improved for
    ``patience`` rounds, and the best classifier is returned.

    Parameters
    ----------
    classifier : `~astro_morph.MorphologyClassifier`
        A fitted classifier (round 0).
    labelled : tuple
        ``(images, labels)``: the labelled training galaxies, an (N, H, W, 3)
        batch of colour images as `~astro_morph.MorphologyClassifier.fit`
        takes them (uncropped: the classifier crops and resizes them).
    unlabelled : array
        Colour images of the galaxies to label, (M, H, W, 3).
    test_sets : dict
        ``{name: (images, labels)}`` with true classes, never used for training.
    rounds : int
        Most rounds of adding and retraining.
    per_round : int, optional
        Most galaxies added per round (default: a ``1 / rounds`` share of
        ``unlabelled``).
    threshold : float
        Smallest probability of the predicted class for a galaxy to be added.
    patience : int
        Rounds without improvement before stopping.
    epochs : int
        Epochs of each retraining.

    Returns
    -------
    best : `~astro_morph.MorphologyClassifier`
        The classifier of the round with the best mean test accuracy.
    history : `~astropy.table.QTable`
        One row per round (round 0 is ``classifier``): ``round``,
        ``n_added`` (in total), ``n_train``, ``accuracy_{name}`` per test set,
        ``mean_accuracy``; ``meta["best_round"]``.
    """
    if not isinstance(classifier, MorphologyClassifier):
        raise InputError("self_train needs a fitted MorphologyClassifier as its first argument.")
    classifier.check_fitted()
    if not test_sets:
        raise InputError("self_train needs at least one labelled test set to judge each round.")
    check_number("threshold", threshold, 0.5, 1, high_inclusive=False)
    check_integer("rounds", rounds, low=1)
    check_integer("patience", patience, low=1)
    check_integer("epochs", epochs, low=1)
    if not isinstance(labelled, tuple) or len(labelled) != 2:
        raise InputError("labelled must be a tuple (images, labels).")
    train_x = _images(labelled[0], "the labelled images")
    train_y = encode_labels(labelled[1], classifier.classes_)
    if len(train_y) != len(train_x):
        raise InputError(f"{len(train_x)} labelled images but {len(train_y)} labels.")
    pool = _images(unlabelled, "unlabelled")
    tests = {name: (_images(x, f"test set {name!r}"), encode_labels(y, classifier.classes_))
             for name, (x, y) in test_sets.items()}
    per_round = max(1, len(pool) // rounds) if per_round is None else check_integer(
        "per_round", per_round, low=1)

    used = np.zeros(len(pool), dtype=bool)
    current, best, best_score, stale = classifier, classifier, -np.inf, 0
    rows = []
    for round_number in range(rounds + 1):
        if round_number:
            proba = current.predict_proba(pool)
            confidence = np.where(used, -1.0, proba.max(axis=1))
            candidates = np.flatnonzero(confidence >= threshold)
            chosen = candidates[np.argsort(-confidence[candidates])][:per_round]
            if not len(chosen):
                log.info("self_train: no unused galaxy reaches p >= %.2f; stopping", threshold)
                break
            used[chosen] = True
            train_x = np.concatenate([train_x, pool[chosen]])
            train_y = np.concatenate([train_y, predicted_index(proba[chosen],
                                                               current.classes_)])
            current = fine_tune(current, train_x, train_y, epochs=epochs,
                                learning_rate_factor=1.0 if round_number > 1 else 0.5)
        scores = _accuracies(current, tests)
        mean = float(np.mean(list(scores.values())))
        rows.append({"round": round_number, "n_added": int(used.sum()), "n_train": len(train_y),
                     **{f"accuracy_{k}": v for k, v in scores.items()}, "mean_accuracy": mean})
        log.info("self_train round %d: %d added, mean test accuracy %.4f",
                 round_number, int(used.sum()), mean)
        if mean > best_score:
            best, best_score, stale = current, mean, 0
        else:
            stale += 1
            if stale >= patience:
                break
    history = QTable(rows=rows)
    history.meta["best_round"] = int(history["round"][np.argmax(history["mean_accuracy"])])
    history.meta["self_train"] = provenance("self_train", threshold=threshold,
                                            per_round=per_round, epochs=epochs)
    return best, history
