"""Every bad input is answered by one of our exception types, naming what was wrong and
the fix, and leaves no partial output behind (the count is printed in the test summary)."""

import os
import zipfile

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from PIL import Image

from astro_morph import (
    AstroMorphError,
    FITSImageSource,
    FootprintError,
    InputError,
    ModelFileError,
    MorphologyClassifier,
    classify,
    classify_catalog,
    make_cutouts,
    write_table,
)
from astro_morph.cli import main

CASES = {}


def case(name, error, match):
    """Register one bad input: ``error`` must be raised with a message matching ``match``."""
    def register(function):
        CASES[name] = (function, error, match)
        return function
    return register


def _wcs(ra=150.0, dec=2.0):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [50.5, 50.5]
    wcs.wcs.cdelt = [-0.396 / 3600, 0.396 / 3600]
    return wcs


def _source(data=None):
    data = np.ones((100, 100)) if data is None else data
    return FITSImageSource({band: (data, _wcs()) for band in "gri"}, survey="sdss")


_CENTRE = SkyCoord(150 * u.deg, 2 * u.deg)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    rng = np.random.default_rng(0)
    images = rng.random((16, 16, 16, 3)).astype("float32")
    clf = MorphologyClassifier(input_size=16, epochs=1, batch_size=8, verbose=0,
                               crop_fraction=1.0)
    clf.fit(images, ["spiral", "elliptical"] * 8)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    clf.save(path)
    return clf, path


# -- images and FITS ------------------------------------------------------------------
@case("truncated FITS file", InputError, "truncated")
def _(tmp_path, model):
    path = tmp_path / "cut.fits"
    fits.PrimaryHDU(np.ones((100, 100)), header=_wcs().to_header()).writeto(path)
    path.write_bytes(path.read_bytes()[:4000])
    FITSImageSource({"r": str(path)}, survey="sdss")


@case("FITS file that is not FITS", InputError, "not a readable FITS")
def _(tmp_path, model):
    path = tmp_path / "notes.fits"
    path.write_text("SIMPLE = maybe\n")
    FITSImageSource({"r": str(path)}, survey="sdss")


@case("FITS image without a WCS", InputError, "no celestial WCS.*attach a WCS")
def _(tmp_path, model):
    path = tmp_path / "nowcs.fits"
    fits.PrimaryHDU(np.ones((100, 100))).writeto(path)
    FITSImageSource({"r": str(path)}, survey="sdss")


@case("NaN-filled tile", InputError, "every pixel is NaN")
def _(tmp_path, model):
    _source(np.full((100, 100), np.nan))


@case("inf-filled tile", InputError, "every pixel is NaN or infinite")
def _(tmp_path, model):
    _source(np.full((100, 100), np.inf))


@case("3-d array given as an image", InputError, "expected a 2-d image")
def _(tmp_path, model):
    _source(np.ones((3, 100, 100)))


@case("position outside the image footprint", FootprintError, "outside")
def _(tmp_path, model):
    make_cutouts(_source(), SkyCoord(151 * u.deg, 2 * u.deg), size=16)


@case("real SDSS header whose WCS is wrong", FootprintError, "CRPIX")
def _(tmp_path, model):
    folder = os.path.join(os.environ.get("ASTRO_MORPH_SHARED_DATA", "../shared/data"),
                          "fits", "SN2006bh")
    if not os.path.isdir(folder):
        pytest.skip("real survey data not found")
    source = FITSImageSource({b: os.path.join(folder, f"SDSS_{b}.fits") for b in "gri"},
                             survey="sdss")
    make_cutouts(source, SkyCoord(27.9520 * u.deg, 0.26352 * u.deg), size=32)


@case("unknown band name", InputError, "not sdss bands|not SDSS bands")
def _(tmp_path, model):
    FITSImageSource({"q": (np.ones((100, 100)), _wcs())}, survey="sdss")


@case("empty JPEG file", InputError, "empty or not a readable")
def _(tmp_path, model):
    (tmp_path / "empty.jpeg").write_bytes(b"")
    (tmp_path / "labels.csv").write_text("filename,label\nempty.jpeg,spiral\n")
    MorphologyClassifier(verbose=0).fit(str(tmp_path / "labels.csv"))


