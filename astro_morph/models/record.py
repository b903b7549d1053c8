"""A fitted classifier's record in its model file: what `save` writes, what `load` restores.

`astro_morph.models.io` reads and writes the files; this module turns a
`~astro_morph.MorphologyClassifier` into the JSON record and back.
"""

import os

from astro_morph.catalogs.schema import Schema
from astro_morph.exceptions import AstroMorphError, ModelFileError
from astro_morph.inputs.framing import Framing
from astro_morph.inputs.preprocessing import Preprocessing
from astro_morph.models.embedding import projection_from_record, projection_record

__all__ = ["classifier_record", "classifier_params", "restore_fitted"]


def classifier_record(classifier, provenance):
    """The JSON-ready record of a fitted classifier (with ``provenance`` entries)."""
    params = classifier.get_params()
    if hasattr(params["weights"], "model_"):  # continued from an in-memory classifier
        start = getattr(params["weights"], "provenance_", {}).get("file")
        params["weights"] = f"continued from {start or 'an in-memory classifier'}"
    params["weights"] = None if params["weights"] is None else os.fspath(params["weights"])
    params["time_budget"] = None if params["time_budget"] is None else str(
        params["time_budget"])
    params["framing"] = None if params["framing"] is None else params["framing"].to_dict()
    params["schema"] = None if params["schema"] is None else classifier.schema_.to_dict()
    return {
        "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()},
        "classes": list(classifier.classes_),
        "schema": classifier.schema_.to_dict(),
        "preprocessing": classifier.preprocessing_.to_dict(),
        "framing": classifier.framing_.to_dict(),
        "temperature": classifier.temperature_,
        "history": classifier.history_,
        "training": classifier.training_info_,
        "embedding": None if getattr(classifier, "embedding_", None) is None else
        projection_record(classifier.embedding_, **classifier.embedding_info_),
        "provenance": provenance,
    }


def classifier_params(config):
    """The hyper-parameters of a record, as the classifier's ``__init__`` takes them."""
    params = dict(config["params"])
    params["classes"] = tuple(params["classes"])
    params["time_budget"] = None
    params["framing"] = None if params.get("framing") is None else Framing.from_dict(
        params["framing"])
    params["schema"] = None if params.get("schema") is None else _schema(params["schema"])
    return params


def _schema(record):
    """The schema of a model file's record; a damaged one is a `ModelFileError`."""
    try:
        return Schema.from_dict(record)
    except (KeyError, TypeError, AttributeError, AstroMorphError) as exc:
        raise ModelFileError(f"the model file's schema record is damaged ({exc}); save or "
                             "download the model again.") from None


def restore_fitted(classifier, model, config, path):
    """Set the fitted attributes of ``classifier`` from a model file's network and record."""
    # Files before the vote schemas learned class labels: one question of classes.
    schema = _schema(config["schema"]) if "schema" in config \
        else Schema.from_classes(config["params"]["classes"])
    if model.output_shape[-1] != schema.n_answers:
        raise ModelFileError(f"{path!r} has {model.output_shape[-1]} network outputs but "
                             f"its schema {schema.name!r} has {schema.n_answers} answers; "
                             "the file was not written by astro_morph.")
    classifier.model_ = model
    classifier.schema_ = schema
    classifier.classes_ = tuple(schema.classes)
    classifier.preprocessing_ = Preprocessing(**config["preprocessing"])
    # Files before format 2 were all trained on image files: the default framing.
    classifier.framing_ = Framing.from_dict(config["framing"]) if "framing" in config \
        else Framing()
    classifier.temperature_ = float(config["temperature"])
    classifier.history_ = config.get("history", {})
    classifier.training_info_ = config.get("training", {})
    # Files before embeddings have no directions (embed asks for fit_embedding).
    record = config.get("embedding")
    classifier.embedding_ = _projection(record, model, path)
    classifier.embedding_info_ = {k: record.get(k) for k in ("basis", "n_galaxies")} \
        if record else {}
    classifier.provenance_ = dict(config.get("provenance", {}), file=os.path.basename(path),
                                  sha256=config["weights_sha256"])
    return classifier


def _projection(record, model, path):
    """The embedding directions of a record, checked against the network's features."""
    try:
        projection = projection_from_record(record)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"the embedding record of {path!r} is damaged ({exc}); save or "
                             "download the model again.") from None
    width = model.get_layer("features").output.shape[-1]
    if projection is not None and projection.shape[0] != width:
        raise ModelFileError(f"the embedding of {path!r} takes {projection.shape[0]} features "
                             f"but its network has {width}; the file was not written by "
                             "astro_morph.")
    return projection
