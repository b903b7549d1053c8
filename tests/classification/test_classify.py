"""classify: the catalog back with morphology columns, units and provenance."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table

from astro_morph import (
    InputError,
    classify,
    classify_catalog,
    make_cutouts,
    read_table,
    write_table,
)
from astro_morph.imaging import CUTOUT_FLAGS

from helpers import SMALL


def test_classify_adds_columns_units_and_meta(small_mock, small_model):
    catalog = small_mock.catalog("des")
    catalog.add_row(catalog[0])
    catalog["ra"][-1], catalog["dec"][-1] = 10 * u.deg, 10 * u.deg  # off the images
    result = classify(catalog, small_mock.source("des"), classifier=small_model, prefix="des_")
    assert result is not catalog and "des_p_spiral" not in catalog.colnames
    for name in ("p_spiral", "p_elliptical", "morphology", "p_spiral_std", "uncertain", "flag"):
        assert "des_" + name in result.colnames
    p = result["des_p_spiral"]
    assert p.unit == u.dimensionless_unscaled
    good = ~p.mask
    np.testing.assert_allclose(p[good] + result["des_p_elliptical"][good], 1.0)
    assert p.mask[-1] and result["des_flag"][-1] & CUTOUT_FLAGS["outside_footprint"]
    assert good.sum() == len(catalog) - 1
    assert set(result["des_morphology"][good]) <= {"spiral", "elliptical"}
    assert result.meta["AMBACKBN"] == "compact" and result.meta["AMSURVEY"] == "des"
    assert result.meta["AMPREFIX"] == "des_" and result.meta["AMCUTPIX"] == 32
    in_place = classify(catalog, small_mock.source("des"), classifier=small_model, copy=False)
    assert in_place is catalog and "p_spiral" in catalog.colnames


def test_classify_reads_a_catalog_file_like_classify_catalog(small_mock, small_model, tmp_path):
    catalog = small_mock.catalog("des")[:4]
    path = tmp_path / "catalog.ecsv"
    write_table(catalog, path)
    from_file = classify(path, small_mock.source("des"), classifier=small_model)
    in_memory = classify(catalog, small_mock.source("des"), classifier=small_model)
    assert from_file.colnames == in_memory.colnames
    np.testing.assert_allclose(from_file["p_spiral"], in_memory["p_spiral"], rtol=1e-6)


@pytest.mark.parametrize("suffix", [".ecsv", ".fits", ".vot"])
def test_columns_and_meta_survive_round_trips(small_mock, small_model, tmp_path, suffix):
    result = classify(small_mock.catalog("des")[:4], small_mock.source("des"),
                      classifier=small_model)
    path = tmp_path / f"classified{suffix}"
    write_table(result, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left
    back = read_table(path)
    np.testing.assert_allclose(np.asarray(back["p_spiral"]), np.asarray(result["p_spiral"]))
    assert list(back["morphology"]) == list(result["morphology"])
    assert back["p_spiral"].unit == u.dimensionless_unscaled
    for key in ("AMBACKBN", "AMSHA256", "AMVERS", "AMTEMP", "AMDATE"):
        assert str(back.meta[key]) == str(result.meta[key])


def test_classify_skycoord_and_radius_column(small_mock, small_model):
    coords = SkyCoord(small_mock.truth["ra"][:3], small_mock.truth["dec"][:3])
    result = classify(coords, small_mock.source("sdss"), classifier=small_model)
    assert isinstance(result, QTable) and len(result) == 3
    table = Table(small_mock.catalog("sdss")[:3])
    table["petroR90"] = [8.0, 9.0, 8.0] * u.arcsec
    framed = classify(table, small_mock.source("sdss"), classifier=small_model,
                      radius_column="petroR90")
    assert np.all(np.isfinite(framed["p_spiral"]))
    with pytest.raises(InputError, match="radius_column"):
        classify(table, small_mock.source("sdss"), classifier=small_model, radius_column="nope")
    with pytest.raises(InputError, match="source"):
        classify(table, "DES_g.fits", classifier=small_model)


def test_predict_on_cutouts_and_positions_agree(small_mock, small_model):
    catalog = small_mock.catalog("sdss")[:4]
    cutouts = make_cutouts(small_mock.source("sdss"), catalog, **SMALL.cutout_kwargs(SMALL.field))
    np.testing.assert_allclose(small_model.predict_proba(cutouts),
                               small_model.predict_proba(catalog, source=small_mock.source("sdss")))


def test_classify_resampling_choices(small_mock, small_model):
    catalog = small_mock.catalog("des")[:3]
    fast = classify(catalog, small_mock.source("des"), classifier=small_model, framing={"size": 48})
    exact = classify(catalog, small_mock.source("des"), classifier=small_model,
                     framing={"size": 48, "resampling": "exact"})
    assert fast.meta["AMRESAMP"] == "fast" and exact.meta["AMRESAMP"] == "exact"
    assert fast.meta["AMCUTPIX"] == 48
    np.testing.assert_allclose(fast["p_spiral"], exact["p_spiral"], atol=0.05)
    with pytest.raises(InputError, match="resampling must be one of"):
        classify(catalog, small_mock.source("des"), classifier=small_model,
                 framing={"resampling": "cubic"})


def test_an_empty_catalog_gets_every_column(small_mock, small_model, tmp_path):
    catalog = small_mock.catalog("des")
    cut = catalog[np.zeros(len(catalog), dtype=bool)]  # e.g. after a magnitude cut
    assert len(cut) == 0
    full = classify(catalog[:2], small_mock.source("des"), classifier=small_model, prefix="des_")
    empty = classify(cut, small_mock.source("des"), classifier=small_model, prefix="des_")
    assert len(empty) == 0 and empty.colnames == full.colnames
    for name in empty.colnames:
        assert getattr(empty[name], "unit", None) == getattr(full[name], "unit", None)
    assert empty.meta["AMBACKBN"] == "compact" and empty.meta["AMCUTPIX"] == 32
    written = classify_catalog(cut, small_mock.source("des"), tmp_path / "none.ecsv",
                               classifier=small_model, prefix="des_")
    assert len(written) == 0 and written.colnames == full.colnames
    assert sorted(p.name for p in tmp_path.iterdir()) == ["none.ecsv"]
    assert written["des_p_spiral"].unit == u.dimensionless_unscaled


def test_the_command_line_classifies_an_empty_catalog(small_mock, small_model, tmp_path, capsys):
    from astro_morph.cli import main
    files = small_mock.write(tmp_path / "small_mock")["des"]
    model = tmp_path / "model.keras"
    small_model.save(model)
    Table({"ra": np.zeros(0), "dec": np.zeros(0)}).write(tmp_path / "empty.ecsv")
    argv = ["classify", str(tmp_path / "empty.ecsv"), "--out", str(tmp_path / "out.ecsv"),
            "--model", str(model), "--survey", "des"]
    for band, path in files["images"].items():
        argv += ["--fits", f"{band}={path}"]
    assert main(argv) == 0
    assert "0 rows" in capsys.readouterr().out
    assert len(read_table(tmp_path / "out.ecsv")) == 0
