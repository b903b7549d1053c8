"""Embeddings of galaxies: MorphologyClassifier.embed, embed_catalog and the catalogue runner."""

import json

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astro_morph import InputError, MorphologyClassifier, embed_catalog
from astro_morph.classification import embed as embed_module
from astro_morph.classification.runner import CatalogRunner
from astro_morph.distributed import shard_indices
from astro_morph.models.embedding import embedding_fingerprint, fit_projection


def test_pretrained_embeddings_are_unit_rotation_invariant_and_small(sn2006bh):
    clf = MorphologyClassifier.pretrained()
    images = np.random.default_rng(0).random((4, 64, 64, 3)).astype(np.float32)
    vectors = clf.embed(images)
    assert vectors.shape == (4, 16) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # The 8 rotations/flips are averaged: a rotated galaxy is the same galaxy.
    turned = clf.embed(np.rot90(images, 1, axes=(1, 2)))
    np.testing.assert_allclose(turned, vectors, atol=2e-3)
    assert clf.embedding_info_["basis"] == "answers"  # the 43 answers of gz1+gz2


def test_galaxies_off_the_images_are_masked_not_embedded(small_mock, small_model):
    catalog = small_mock.catalog("des")[:3]
    coords = SkyCoord(list(catalog["ra"]) + [0.0], list(catalog["dec"]) + [-80.0],
                      unit="deg")
    vectors = small_model.embed(coords, source=small_mock.source("des"))
    assert vectors.mask[:, 0].tolist() == [False, False, False, True]
    assert np.all(vectors.mask[3])  # the whole row
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, rtol=1e-5)


def test_fit_stores_the_directions_and_save_load_keeps_them(small_mock, small_model,
                                                           tmp_path):
    assert small_model.embedding_info_["basis"] == "features"  # two answers only
    catalog, source = small_mock.catalog("des"), small_mock.source("des")
    before = small_model.embed(catalog, source=source)
    small_model.save(tmp_path / "m.keras")
    loaded = MorphologyClassifier.load(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.embed(catalog, source=source), before, atol=1e-6)
    assert embedding_fingerprint(loaded) == embedding_fingerprint(
        MorphologyClassifier.load(tmp_path / "m.keras"))


def test_a_model_without_directions_names_fit_embedding(small_mock, small_model, tmp_path):
    small_model.save(tmp_path / "m.keras")
    old = MorphologyClassifier.load(tmp_path / "m.keras")
    old.embedding_ = None  # as a file written before embeddings
    catalog, source = small_mock.catalog("sdss"), small_mock.source("sdss")
    with pytest.raises(InputError, match="fit_embedding"):
        old.embed(catalog, source=source)
    with pytest.raises(InputError, match="fit_embedding"):
        embed_catalog(catalog, source, tmp_path / "e.ecsv", classifier=old)
    assert not (tmp_path / "e.ecsv.partial").exists()  # refused before any work
    old.fit_embedding(catalog, source=source, size=4)
    assert old.embed(catalog, source=source).shape == (12, 4)


def test_projection_keeps_the_leading_directions_of_the_answers():
    rng = np.random.default_rng(3)
    features = rng.random((200, 6))
    head = rng.normal(size=(6, 10))
    projection, basis = fit_projection(features, head, size=3)
    assert basis == "answers" and projection.shape == (6, 3)
    # The same subspace as the top singular vectors of the answer scores.
    _, _, vt = np.linalg.svd(features @ head, full_matrices=False)
    np.testing.assert_allclose(np.abs(projection.T @ np.linalg.pinv(head).T @ vt[:3].T)
                               .max(axis=1), 1.0, atol=1e-4)
    again, _ = fit_projection(features, head, size=3)
    np.testing.assert_array_equal(projection, again)  # a fixed sign: the same file
    with pytest.raises(InputError, match="features"):
        fit_projection(features[:, :4], head)


