"""SimilarityIndex: exact and approximate search, duplicates, oddity, bad queries, files."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable

from astro_morph import InputError, ModelFileError, SimilarityIndex


def _clustered(n, dim=16, clusters=40, seed=0):
    """Unit vectors around ``clusters`` centres, as a catalogue's embeddings are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.integers(0, clusters, n)] + 0.4 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _catalog(n, seed=0):
    rng = np.random.default_rng(seed)
    return QTable({"ra": rng.uniform(150, 151, n) * u.deg, "dec": rng.uniform(2, 3, n) * u.deg,
                  "name": [f"g{i}" for i in range(n)]})


def test_approximate_search_finds_what_exact_search_finds():
    vectors = _clustered(6000)
    exact = SimilarityIndex(vectors)
    approximate = SimilarityIndex(vectors, exact_below=1000)
    assert "exact" in repr(exact) and "ivf" in repr(approximate)
    queries = list(range(0, 6000, 60))
    want = exact.search(queries, k=10)
    got = approximate.search(queries, k=10)
    recall = np.mean([len(set(want["index"][want["query"] == q])
                          & set(got["index"][got["query"] == q])) / 10
                      for q in range(len(queries))])
    assert recall >= 0.95
    # Exact similarities are the dot products, best first, the query itself left out.
    first = want[want["query"] == 0]
    np.testing.assert_allclose(first["similarity"], vectors[first["index"]] @ vectors[0],
                               rtol=1e-5)
    assert np.all(np.diff(first["similarity"]) <= 0) and 0 not in first["index"]
    assert list(first["rank"]) == list(range(1, 11))


def test_the_query_galaxy_and_its_duplicates_are_left_out():
    vectors, catalog = _clustered(50), _catalog(50)
    # Row 7 is row 3 observed again 1 arcsec away; row 8 is 20 arcsec away, a neighbour.
    catalog["ra"][7], catalog["dec"][7] = catalog["ra"][3], catalog["dec"][3] + 1 * u.arcsec
    catalog["ra"][8], catalog["dec"][8] = catalog["ra"][3], catalog["dec"][3] + 20 * u.arcsec
    vectors[7] = vectors[8] = vectors[3]
    index = SimilarityIndex(vectors, table=catalog)
    found = index.search(3, k=5)
    assert 3 not in found["index"] and 7 not in found["index"]
    assert found["index"][0] == 8 and found["similarity"][0] == pytest.approx(1.0, abs=1e-6)
    assert found["separation"].unit == u.arcsec
    assert found["separation"][0] == pytest.approx(20, rel=1e-3)
    assert list(found["name"]) == [f"g{i}" for i in found["index"]]
    by_position = index.search(SkyCoord(catalog["ra"][3], catalog["dec"][3] + 0.3 * u.arcsec),
                               k=5)
    assert list(by_position["index"]) == list(found["index"])
    # An embedding query knows no position: no separation, nothing left out.
    by_vector = index.search(vectors[3], k=3)
    assert set(by_vector["index"]) == {3, 7, 8} and np.all(by_vector["separation"].mask)


def test_rows_without_an_embedding_are_never_returned():
    vectors = _clustered(30).astype(float)
    vectors[2] = np.nan
    masked = np.ma.MaskedArray(vectors, mask=np.zeros_like(vectors, bool))
    masked.mask[5] = True
    index = SimilarityIndex(masked)
    assert len(index) == 28 and index.n_rows == 30
    found = index.search(list(range(0, 30, 3))[1:], k=27)
    assert not ({2, 5} & set(found["index"]))
    odd = index.oddity(k=3)
    assert odd.mask.tolist() == [i in (2, 5) for i in range(30)]


def test_oddity_ranks_the_outlier_first_for_both_metrics():
    rng = np.random.default_rng(2)
    common = rng.normal([4, 0, 0, 0], 0.3, (200, 4))
    vectors = np.vstack([common, [[0, 0, 0, 4]]])
    for metric in ("cosine", "euclidean"):
        index = SimilarityIndex(vectors, metric=metric)
        odd = index.oddity(k=10)
        assert int(np.argmax(odd)) == 200 and odd.name == "oddity"
        column = "similarity" if metric == "cosine" else "distance"
        assert column in index.search(0, k=2).colnames


@pytest.mark.parametrize("query, match", [
    (500, "row 500 is not in the catalogue"),
    ([1, -2], "row -2 is not in the catalogue"),
    (np.zeros(5), "embedding of length 16"),
    (np.zeros((2, 8, 8, 3)), "does not know the model"),
    ("galaxy.png", "does not know the model"),
    (SkyCoord(10 * u.deg, 10 * u.deg), "no catalogue galaxy lies within"),
    (np.full(16, np.nan), "NaN"),
    ({"row": 1}, "a query is a catalogue row"),
])
def test_bad_queries_are_our_errors(query, match):
    index = SimilarityIndex(_clustered(100), table=_catalog(100))
    with pytest.raises(InputError, match=match):
        index.search(query)