@case("unreadable JPEG file", InputError, "not a readable JPEG")
def _(tmp_path, model):
    (tmp_path / "bad.jpeg").write_bytes(b"\xff\xd8 this is not a JPEG")
    model[0].predict(str(tmp_path / "bad.jpeg"))


@case("binary file given as a labels CSV", InputError, "not a text CSV")
def _(tmp_path, model):
    (tmp_path / "labels.bin").write_bytes(bytes(range(256)))
    model[0].predict(str(tmp_path / "labels.bin"))


@case("image batch of the wrong shape", InputError, r"shape \(N, H, W, 3\)")
def _(tmp_path, model):
    model[0].predict(np.zeros((4, 16, 16)))


@case("image batch of the wrong dtype", InputError, "uint8.*or float")
def _(tmp_path, model):
    model[0].predict(np.zeros((4, 16, 16, 3), dtype=np.complex64))


# -- catalogs ---------------------------------------------------------------------------
@case("empty catalog without coordinate columns", InputError, "no RA/Dec columns")
def _(tmp_path, model):
    # An empty catalog is answered with an empty table; one without positions is not.
    classify(Table({"mag": np.zeros(0)}), _source(), classifier=model[0])


@case("duplicate positions", InputError, "repeat an earlier row.*unique")
def _(tmp_path, model):
    classify(Table({"ra": [150.0, 150.0], "dec": [2.0, 2.0]}), _source(), classifier=model[0])


@case("training positions that repeat", InputError, "repeat an earlier row.*unique")
def _(tmp_path, model):
    # A galaxy given twice would be in the training and the validation set at once.
    MorphologyClassifier(verbose=0).fit(Table({"ra": [150.0, 150.0], "dec": [2.0, 2.0]}),
                                        ["spiral", "spiral"], source=_source())


@case("baseline training positions that repeat", InputError, "repeat an earlier row")
def _(tmp_path, model):
    from astro_morph import FeatureClassifier
    FeatureClassifier().fit(Table({"ra": [150.0, 150.0], "dec": [2.0, 2.0]}),
                            ["spiral", "spiral"], source=_source())


@case("table without RA/Dec columns", InputError, "RA")
def _(tmp_path, model):
    classify(Table({"x": [1.0], "y": [2.0]}), _source(), classifier=model[0])


@case("NaN coordinates", InputError, "NaN or infinite")
def _(tmp_path, model):
    classify(Table({"ra": [np.nan], "dec": [2.0]}), _source(), classifier=model[0])


# -- labels and training ---------------------------------------------------------------
@case("labels CSV naming missing files", InputError, "missing.*--images")
def _(tmp_path, model):
    (tmp_path / "labels.csv").write_text("filename,label\nnowhere.jpeg,spiral\n")
    MorphologyClassifier(verbose=0).fit(str(tmp_path / "labels.csv"))


@case("labels CSV with only unknown labels", InputError, "no rows labelled")
def _(tmp_path, model):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    (tmp_path / "labels.csv").write_text("filename,label\na.png,barred\n")
    MorphologyClassifier(verbose=0).fit(str(tmp_path / "labels.csv"))


@case("labels CSV without filename/label header", InputError, "'filename' and 'label'")
def _(tmp_path, model):
    (tmp_path / "labels.csv").write_text("file,class\na.png,spiral\n")
    MorphologyClassifier(verbose=0).fit(str(tmp_path / "labels.csv"))


@case("X and y of different lengths", InputError, "8 images but y has 5")
def _(tmp_path, model):
    MorphologyClassifier(verbose=0).fit(np.zeros((8, 32, 32, 3), "float32"), ["spiral"] * 5)


@case("a class with a single labelled image", InputError, "at least 2 examples")
def _(tmp_path, model):
    MorphologyClassifier(verbose=0).fit(np.zeros((3, 32, 32, 3), "float32"),
                                        ["spiral", "elliptical", "spiral"])


@case("unknown backbone", InputError, "unknown backbone.*choose one of")
def _(tmp_path, model):
    MorphologyClassifier(backbone="vgg99", verbose=0).fit(np.zeros((4, 32, 32, 3), "float32"),
                                                          ["spiral", "elliptical"] * 2)


@case("conflicting options: ImageNet weights for the compact CNN", InputError,
      "no ImageNet weights")
