import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table

from astro_morph import InputError, parse_positions
from astro_morph.catalogs.positions import find_coordinate_columns


@pytest.mark.parametrize("ra_name,dec_name", [("ra", "dec"), ("RA", "DEC"), ("ra_deg", "dec_deg"),
                                              ("RAJ2000", "DEJ2000"), ("RA_ICRS", "DE_ICRS")])
def test_table_column_spellings(ra_name, dec_name):
    coords = parse_positions(Table({ra_name: [10.5, 20.25], dec_name: [-1.0, 30.0]}))
    np.testing.assert_allclose(coords.ra.deg, [10.5, 20.25])
    np.testing.assert_allclose(coords.dec.deg, [-1.0, 30.0])


def test_table_with_units_converts():
    table = QTable({"ra": [1.0] * u.hourangle, "dec": [3600.0] * u.arcsec})
    coords = parse_positions(table)
    assert coords.ra.deg[0] == pytest.approx(15.0)
    assert coords.dec.deg[0] == pytest.approx(1.0)


def test_sexagesimal_strings():
    coords = parse_positions(Table({"ra": ["01:51:48.48"], "dec": ["+00:15:48.7"]}))
    assert coords.ra.deg[0] == pytest.approx(27.952, abs=1e-4)
    assert coords.dec.deg[0] == pytest.approx(0.26353, abs=1e-4)


def test_skycoord_column_and_frames():
    galactic = SkyCoord(l=[96.3] * u.deg, b=[60.2] * u.deg, frame="galactic")
    assert parse_positions(QTable({"pos": galactic})).frame.name == "icrs"
    scalar = parse_positions(SkyCoord(1 * u.deg, 2 * u.deg))
    assert scalar.shape == (1,)


def test_tuple_of_quantities():
    coords = parse_positions(([1.0, 2.0] * u.deg, [3.0, 4.0] * u.deg))
    assert coords.shape == (2,)


@pytest.mark.parametrize("bad,match", [
    ([1.0, 2.0], "cannot read sky positions from a list"),
    ((1.0, 2.0), "Quantities with angle units"),
    ((1 * u.deg,), r"must be \(ra, dec\)"),
    (Table({"x": [1.0], "y": [2.0]}), "no RA/Dec columns"),
    (Table({"ra": np.array([], float), "dec": np.array([], float)}), "catalog is empty"),
    (Table({"ra": [1.0, np.nan], "dec": [1.0, 2.0]}), "NaN or infinite"),
    (Table({"ra": [1.0], "dec": [95.0]}), "not valid sky positions"),
    (QTable({"ra": [1.0] * u.m, "dec": [1.0] * u.deg}), "not an angle"),
])
def test_bad_positions_raise_input_error(bad, match):
    with pytest.raises(InputError, match=match):
        parse_positions(bad)


def test_find_coordinate_columns_prefers_exact_names():
    table = Table({"RAJ2000": [1.0], "ra": [2.0], "dec": [3.0]})
    assert find_coordinate_columns(table) == ("ra", "dec")
