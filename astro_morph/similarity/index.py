"""SimilarityIndex: the galaxies of a catalogue most like a given one, and the oddest ones."""

import os

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn, Table

from astro_morph.catalogs.positions import find_coordinate_columns, parse_positions
from astro_morph.catalogs.tableio import read_table
from astro_morph.exceptions import InputError
from astro_morph.similarity.backends import EXACT_BELOW, VectorIndex
from astro_morph.similarity.index_file import read_index_file, write_index_file
from astro_morph.utils.validate import check_integer

__all__ = ["SimilarityIndex"]

_EMBEDDING = "embedding"


class SimilarityIndex:
    """Nearest neighbours of galaxies in embedding space, with their catalogue rows.

    Parameters
    ----------
    embeddings : array, `~astropy.table.Table` or str
        (N, d) vectors, one per catalogue row (masked or NaN rows, e.g.
        galaxies that could not be cut out, are left out of the index); or a
        table with an ``embedding`` column, or its path, as
        `~astro_morph.embed_catalog` writes (then it is also the catalogue,
        and its ``AMEMBED`` key names the model).
    table : `~astropy.table.Table`, optional
        The catalogue, one row per embedding: its columns are returned with
        the neighbours, and its positions (if it has RA/Dec) give each
        neighbour's separation on the sky, SkyCoord queries and duplicates.
    metric : {"cosine", "euclidean"}
        Cosine similarity (the embeddings of `~astro_morph.MorphologyClassifier.embed`
        are made for it) or Euclidean distance.
    classifier : `~astro_morph.MorphologyClassifier`, optional
        The model the embeddings come from: searching by image embeds the
        image with it. Its fingerprint is kept (and checked against the
        table's ``AMEMBED``), so that an image query or a saved index is
        never matched with another model's embeddings.
    exact_below : int
        Up to this many galaxies the search is exact (faiss' flat index);
        above, approximate (faiss' inverted-file index, which keeps
        recall@10 above 0.95 at a fraction of the cost; see
        ``benchmarks/similarity.py``).
    duplicate_radius : `~astropy.units.Quantity`
        Galaxies closer than this on the sky to a query galaxy are its own
        duplicates and never returned as its neighbours.

    Raises
    ------
    InputError
        Embeddings of the wrong shape, a table of another length, an
        unknown metric, a classifier of another model than the table's.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.table import Table
    >>> rng = np.random.default_rng(0)
    >>> vectors = rng.normal(size=(100, 8))
    >>> catalog = Table({"ra": rng.uniform(0, 10, 100), "dec": rng.uniform(0, 10, 100)})
    >>> index = SimilarityIndex(vectors, table=catalog)
    >>> neighbours = index.search(3, k=5)
    >>> neighbours["rank"].tolist(), 3 in neighbours["index"]
    ([1, 2, 3, 4, 5], False)
    """

    def __init__(self, embeddings, *, table=None, metric="cosine", classifier=None,
                 exact_below=EXACT_BELOW, duplicate_radius=3 * u.arcsec):
        if isinstance(embeddings, (str, os.PathLike)):
            embeddings = read_table(embeddings)
        model = None
        if isinstance(embeddings, Table):
            if _EMBEDDING not in embeddings.colnames:
                raise InputError(f"the table has no {_EMBEDDING!r} column (its columns are "
                                 f"{embeddings.colnames}); write one with "
                                 "astro_morph.embed_catalog or give the vectors.")
            model = embeddings.meta.get("AMEMBED") or None
            table = embeddings if table is None else table
            embeddings = embeddings[_EMBEDDING]
        vectors, valid = _vectors(embeddings)
        if table is not None and len(table) != len(vectors):
            raise InputError(f"the table has {len(table)} rows but there are {len(vectors)} "
                             "embeddings: give one row per embedding.")
        if metric not in ("cosine", "euclidean"):
            raise InputError(f"metric must be 'cosine' or 'euclidean', not {metric!r}.")
        if classifier is not None:
            mine = _fingerprint_of(classifier)
            if model is not None and model != mine:
                raise InputError("these embeddings were made by another model than this "
                                 "classifier (their AMEMBED fingerprint differs): embed the "
                                 "catalogue again with it, or give the classifier that made "
                                 "them.")
            model = mine
        self.metric = metric
        self.model = model
        self.classifier = classifier
        self.table = None if table is None else Table(table, copy=False)
        self.duplicate_radius = _angle("duplicate_radius", duplicate_radius)
        self.n_rows = len(vectors)
        #: Catalogue row of each indexed vector.
        self.rows = np.flatnonzero(valid)
        self.index = VectorIndex(vectors[valid], metric=metric, exact_below=exact_below)
        self.coords = _positions(self.table)

    # -- what it holds -------------------------------------------------------------
    @property
    def dim(self):
        """Length of each embedding."""
        return self.index.dim

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        return (f"<SimilarityIndex {len(self)} of {self.n_rows} galaxies, d={self.dim}, "
                f"{self.metric}, {self.index.kind}>")

    # -- queries -------------------------------------------------------------------
    def search(self, query, *, k=10, match_radius=1 * u.arcsec):
        """The ``k`` galaxies most like each query galaxy.

        Parameters
        ----------
        query : int, list of int, array, `~astropy.coordinates.SkyCoord` or image
            Catalogue row(s); an embedding (d,) or several (m, d); a
            position (the nearest catalogue galaxy within ``match_radius``);
            or an image (S, S, 3) or images (m, S, S, 3), or image file
            path(s), embedded with the index's classifier.
        k : int
            Neighbours per query.
        match_radius : `~astropy.units.Quantity`
            How far from a SkyCoord query its catalogue galaxy may lie.

        Returns
        -------
        neighbours : `~astropy.table.Table`
            ``k`` rows per query, best first: ``query`` (its position in
            the queries), ``rank`` (1 = most alike), ``index`` (the
            neighbour's catalogue row), ``similarity`` (cosine) or
            ``distance`` (Euclidean), ``separation`` (on the sky, from the
            query galaxy, where both have positions), then the neighbour's
            catalogue columns. A query galaxy of the catalogue and its
            duplicates (closer than ``duplicate_radius``) are left out.

        Raises
        ------
        InputError
            A row that does not exist or has no embedding, a position far
            from every galaxy, an embedding of the wrong length, an image
            without the index's classifier, ``k`` not a positive integer.

        See Also
        --------
        oddity : how unusual each galaxy is.
        """
        k = check_integer("k", k, low=1)
        vectors, rows = self._queries(query, match_radius)
        k = int(min(k, len(self)))
        found_rows, scores = self._neighbours(vectors, rows, k)
        return self._table(found_rows, scores, rows)

    def oddity(self, *, k=10):
        """How unusual each galaxy is: the mean distance to its ``k`` nearest neighbours.

        For the cosine metric the distance is 1 - cosine similarity (0 for
        a galaxy with ``k`` identical neighbours, larger for rarer ones);
        each galaxy's own duplicates are left out, as in `search`.

        Parameters
        ----------
        k : int
            Neighbours averaged.

        Returns
        -------
        oddity : `~astropy.table.MaskedColumn`
            One value per catalogue row (masked where a galaxy has no
            embedding); sort by it to find the oddest galaxies.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(1)
        >>> vectors = np.vstack([rng.normal([5, 0, 0], 0.1, (50, 3)), [[0, 0, 5]]])
        >>> int(np.argmax(SimilarityIndex(vectors).oddity(k=5)))
        50
        """
        k = check_integer("k", k, low=1)
        k = int(min(k, len(self) - 1))
        if k < 1:
            raise InputError("oddity needs at least two galaxies with embeddings.")
        values = np.zeros(self.n_rows)
        for start in range(0, len(self), 65_536):
            rows = self.rows[start:start + 65_536]
            vectors = self.index.vectors(np.arange(start, start + len(rows)))
            found, scores = self._neighbours(vectors, rows, k)
            distance = 1.0 - scores if self.metric == "cosine" else scores
            # A galaxy whose neighbours are all its own duplicates has no oddity.
            some = (found >= 0).any(axis=1)
            values[rows[some]] = np.nanmean(distance[some], axis=1)
            values[rows[~some]] = np.nan
        mask = ~np.isfinite(values)
        mask[np.setdiff1d(np.arange(self.n_rows), self.rows)] = True
        return MaskedColumn(values, mask=mask, name="oddity",
                            description=f"mean {self._distance_name()} to the {k} nearest "
                                        "neighbours in embedding space")

    # -- persistence: astro_morph.similarity.index_file ---------------------------------
    def save(self, path, *, overwrite=False):
        """Write the index, its catalogue and the model's fingerprint to one file, atomically.

        Parameters
        ----------
        path : str or path-like
            A ``.zip`` file.
        overwrite : bool
            Replace an existing file.

        Returns
        -------
        path : str
        """
        record = {"metric": self.metric, "model": self.model, "n_rows": self.n_rows,
                  "duplicate_radius_arcsec": self.duplicate_radius.value,
                  "kind": self.index.kind}
        table = None
        if self.table is not None:
            table = self.table.copy(copy_data=False)
            if _EMBEDDING in table.colnames:
                table.remove_column(_EMBEDDING)
        return write_index_file(path, record, self.rows, self.index.serialize(), table,
                                overwrite=overwrite)

    @classmethod
    def load(cls, path, *, classifier=None):
        """Read an index written by `save`.

        Parameters
        ----------
        path : str or path-like
            A file written by `save`.
        classifier : `~astro_morph.MorphologyClassifier`, optional
            The model to embed image queries with; it must be the one the
            index was built from.

        Raises
        ------
        ModelFileError
            A missing, damaged or foreign file, or one of a newer astro_morph.
        InputError
            ``classifier`` is another model than the index's.
        """
        record, rows, vectors, table = read_index_file(path)
        if classifier is not None and record["model"] is not None \
                and _fingerprint_of(classifier) != record["model"]:
            raise InputError(f"{os.fspath(path)!r} indexes the embeddings of another model "
                             "than this classifier: search it with the model that built it, "
                             "or build a new index from this model's embeddings "
                             "(embed_catalog).")
        index = cls.__new__(cls)
        index.metric = record["metric"]
        index.model = record["model"]
        index.classifier = classifier
        index.table = table
        index.duplicate_radius = record["duplicate_radius_arcsec"] * u.arcsec
        index.n_rows = int(record["n_rows"])
        index.rows = rows
        index.index = vectors
        index.coords = _positions(table)
        return index

    # -- inside --------------------------------------------------------------------
    def _queries(self, query, match_radius):
        """Query vectors and, for catalogue galaxies, their rows (-1 for others)."""
        if isinstance(query, SkyCoord):
            rows = self.rows_at(query, match_radius=match_radius)
            return self._row_vectors(rows), rows
        if isinstance(query, (str, os.PathLike)) or (
                isinstance(query, (list, tuple)) and query
                and all(isinstance(q, (str, os.PathLike)) for q in query)):
            return self._embed(query if isinstance(query, (list, tuple)) else [query])
        if np.ma.isMaskedArray(query) and np.ma.getmaskarray(query).any():
            raise InputError("a query embedding is masked (a galaxy that could not be cut "
                             "out has no embedding): leave it out of the queries.")
        array = np.asarray(np.ma.getdata(query))
        if array.dtype.kind in "iu" and array.ndim <= 1:
            rows = np.atleast_1d(array).astype(np.int64)
            bad = rows[(rows < 0) | (rows >= self.n_rows)]
            if len(bad):
                raise InputError(f"row {int(bad[0])} is not in the catalogue (rows 0 to "
                                 f"{self.n_rows - 1}).")
            return self._row_vectors(rows), rows
        if array.dtype.kind == "f" and array.ndim in (1, 2) and array.shape[-1] == self.dim:
            vectors = np.atleast_2d(array).astype(np.float32)
            if not np.all(np.isfinite(vectors)):
                raise InputError("the query embedding holds NaN or infinite values.")
            if not np.all(np.linalg.norm(vectors, axis=1) > 0):
                raise InputError("a query embedding is all zeros: it has no direction to "
                                 "compare.")
            return vectors, np.full(len(vectors), -1)
        if array.dtype.kind in "fu" and array.ndim in (3, 4) and array.shape[-1] == 3:
            return self._embed(array if array.ndim == 4 else array[None])
        raise InputError(f"a query is a catalogue row (int), a list of rows, an embedding of "
                         f"length {self.dim}, a SkyCoord, or an image (S, S, 3); got "
                         f"{type(query).__name__} of shape {array.shape}.")

    def _row_vectors(self, rows):
        """The embeddings of catalogue rows (an error for rows without one)."""
        position = np.searchsorted(self.rows, rows)
        position = np.minimum(position, len(self.rows) - 1)
        missing = rows[self.rows[position] != rows]
        if len(missing):
            raise InputError(f"row {int(missing[0])} has no embedding (its galaxy could not be "
                             "cut out: see its flag column); query another galaxy.")
        return self.index.vectors(position)

    def rows_at(self, positions, *, match_radius=1 * u.arcsec):
        """The catalogue row of each position: the nearest galaxy, within ``match_radius``.

        Parameters
        ----------
        positions : `~astropy.coordinates.SkyCoord`
            Positions (an array).
        match_radius : `~astropy.units.Quantity`
            How far from a position its galaxy may lie.

        Returns
        -------
        rows : `~numpy.ndarray`
            int64 catalogue rows.

        Raises
        ------
        InputError
            The index has no positions, or a position lies farther than
            ``match_radius`` from every galaxy.
        """
        if self.coords is None:
            raise InputError("this index has no catalogue positions: give table= with RA/Dec "
                             "columns to search by SkyCoord, or query by row.")
        positions = parse_positions(positions)
        match_radius = _angle("match_radius", match_radius)
        row, separation, _ = positions.match_to_catalog_sky(self.coords)
        far = separation > match_radius
        if far.any():
            first = positions[np.flatnonzero(far)[0]]
            raise InputError(f"no catalogue galaxy lies within {match_radius} of "
                             f"{first.to_string('hmsdms')} (the nearest is "
                             f"{separation[far][0].to(u.arcsec):.1f} away): check the "
                             "position, or raise match_radius.")
        return np.asarray(row, dtype=np.int64)

    def _embed(self, images):
        """Embeddings of images with the index's classifier."""
        classifier = self.classifier
        if classifier is None:
            if self.model is None:
                raise InputError("this index does not know the model its embeddings come "
                                 "from: build it with classifier=, or query by embedding.")
            from astro_morph.models.classifier import MorphologyClassifier
            classifier = MorphologyClassifier.pretrained()
            if _fingerprint_of(classifier) != self.model:
                raise InputError("this index holds the embeddings of another model than the "
                                 "pretrained one: give classifier= (the model that made "
                                 "them) to search by image.")
        vectors = classifier.embed(images)
        if np.ma.getmaskarray(vectors).any():
            raise InputError("a query image could not be embedded (blank or off its "
                             "survey's footprint).")
        return np.ma.getdata(vectors), np.full(len(vectors), -1)

    def _neighbours(self, vectors, rows, k):
        """(catalogue rows, scores) of the ``k`` best neighbours of each query, leaving out
        each query galaxy and its duplicates."""
        excluded = self._excluded(rows)
        extra = max((len(e) for e in excluded), default=0)
        found, scores = self.index.search(vectors, min(k + extra, len(self)))
        out_rows = np.full((len(vectors), k), -1, dtype=np.int64)
        out_scores = np.full((len(vectors), k), np.nan)
        for q in range(len(vectors)):
            keep = [(int(self.rows[i]), s) for i, s in zip(found[q], scores[q])
                    if i >= 0 and int(self.rows[i]) not in excluded[q]][:k]
            out_rows[q, :len(keep)] = [r for r, _ in keep]
            out_scores[q, :len(keep)] = [s for _, s in keep]
        return out_rows, out_scores

    def _excluded(self, rows):
        """For each query, the catalogue rows never returned: itself and its duplicates."""
        if self.coords is None:
            return [{int(r)} if r >= 0 else set() for r in rows]
        out = [set() for _ in rows]
        known = np.flatnonzero(rows >= 0)
        if len(known):
            near, query, _, _ = self.coords[rows[known]].search_around_sky(
                self.coords, self.duplicate_radius)
            for q, n in zip(known[query], near):
                out[q].add(int(n))
            for q in known:
                out[q].add(int(rows[q]))
        return out

    def _table(self, found_rows, scores, query_rows):
        m, k = found_rows.shape
        valid = found_rows >= 0
        rows = found_rows[valid]
        out = Table({"query": np.repeat(np.arange(m), k)[valid.ravel()],
                     "rank": np.tile(np.arange(1, k + 1), m)[valid.ravel()],
                     "index": rows})
        name = "similarity" if self.metric == "cosine" else "distance"
        out[name] = scores[valid]
        out[name].description = ("cosine similarity of the embeddings" if name == "similarity"
                                 else "Euclidean distance of the embeddings")
        if self.coords is not None:
            query_of = np.repeat(query_rows, k)[valid.ravel()]
            known = query_of >= 0
            separation = np.zeros(len(rows))
            if known.any():
                separation[known] = self.coords[query_of[known]].separation(
                    self.coords[rows[known]]).to_value(u.arcsec)
            out["separation"] = MaskedColumn(separation, mask=~known, unit=u.arcsec,
                                             description="separation on the sky from the "
                                                         "query galaxy")
        if self.table is not None:
            neighbours = self.table[rows]
            for column in neighbours.colnames:
                if column != _EMBEDDING:
                    # A catalogue column named like ours ("index"...) keeps a prefix.
                    name = f"catalog_{column}" if column in out.colnames else column
                    out[name] = neighbours[column]
        out.meta["metric"] = self.metric
        return out

    def _distance_name(self):
        return "cosine distance" if self.metric == "cosine" else "Euclidean distance"


