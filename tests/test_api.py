"""The public face: options are keyword-only everywhere.

Public means every name in ``astro_morph.__all__`` and in the ``__all__`` of each
subpackage. Data come first and positionally (``classify(table, source)``); every
parameter with a default is an option and must be given by keyword, so that an option
added or reordered later never silently takes another's value (photutils and
scikit-learn hold the same rule). Exempt: ``y`` (the labels, as in scikit-learn's
``fit(X, y=None)``), ``positions`` (of ``galaxy_zoo_labels``) and methods that keep the signature
of a method they override from Keras or scikit-learn (``on_epoch_end(epoch, logs=None)``,
``call``, ``get_params``).
"""

import importlib
import inspect
import pkgutil

import astro_morph

#: Data that may stay positional although they have a default, wherever they appear:
#: ``y``, the labels (``fit(X, y=None)``, ``fine_tune``, ``write_report``), and
#: ``positions`` (`~astro_morph.surveys.galaxy_zoo_labels`, which ``objids=`` may replace).
POSITIONAL_WITH_DEFAULT = {"y", "positions"}


def _public_objects():
    names = ["astro_morph"] + [m.name for m in pkgutil.iter_modules(astro_morph.__path__,
                                                                      "astro_morph.") if m.ispkg]
    seen = set()
    for name in names:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if (callable(obj) and getattr(obj, "__module__", "").startswith("astro_morph")
                    and id(obj) not in seen):
                seen.add(id(obj))
                yield obj


def _overrides_a_dependency(cls, name):
    return any(name in vars(base) for base in cls.__mro__[1:]
               if not base.__module__.startswith("astro_morph") and base is not object)


def _public_callables():
    for obj in _public_objects():
        if inspect.isclass(obj):
            for name, member in vars(obj).items():
                if name.startswith("_") and name != "__init__":
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if inspect.isfunction(member) and (name == "__init__"
                                                   or not _overrides_a_dependency(obj, name)):
                    yield f"{obj.__module__}.{obj.__qualname__}.{name}", member
        elif inspect.isfunction(obj):
            yield f"{obj.__module__}.{obj.__qualname__}", obj


def test_public_options_are_keyword_only():
    offenders = []
    count = 0
    for name, function in _public_callables():
        count += 1
        positional = [p.name for p in inspect.signature(function).parameters.values()
                      if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty
                      and p.name not in POSITIONAL_WITH_DEFAULT]
        if positional:
            offenders.append(f"{name}: {', '.join(positional)}")
    assert count > 100  # the walk found the API
    assert not offenders, ("options that can be given positionally (put them after *):\n"
                           + "\n".join(offenders))


#: What users call first: each documents what it raises and where to go next.
FIRST_CALLED = ["classify", "classify_catalog", "make_cutouts", "bands_to_rgb", "crossmatch",
                "MorphologyClassifier", "MorphologyClassifier.fit", "MorphologyClassifier.predict",
                "MorphologyClassifier.predict_proba", "MorphologyClassifier.save",
                "MorphologyClassifier.load"]


def test_first_called_api_documents_raises_and_see_also():
    missing = []
    for name in FIRST_CALLED:
        obj = astro_morph
        for part in name.split("."):
            obj = getattr(obj, part)
        doc = inspect.getdoc(obj)
        for section in ("Raises", "See Also"):
            if f"\n{section}\n{'-' * len(section)}\n" not in doc:
                missing.append(f"{name}: {section}")
    assert not missing, missing