def test_bad_indexes_are_our_errors(tmp_path):
    vectors = _clustered(20)
    with pytest.raises(InputError, match="one row per embedding"):
        SimilarityIndex(vectors, table=_catalog(19))
    with pytest.raises(InputError, match="metric"):
        SimilarityIndex(vectors, metric="manhattan")
    with pytest.raises(InputError, match=r"\(N, d\)"):
        SimilarityIndex(vectors[0])
    with pytest.raises(InputError, match="no row has an embedding"):
        SimilarityIndex(np.full((3, 4), np.nan))
    with pytest.raises(InputError, match="no 'embedding' column"):
        SimilarityIndex(_catalog(20))
    with pytest.raises(InputError, match="k must be"):
        SimilarityIndex(vectors).search(0, k=0)
    with pytest.raises(InputError, match="no catalogue positions"):
        SimilarityIndex(vectors).search(SkyCoord(1 * u.deg, 1 * u.deg))
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a readable similarity index"):
        SimilarityIndex.load(tmp_path / "broken.zip")


@pytest.mark.parametrize("exact_below", [100_000, 500])
def test_save_and_load_give_the_same_answers(tmp_path, exact_below):
    vectors, catalog = _clustered(3000), _catalog(3000)
    catalog["embedding"] = vectors
    catalog.meta["AMEMBED"] = "f" * 64
    path = tmp_path / "galaxies.ecsv"
    catalog.write(path)
    index = SimilarityIndex(str(path), exact_below=exact_below)
    assert index.model == "f" * 64 and "embedding" not in index.search(0, k=1).colnames
    saved = index.save(tmp_path / "index.zip")
    with pytest.raises(InputError, match="exists"):
        index.save(saved)
    loaded = SimilarityIndex.load(saved)
    assert repr(loaded) == repr(index) and loaded.model == index.model
    want, got = index.search([0, 10, 20], k=8), loaded.search([0, 10, 20], k=8)
    assert list(got["index"]) == list(want["index"]) and list(got["name"]) == list(want["name"])
    np.testing.assert_allclose(got["separation"], want["separation"])
    np.testing.assert_allclose(loaded.oddity(k=5), index.oddity(k=5), rtol=1e-6)


def test_masked_zero_and_unit_less_inputs_are_our_errors():
    index = SimilarityIndex(_clustered(50), table=_catalog(50))
    query = np.ma.MaskedArray(np.ones(16), mask=[True] + [False] * 15)
    with pytest.raises(InputError, match="masked"):
        index.search(query)
    with pytest.raises(InputError, match="all zeros"):
        index.search(np.zeros(16))
    with pytest.raises(InputError, match="match_radius must be an angle"):
        index.search(SkyCoord(150.5 * u.deg, 2.5 * u.deg), match_radius=2 * u.m)
    with pytest.raises(InputError, match="duplicate_radius must be an angle"):
        SimilarityIndex(_clustered(5), duplicate_radius="wide")


def test_catalogue_columns_named_like_ours_keep_a_prefix():
    catalog = _catalog(30)
    catalog["index"] = np.arange(30) + 1000
    found = SimilarityIndex(_clustered(30), table=catalog).search(0, k=2)
    assert list(found["catalog_index"]) == list(found["index"] + 1000)


def test_a_galaxy_with_only_duplicates_has_no_oddity():
    vectors, catalog = _clustered(3), _catalog(3)
    catalog["ra"][1], catalog["dec"][1] = catalog["ra"][0], catalog["dec"][0]
    catalog["ra"][2], catalog["dec"][2] = catalog["ra"][0], catalog["dec"][0] + 1 * u.arcsec
    assert SimilarityIndex(vectors, table=catalog).oddity(k=1).mask.tolist() == [True] * 3


def test_an_index_file_of_a_newer_version_or_foreign_parts_is_refused(tmp_path):
    import json
    import zipfile

    path = SimilarityIndex(_clustered(20)).save(tmp_path / "index.zip")
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    record = json.loads(parts["index.json"])
    for name, change in (("newer.zip", {"format_version": 99}), ("foreign.zip", {"n_rows": "x"}),
                         ("nokey.zip", None)):
        changed = {k: v for k, v in record.items() if change is not None or k != "model"}
        changed.update(change or {})
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            for part, content in parts.items():
                archive.writestr(part, json.dumps(changed) if part == "index.json" else content)
        with pytest.raises(ModelFileError, match="newer astro_morph" if name == "newer.zip"
                           else "not a readable similarity index"):
            SimilarityIndex.load(tmp_path / name)