def _vectors(embeddings):
    """(float32 vectors, which rows have one) of masked or NaN-holding embeddings."""
    masked = np.ma.asarray(embeddings)
    if masked.ndim != 2 or not masked.shape[1]:
        raise InputError(f"embeddings must be an (N, d) array, got shape {masked.shape}.")
    vectors = np.ma.filled(masked.astype(np.float32), np.nan)
    valid = np.all(np.isfinite(vectors), axis=1)
    if not valid.any():
        raise InputError("no row has an embedding (all are masked or NaN).")
    return vectors, valid


def _positions(table):
    """The catalogue's positions, or None when it has no RA/Dec."""
    if table is None:
        return None
    try:
        find_coordinate_columns(table)
    except InputError:
        if not any(isinstance(table[name], SkyCoord) for name in table.colnames):
            return None
    return parse_positions(table)


def _angle(name, value):
    """``value`` as an angle in arcsec, or our error."""
    try:
        return u.Quantity(value, u.arcsec)
    except (u.UnitsError, TypeError, ValueError):
        raise InputError(f"{name} must be an angle, e.g. 3 * u.arcsec, got {value!r}.") from None


def _fingerprint_of(classifier):
    from astro_morph.models.embedding import embedding_fingerprint
    return embedding_fingerprint(classifier)