def _(tmp_path, model):
    MorphologyClassifier(weights="imagenet", verbose=0).fit(
        np.zeros((4, 32, 32, 3), "float32"), ["spiral", "elliptical"] * 2)


@case("conflicting options: radius column for bare coordinates", InputError,
      "radius_column")
def _(tmp_path, model):
    classify(_CENTRE, _source(), classifier=model[0], radius_column="r90")


# -- model files -----------------------------------------------------------------------
@case("corrupt model file", ModelFileError, "corrupt or truncated")
def _(tmp_path, model):
    path = tmp_path / "cut.keras"
    path.write_bytes(model[1].read_bytes()[:3000])
    MorphologyClassifier.load(path)


@case("model file from another program", ModelFileError, "not an astro_morph model")
def _(tmp_path, model):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    MorphologyClassifier.load(path)


@case("model file with modified weights", ModelFileError, "checksum")
def _(tmp_path, model):
    path = tmp_path / "edited.keras"
    with zipfile.ZipFile(model[1]) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "model.weights.h5":
                middle = len(data) // 2  # flip some bytes inside the weight data
                data = data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 16]) \
                    + data[middle + 16:]
            target.writestr(item, data)
    MorphologyClassifier.load(path)


@case("model file holding code (a Lambda layer)", ModelFileError, "Keras could not load")
def _(tmp_path, model):
    import keras
    clf, good = model
    inputs = keras.Input((16, 16, 3))
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = tmp_path / "code.keras"
    lambda_model.save(path)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "a") as target:
        target.writestr("astro_morph.json", source.read("astro_morph.json").decode().replace(
            _weights_sha(good), _weights_sha(path)))
    MorphologyClassifier.load(path)


def _weights_sha(path):
    import hashlib
    with zipfile.ZipFile(path) as archive:
        return hashlib.sha256(archive.read("model.weights.h5")).hexdigest()


@case("model saved under a name Keras cannot read back", ModelFileError, r"\.keras")
def _(tmp_path, model):
    model[0].save(tmp_path / "model.h5")


# -- outputs and the command line ------------------------------------------------------
@case("output table with an unknown extension", InputError, "table format")
def _(tmp_path, model):
    write_table(Table({"a": [1]}), tmp_path / "out.xyz")


@case("output that exists, without overwrite", InputError, "exists.*overwrite")
def _(tmp_path, model):
    (tmp_path / "out.ecsv").write_text("keep me\n")
    try:
        classify_catalog(_CENTRE, _source(), tmp_path / "out.ecsv", classifier=model[0])
    finally:
        assert (tmp_path / "out.ecsv").read_text() == "keep me\n"


@case("chunk size that is not a positive integer", InputError, "chunk_size")
def _(tmp_path, model):
    classify_catalog(_CENTRE, _source(), tmp_path / "out.ecsv", classifier=model[0],
                     chunk_size=0)


@case("classify given no image source", InputError, "image source")
def _(tmp_path, model):
    classify(_CENTRE, "images.fits", classifier=model[0])


# -- numbers and units at the public boundary ------------------------------------------
def _toy():
    images = np.random.default_rng(1).random((8, 16, 16, 3)).astype("float32")
    return images, ["spiral", "elliptical"] * 4


@pytest.mark.parametrize("name, value, match", [
    ("time_budget", -5, r"time_budget must be a Quantity above 0 s, got -5.0 s"),
    ("time_budget", 0 * u.s, "time_budget must be a Quantity above 0 s"),
    ("time_budget", 3 * u.kg, "time_budget must be a Quantity convertible to s"),
    ("epochs", 0, r"epochs must be a number in \[1, inf\), got 0"),
    ("epochs", 2.5, "epochs must be a whole number"),
    ("batch_size", 0, "batch_size must be a number in"),
    ("learning_rate", 0.0, r"learning_rate must be a number in \(0, inf\)"),
    ("patience", -1, "patience must be a number in"),
    ("colour_jitter", 2.0, r"colour_jitter must be a number in \[0, 1\]"),
])
def test_bad_hyper_parameter_names_itself_before_training(name, value, match):
    images, labels = _toy()
    clf = MorphologyClassifier(input_size=16, epochs=1, batch_size=8, verbose=0)
    with pytest.raises(InputError, match=match):
        clf.set_params(**{name: value}).fit(images, labels)
    assert not hasattr(clf, "model_")


