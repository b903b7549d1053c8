"""The package as a whole: a light import, an honest public namespace."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import astro_morph

DOCS = Path(__file__).resolve().parents[1] / "docs"
SUBPACKAGES = ["catalogs", "surveys", "imaging", "inputs", "distributed", "models",
               "classification", "similarity", "evaluation", "workflows"]


def test_catalog_and_imaging_work_never_imports_tensorflow_keras_or_galsim():
    code = ("import sys, astro_morph as am\n"
            "for name in ('crossmatch', 'parse_positions', 'make_cutouts', 'bands_to_rgb', "
            "'read_table', 'FITSImageSource', 'Framing'):\n"
            "    getattr(am, name)\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'galsim') if m in sys.modules))\n"
            "am.MorphologyClassifier\n"
            "print('tensorflow' in sys.modules and 'keras' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stdout


def test_crossmatching_loads_no_network_model_selection_or_resampler():
    """``import astro_morph`` and a crossmatch stay light (about 1 s on the 2-core
    development machine, was 2 s): scikit-learn's model_selection, reproject and
    photutils load when a split, an exact cutout or a sky estimate first needs them."""
    code = ("import sys, astro_morph as am\n"
            "from astropy.table import Table\n"
            "left = Table({'ra': [10.0, 20.0], 'dec': [1.0, 2.0]})\n"
            "matched = am.crossmatch(left, Table({'ra': [10.0], 'dec': [1.0]}))\n"
            "assert len(matched) == 1\n"
            "heavy = ('tensorflow', 'keras', 'sklearn.model_selection', 'reproject', "
            "'photutils', 'faiss', 'galsim')\n"
            "print(sorted(m for m in heavy if m in sys.modules))\n"
            "am.split_sets(['spiral', 'elliptical'] * 10, fractions=(0.5, 0.5), names=('a', 'b'))\n"
            "print('sklearn.model_selection' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stdout


@pytest.mark.parametrize("package", ["astro_morph"] + [f"astro_morph.{name}"
                                                       for name in SUBPACKAGES])
def test_every_exported_name_is_importable_and_public(package):
    module = importlib.import_module(package)
    assert module.__all__, package
    for name in module.__all__:
        assert name == "__version__" or not name.startswith("_"), name
        assert getattr(module, name) is not None, f"{package}.{name}"
    assert set(module.__all__) <= set(dir(module))


def test_docs_api_page_lists_only_importable_modules_and_names():
    text = (DOCS / "api.rst").read_text()
    modules = re.findall(r"automodapi:: (\S+)", text)
    assert "astro_morph" in modules
    for name in modules:
        importlib.import_module(name)
    skipped = re.findall(r":skip: (.+)", text)
    for line in skipped:
        for name in (n.strip() for n in line.split(",")):
            assert hasattr(astro_morph, name), name


def test_no_subpackage_star_exports_internals():
    internals = {"atomic_path", "training_fingerprint", "cutout_inputs", "check_image_batch",
                 "classification_columns", "read_model_file", "predict_logits"}
    for name in SUBPACKAGES:
        exported = set(importlib.import_module(f"astro_morph.{name}").__all__)
        assert not exported & internals, (name, exported & internals)
