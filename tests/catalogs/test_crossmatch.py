import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astro_morph import InputError, crossmatch
from astro_morph.catalogs.crossmatch import match_one_to_one


def _unit_vectors(ra, dec):
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def _brute_force(left, right, max_arcsec):
    """Full separation matrix, then the same closest-first one-to-one rule."""
    a = _unit_vectors(left.ra.deg, left.dec.deg)
    b = _unit_vectors(right.ra.deg, right.dec.deg)
    sep = np.degrees(np.arccos(np.clip(a @ b.T, -1, 1))) * 3600
    pairs = np.argwhere(sep <= max_arcsec)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], sep[pairs[:, 0], pairs[:, 1]]))
    result = np.full(len(left), -1)
    taken = set()
    for i, j in pairs[order]:
        if result[i] < 0 and j not in taken:
            result[i] = j
            taken.add(j)
    return result, sep


def test_agrees_with_brute_force_on_thousands_of_random_positions():
    rng = np.random.default_rng(42)
    n = 3000
    # A dense 0.3 x 0.3 deg field so that near neighbours and conflicts occur.
    ra_r, dec_r = 150 + rng.uniform(0, 0.3, n), 2 + rng.uniform(0, 0.3, n)
    right = SkyCoord(ra_r, dec_r, unit="deg")
    pick = rng.permutation(n)[:2000]
    jitter = rng.normal(0, 1.2, (2000, 2)) / 3600
    left = SkyCoord(ra_r[pick] + jitter[:, 0], dec_r[pick] + jitter[:, 1], unit="deg")
    index, separation = match_one_to_one(left, right, 2 * u.arcsec)
    expected, sep = _brute_force(left, right, 2.0)
    np.testing.assert_array_equal(index, expected)
    ok = index >= 0
    np.testing.assert_allclose(separation[ok].to_value(u.arcsec), sep[ok, index[ok]], atol=1e-3)
    # Rows with no competitor get plain nearest-neighbour answers.
    nearest = np.argmin(sep, axis=1)
    assert np.mean(index[ok] == nearest[ok]) > 0.97
    assert 1200 < ok.sum() < 2000


def test_source_claimed_twice_goes_to_closest():
    right = Table({"ra": [10.0], "dec": [0.0], "name": ["galaxy"]})
    left = Table({"ra": [10.0 + 0.5 / 3600, 10.0 - 0.2 / 3600], "dec": [0.0, 0.0]})
    matched = crossmatch(left, right, max_separation=1 * u.arcsec, join_type="left")
    assert list(matched["right_index"]) == [-1, 0]
    assert matched["separation"].mask.tolist() == [True, False]
    assert matched["separation"][1] == pytest.approx(0.2, abs=1e-6)
    assert matched["name"].mask.tolist() == [True, False]
    # Same answer whatever the row order of the left table.
    swapped = crossmatch(left[::-1], right, max_separation=1 * u.arcsec)
    assert swapped["separation"][0] == pytest.approx(0.2, abs=1e-6)


def test_inner_join_keeps_order_columns_and_meta():
    left = Table({"ra": [1.0, 2.0, 3.0], "dec": [0.0, 0.0, 0.0], "id": [1, 2, 3]})
    right = Table({"RA": [3.0, 1.0], "DEC": [0.0, 0.0], "id": ["c", "a"]})
    matched = crossmatch(left, right)
    assert list(matched["id"]) == [1, 3]
    assert list(matched["id_2"]) == ["a", "c"]
    assert matched["separation"].unit == u.arcsec
    assert matched["separation"].quantity.unit == u.arcsec
    info = matched.meta["crossmatch"]
    assert (info["n_matched"], info["n_unmatched_left"], info["n_right"]) == (2, 1, 2)
    assert info["max_separation_arcsec"] == 1.0 and "versions" in info


def test_skycoord_inputs():
    coords = SkyCoord([1.0, 2.0], [0.0, 0.0], unit="deg")
    matched = crossmatch(coords, coords[::-1])
    assert list(matched["right_index"]) == [1, 0]


@pytest.mark.parametrize("kwargs,match", [
    ({"max_separation": 1.0}, "angle Quantity"),
    ({"max_separation": -1 * u.arcsec}, "positive"),
    ({"join_type": "outer"}, "join_type"),
])
def test_bad_options(kwargs, match):
    table = Table({"ra": [1.0], "dec": [0.0]})
    with pytest.raises(InputError, match=match):
        crossmatch(table, table, **kwargs)


def test_bad_catalog_type():
    with pytest.raises(InputError, match="must be an astropy Table"):
        crossmatch([1, 2], Table({"ra": [1.0], "dec": [0.0]}))


def test_real_sdss_catalogue(shared_data):
    folder = shared_data / "fits" / "celeste-sdss-stamps"
    catalogue = Table.read(folder / "coadd_for_3325_5_110.fit")
    other = Table.read(folder / "coadd_for_4263_5_119.fit")
    # Re-observe the real catalogue with 0.1" astrometric errors, shuffled.
    rng = np.random.default_rng(1)
    again = catalogue[rng.permutation(len(catalogue))]
    coords = SkyCoord(again["ra"], again["dec"], unit="deg").spherical_offsets_by(
        rng.normal(0, 0.1, len(again)) * u.arcsec, rng.normal(0, 0.1, len(again)) * u.arcsec)
    again["ra"], again["dec"] = coords.ra.deg, coords.dec.deg
    matched = crossmatch(catalogue, again, max_separation=1 * u.arcsec)
    # Each object finds itself, except members of close pairs that swap or drop.
    assert np.mean(matched["objid"] == matched["objid_2"]) > 0.99
    assert len(matched) > 0.99 * len(catalogue)
    assert np.median(matched["separation"]) < 0.2
    both = crossmatch(catalogue, other, max_separation=1 * u.arcsec, join_type="left")
    assert len(both) == len(catalogue)
