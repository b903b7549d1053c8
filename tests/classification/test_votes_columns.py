"""classify and classify_catalog with a schema: a column per answer, described, in any format."""

import json

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from astro_morph import InputError, classify, classify_catalog, read_table
from astro_morph.catalogs import GZ2, Schema
from astro_morph.cli import main


def test_classify_adds_every_gz2_answer_beside_p_spiral(small_mock, gz2_model):
    catalog = small_mock.catalog("des")
    catalog.add_row(catalog[0])
    catalog["ra"][-1], catalog["dec"][-1] = 10 * u.deg, 10 * u.deg  # off the images
    result = classify(catalog, small_mock.source("des"), classifier=gz2_model, prefix="des_")
    for answer in GZ2.answers:
        column = result["des_" + answer]
        assert column.unit == u.one and "volunteers" in column.info.description
        assert "des_" + answer + "_std" in result.colnames
        assert column.mask[-1] and not column.mask[:-1].any()
    for question in GZ2.questions:
        assert "des_" + question.name + "_asked" in result.colnames
    good = ~result["des_p_spiral"].mask
    a, b = GZ2.bounds[0]
    t01 = np.stack([result["des_" + n][good] for n in GZ2.answers[a:b]], axis=1)
    np.testing.assert_allclose(t01.sum(axis=1), 1, rtol=1e-6)
    # p_spiral follows GZ2's binary rule (featured against smooth) on the same network,
    # view by view (the ratio of the means differs from the mean of the ratios a little).
    expected = t01[:, 1] / (t01[:, 0] + t01[:, 1])
    np.testing.assert_allclose(result["des_p_spiral"][good], expected, rtol=1e-3)
    assert result.meta["AMSCHEMA"] == "gz2"
    assert Schema.from_dict(json.loads(result.meta["AMTREE"])) == GZ2


def test_a_model_of_classes_adds_no_vote_columns_and_schemas_it_lacks_are_refused(
        small_mock, small_model, gz2_model):
    catalog = small_mock.catalog("des")[:3]
    plain = classify(catalog, small_mock.source("des"), classifier=small_model)
    assert not [name for name in plain.colnames if name.startswith("t01")]
    assert plain.meta["AMSCHEMA"] == ""
    with pytest.raises(InputError, match="answers schema 'gz2'.*not all of 'gz1'"):
        classify(catalog, small_mock.source("des"), classifier=gz2_model, schema="gz1")
    with pytest.raises(InputError, match="unknown schema"):
        classify(catalog, small_mock.source("des"), classifier=gz2_model, schema="gz9")


@pytest.mark.parametrize("extension", [".fits", ".vot", ".ecsv"])
def test_classify_catalog_writes_the_vote_columns_and_the_tree(tmp_path, small_mock, gz2_model,
                                                               extension):
    out = tmp_path / f"votes{extension}"
    classify_catalog(small_mock.catalog("des")[:5], small_mock.source("des"), out,
                     classifier=gz2_model, chunk_size=2, progress=False)
    table = read_table(out)
    assert set(GZ2.answers) <= set(table.colnames)
    assert table.meta["AMSCHEMA"] == "gz2"
    assert Schema.from_dict(json.loads(table.meta["AMTREE"])) == GZ2
    direct = classify(small_mock.catalog("des")[:5], small_mock.source("des"),
                      classifier=gz2_model)
    np.testing.assert_allclose(table["t03_bar_a06_bar"], direct["t03_bar_a06_bar"], rtol=1e-5)


def test_command_line_classify_and_train_with_a_schema(tmp_path, capsys, small_mock, gz2_model):
    model = gz2_model.save(tmp_path / "gz2.keras")
    paths = small_mock.write(tmp_path / "mock")["des"]
    catalog = tmp_path / "catalog.ecsv"
    small_mock.catalog("des")[:3].write(catalog)
    out = tmp_path / "classified.fits"
    args = ["classify", str(catalog), "--survey", "des", "--out", str(out), "--model",
            str(model)]
    for band, path in paths["images"].items():
        args += ["--fits", f"{band}={path}"]
    assert main([*args, "--schema", "gz2"]) == 0
    table = Table.read(out)
    assert set(GZ2.answers) <= set(table.colnames) and len(table) == 3
    assert "gz2 vote columns" in capsys.readouterr().out
    assert main([*args, "--schema", "gz1", "--overwrite"]) == 2
    assert "not all of 'gz1'" in capsys.readouterr().err


@pytest.mark.slow
def test_train_command_learns_votes_from_a_catalogue_csv(tmp_path, capsys, labelled_folder):
    from astro_morph import MorphologyClassifier
    from conftest import synthetic_gz2_votes

    labels_csv = labelled_folder(tmp_path, n=24, side=32)
    rows = Table.read(labels_csv, format="ascii.csv")
    fractions = GZ2.fractions(synthetic_gz2_votes(rows["label"]))
    votes = Table({"filename": rows["filename"], "total_classifications": np.full(24, 40)})
    for k, answer in enumerate(GZ2.answers):
        votes[answer + "_weighted_fraction"] = np.nan_to_num(fractions[:, k])
    votes.write(tmp_path / "votes.csv", format="ascii.csv")
    model = tmp_path / "votes.keras"
    assert main(["train", "--labels", str(tmp_path / "votes.csv"), "--schema", "gz2",
                 "--out", str(model), "--epochs", "1", "--quiet"]) == 0
    trained = MorphologyClassifier.load(model)
    assert trained.schema_ == GZ2
    assert trained.training_info_["galaxies_per_question"]["t01_smooth_or_features"] == 24
    assert main(["train", "--labels", str(labels_csv), "--schema", "gz2", "--out",
                 str(model), "--epochs", "1", "--quiet"]) == 2
    assert "no vote column" in capsys.readouterr().err