def test_embed_catalog_writes_one_row_each_and_resumes(small_mock, small_model, tmp_path,
                                                      monkeypatch):
    catalog, source = small_mock.catalog("des"), small_mock.source("des")
    out = tmp_path / "embedded.ecsv"
    calls, interrupt = [], [True]
    real = embed_module.embedding_columns

    def failing(*args, **kwargs):
        calls.append(len(args[2]))
        if len(calls) == 2 and interrupt and interrupt.pop():
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(embed_module, "embedding_columns", failing)
    with pytest.raises(KeyboardInterrupt):
        embed_catalog(catalog, source, out, classifier=small_model, chunk_size=5)
    record = json.loads((tmp_path / "embedded.ecsv.partial" / "progress.json").read_text())
    assert record["done"] == [0] and not out.exists()
    calls.clear()
    result = embed_catalog(catalog, source, out, classifier=small_model, chunk_size=5)
    assert calls == [5, 2]  # the chunks not done
    assert list(result["truth_id"]) == list(catalog["truth_id"])
    direct = small_model.embed(catalog, source=source)
    np.testing.assert_allclose(np.ma.filled(result["embedding"], np.nan),
                               np.ma.filled(direct, np.nan), atol=1e-6)
    assert result.meta["AMEMBED"] == embedding_fingerprint(small_model)
    assert not (tmp_path / "embedded.ecsv.partial").exists()


def test_embeddings_survive_fits_and_votable(small_mock, small_model, tmp_path):
    catalog, source = small_mock.catalog("des")[:4], small_mock.source("des")
    for name in ("e.fits", "e.vot"):
        table = embed_catalog(catalog, source, tmp_path / name, classifier=small_model,
                              progress=False)
        # As many directions as the 9 training galaxies allow.
        assert table["embedding"].shape == (4, small_model.embedding_.shape[1]) == (4, 9)
        np.testing.assert_allclose(np.linalg.norm(np.asarray(table["embedding"]), axis=1), 1,
                                   rtol=1e-5)


@pytest.mark.parametrize("n_rows, chunk_size", [(0, 3), (1, 3), (7, 3), (9, 3), (5, 10)])
def test_the_runner_gives_every_row_once_in_order(n_rows, chunk_size, tmp_path):
    values = np.arange(n_rows) * 10

    def compute(rows):
        return {"value": values[rows], "vector": np.repeat(values[rows, None], 2, axis=1)}

    for work in (None, str(tmp_path / f"work{n_rows}")):
        written = []
        table = CatalogRunner(n_rows, chunk_size=chunk_size).run(
            compute, work=work, key="k", meta={"a": 1}, finish=written.append)
        assert list(table["value"]) == list(values) and table["vector"].shape == (n_rows, 2)
        assert len(written) == 1 and written[0] is table


def test_ranks_share_chunks_by_the_training_rule():
    shares = [shard_indices(7, rank, 3, whole=True) for rank in range(3)]
    assert sorted(np.concatenate(shares).tolist()) == list(range(7))
    assert shares[0].tolist() == [0, 3, 6]
    assert [len(shard_indices(7, rank, 3)) for rank in range(3)] == [2, 2, 2]  # training
    with pytest.raises(InputError, match="chunk_size"):
        CatalogRunner(5, chunk_size=0)


def test_similarity_index_of_embedded_catalog_searches_by_position_and_image(small_mock,
                                                                            small_model,
                                                                            tmp_path):
    from astro_morph import SimilarityIndex

    catalog, source = small_mock.catalog("des"), small_mock.source("des")
    table = embed_catalog(catalog, source, tmp_path / "e.ecsv", classifier=small_model,
                          progress=False)
    index = SimilarityIndex(table, classifier=small_model)
    position = SkyCoord(table["ra"][4], table["dec"][4], unit="deg")
    by_position = index.search(position.reshape(1), k=3)
    assert list(by_position["index"]) == list(index.search(4, k=3)["index"])
    assert 4 not in by_position["index"] and np.all(by_position["separation"] > 3 * u.arcsec)
    images, _ = small_model.network_inputs(catalog[4:5], source=source)
    by_image = index.search(images[0], k=1)
    assert by_image["index"][0] == 4 and by_image["similarity"][0] > 0.9999
    other = MorphologyClassifier.load(small_model.save(tmp_path / "o.keras"))
    other.embedding_ = other.embedding_[:, ::-1].copy()
    with pytest.raises(InputError, match="another model"):
        SimilarityIndex(table, classifier=other)
    index.save(tmp_path / "index.zip")
    with pytest.raises(InputError, match="another model"):
        SimilarityIndex.load(tmp_path / "index.zip", classifier=other)
    loaded = SimilarityIndex.load(tmp_path / "index.zip", classifier=small_model)
    assert list(loaded.search(position.reshape(1), k=3)["index"]) == \
        list(by_position["index"])
    far = SkyCoord(table["ra"][4], table["dec"][4] + 0.01 * u.deg)
    with pytest.raises(InputError, match="no catalogue galaxy lies within"):
        index.search(far)
    assert isinstance(Table(loaded.table), Table) and len(loaded.table) == len(catalog)