# -- schemas and votes -----------------------------------------------------------------
@case("a schema of no known name", InputError, r"unknown schema 'gz3'.*\['gz1', 'gz2'\]")
def _(tmp_path, model):
    images, labels = _toy()
    MorphologyClassifier(schema="gz3", input_size=16, epochs=1, verbose=0).fit(images, labels)


@case("votes with negative counts", InputError, "negative")
def _(tmp_path, model):
    images, _ = _toy()
    votes = -np.ones((8, 37))
    MorphologyClassifier(schema="gz2", input_size=16, epochs=1, verbose=0).fit(images, votes)


@case("votes of another schema's width", InputError, r"\(N, 37\) for the 37 answers")
def _(tmp_path, model):
    images, _ = _toy()
    MorphologyClassifier(schema="gz2", input_size=16, epochs=1, verbose=0).fit(
        images, np.ones((8, 6)))


@case("a vote table without vote columns", InputError, "no vote column of schema 'gz2'")
def _(tmp_path, model):
    images, _ = _toy()
    MorphologyClassifier(schema="gz2", input_size=16, epochs=1, verbose=0).fit(
        images, Table({"smooth": np.ones(8)}))


@case("class labels that are no answer of the tree", InputError,
      r"unknown label\(s\) \['barred'\]; the labels of schema 'gz2' are.*or give votes")
def _(tmp_path, model):
    images, _ = _toy()
    MorphologyClassifier(schema="gz2", input_size=16, epochs=1, verbose=0).fit(
        images, ["barred", "spiral"] * 4)


@case("vote columns of a schema the model does not answer", InputError,
      r"answers schema 'classes'.*not all of 'gz2'")
def _(tmp_path, model):
    classify(_CENTRE, _source(), classifier=model[0], schema="gz2")


@case("predicted votes of a model not fitted", InputError, "not fitted")
def _(tmp_path, model):
    MorphologyClassifier().predict_votes(np.zeros((1, 16, 16, 3)))


@case("a probability threshold outside [0, 1]", InputError,
      r"threshold must be a number in \[0, 1\], got 1.5")
def _(tmp_path, model):
    from astro_morph import evaluate
    evaluate(["spiral", "elliptical"], [0.9, 0.1], threshold=1.5)


@case("fine-tuning for no epochs", InputError, r"epochs must be a number in \[1, inf\)")
def _(tmp_path, model):
    from astro_morph import fine_tune
    fine_tune(model[0], *_toy(), epochs=0)


@case("recursive training adding no galaxy per round", InputError, "per_round")
def _(tmp_path, model):
    from astro_morph import self_train
    images, labels = _toy()
    self_train(model[0], (images, labels), images, test_sets={"t": (images, labels)},
               per_round=0)


@case("a cutout framing of 4 pixels", InputError, "at least 8")
def _(tmp_path, model):
    classify(_CENTRE, _source(), classifier=model[0], framing={"size": 4})


@case("a negative field of view", InputError, "field must be a Quantity above 0 arcsec")
def _(tmp_path, model):
    classify(_CENTRE, _source(), classifier=model[0], framing=-30 * u.arcsec)


@case("a crop fraction of zero", InputError, r"crop_fraction must be a number in \(0, 1\]")
def _(tmp_path, model):
    from astro_morph import Preprocessing
    Preprocessing(input_size=32, crop_fraction=0.0)


@case("classify batches of no galaxies", InputError, r"batch_size must be a number in \[1, ")
def _(tmp_path, model):
    classify(_CENTRE, _source(), classifier=model[0], batch_size=0)


def _cli(argv, match):
    """Run the CLI: it must exit with status 2 and our message, not a traceback."""
    def run(tmp_path, model, capsys):
        assert main([str(a).format(tmp=tmp_path, model=model[1]) for a in argv]) == 2
        error = capsys.readouterr().err
        assert error.startswith("astro-morph: error:")
        raise InputError(error)  # let the common check match the message
    return run


CLI_CASES = {
    "CLI train to a model path that is not .keras": (
        ["train", "--labels", "{tmp}/labels.csv", "--out", "{tmp}/model.h5"], r"\.keras"),
    "CLI classify of a catalog file that does not exist": (
        ["classify", "{tmp}/nowhere.ecsv", "--fits", "r={tmp}/r.fits", "--out",
         "{tmp}/out.ecsv", "--model", "{model}"], "does not exist"),
    "CLI classify with a FITS file that does not exist": (
        ["classify", "{tmp}/cat.ecsv", "--fits", "r={tmp}/nowhere.fits", "--out",
         "{tmp}/out.ecsv", "--model", "{model}"], "does not exist"),
    "CLI evaluate with a corrupt model": (
        ["evaluate", "{tmp}/cat.ecsv", "--labels", "{tmp}/labels.csv"], "corrupt|not an"),
    "CLI demo with too few galaxies": (
        ["demo", "--out", "{tmp}/demo", "--n-galaxies", "10"], "n_galaxies >= 100"),
    "CLI report on a labels file that does not exist": (
        ["report", "{model}", "--labels", "{tmp}/nowhere.csv", "--out", "{tmp}/report"],
        "does not exist"),
    "CLI classify with a band of no known survey": (
        ["classify", "{tmp}/cat.ecsv", "--fits", "q={tmp}/r.fits", "--out", "{tmp}/out.ecsv",
         "--model", "{model}"], "no known survey.*--survey"),
    "CLI classify with one band of three": (
        ["classify", "{tmp}/cat.ecsv", "--fits", "r={tmp}/r.fits", "--out", "{tmp}/out.ecsv",
         "--model", "{model}", "--survey", "sdss"], r"lacks \['g', 'i'\].*--fits BAND=FILE"),
    "CLI train for no epochs": (
        ["train", "--labels", "{tmp}/labels.csv", "--out", "{tmp}/m.keras", "--epochs", "0"],
        "epochs must be"),
    "CLI train with a negative time budget": (
        ["train", "--labels", "{tmp}/labels.csv", "--out", "{tmp}/m.keras", "--time-budget",
         "-1"], "time_budget must be"),
    "CLI classify with cutouts of 4 pixels": (
        ["classify", "{tmp}/cat.ecsv", "--fits", "g={tmp}/r.fits", "--fits", "r={tmp}/r.fits",
         "--fits", "i={tmp}/r.fits", "--survey", "sdss", "--out", "{tmp}/out.ecsv",
         "--model", "{model}", "--size", "4"], "at least 8"),
    "CLI classify in chunks of no rows": (
        ["classify", "{tmp}/cat.ecsv", "--fits", "r={tmp}/r.fits", "--out", "{tmp}/out.ecsv",
         "--model", "{model}", "--chunk-size", "0"], "chunk_size"),
    "CLI classify of a table file that is not a table": (
        ["classify", "{tmp}/garbage.ecsv", "--fits", "r={tmp}/r.fits", "--out",
         "{tmp}/out.ecsv", "--model", "{model}"], "garbage.ecsv"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name, model, tmp_path):
    function, error, match = CASES[name]
    before = set(os.listdir(tmp_path))
    with pytest.raises(error, match=match) as info:
        function(tmp_path, model)
    assert isinstance(info.value, AstroMorphError)
    _nothing_partial(tmp_path, before)


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_bad_command_line(name, model, tmp_path, capsys):
    argv, match = CLI_CASES[name]
    Table({"ra": [150.0], "dec": [2.0]}).write(tmp_path / "cat.ecsv")
    fits.PrimaryHDU(np.ones((100, 100)), header=_wcs().to_header()).writeto(tmp_path / "r.fits")
    (tmp_path / "garbage.ecsv").write_bytes(b"# %ECSV 1.0\n\x00\x01 not a table\n")
    before = set(os.listdir(tmp_path))
    with pytest.raises(InputError, match=match):
        _cli(argv, match)(tmp_path, model, capsys)
    _nothing_partial(tmp_path, before)


def _nothing_partial(folder, before):
    """No output, temporary or partial file was left behind by the failed call."""
    left = set(os.listdir(folder)) - before
    assert not {name for name in left if name.startswith(".") or ".part" in name}, left


def test_the_suite_is_large_enough():
    assert len(CASES) + len(CLI_CASES) >= 20
