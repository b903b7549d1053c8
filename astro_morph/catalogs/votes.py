"""What a schema does with votes: counts in (labels, fractions, tables), columns out.

`VoteCounts` is mixed into `~astro_morph.catalogs.Schema`: the methods
read the schema's answers, questions and tree (``answers``, ``bounds``,
``asked``...).
"""

import numpy as np
from astropy import units as u
from astropy.table import Column, MaskedColumn

from astro_morph.exceptions import InputError

__all__ = ["VoteCounts"]


class VoteCounts:
    """Vote counts of a schema's answers from labels, fractions or tables, and the
    columns of predicted votes (mixed into `~astro_morph.catalogs.Schema`)."""

    def counts_from_fractions(self, fractions, total):
        """Vote counts from vote fractions and the number of volunteers per galaxy.

        The volunteers who reached a question are ``total`` times its `asked`
        probability (Hart et al. 2016); NaN fractions mean "not asked".

        Examples
        --------
        >>> from astro_morph.catalogs.trees import GZ2
        >>> f = np.zeros((1, GZ2.n_answers)); f[0, [1, 4]] = 1.0  # featured, not edge-on
        >>> c = GZ2.counts_from_fractions(f, [40])
        >>> float(c[0, 1]), float(c[0, 4]), float(c[0, 0])
        (40.0, 40.0, 0.0)
        """
        fractions = self.check_array(fractions, "fractions")
        try:
            total = np.asarray(np.ma.filled(total, np.nan), dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InputError("the numbers of volunteers must be numbers.") from None
        if len(total) != len(fractions):
            raise InputError(f"{len(fractions)} rows of fractions but {len(total)} totals.")
        if np.any(fractions < 0) or not np.all(np.isfinite(total)) or np.any(total < 0):
            raise InputError("vote fractions must be >= 0 (NaN where not asked) and the "
                             "numbers of volunteers finite and >= 0 (negative votes).")
        asked = self.asked(fractions)
        reached = np.repeat(asked, [len(q.answers) for q in self.questions], axis=1)
        return self.check_counts(np.nan_to_num(fractions) * reached * total[:, None])

    def counts_from_labels(self, labels):
        """One vote per galaxy for its label.

        A label is an answer of `label_question` (``"edge_on"`` or
        ``"gz1_edge_on"``): one vote for it. Where the schema has a spiral rule,
        ``"elliptical"`` and ``"spiral"`` are labels too: one vote shared
        equally among the rule's answers of that class (``"spiral"`` in GZ1:
        a third each to clockwise, anticlockwise and edge-on). Integer labels
        index `classes` (the answers of a schema of classes).

        Examples
        --------
        >>> from astro_morph.catalogs import GZ1, Schema
        >>> Schema.from_classes(("elliptical", "spiral")).counts_from_labels(
        ...     ["spiral", "elliptical"]).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
        >>> GZ1.counts_from_labels(["edge_on", "spiral"]).round(2).tolist()
        [[0.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.33, 0.33, 0.33, 0.0, 0.0]]
        """
        votes = self._label_votes()
        labels = np.asarray(labels)
        if labels.ndim != 1:
            raise InputError(f"labels must be one-dimensional, got shape {labels.shape}.")
        if labels.dtype.kind in "biu":
            names = self.classes
            if not np.all((labels >= 0) & (labels < len(names))):
                raise InputError(f"integer labels index the classes {list(names)}: 0.."
                                 f"{len(names) - 1}, got {sorted(set(labels.tolist()))[:5]}.")
            labels = np.asarray(names)[labels]
        if labels.dtype.kind not in "US O":
            raise InputError(f"labels must be names {list(self.label_names)} or indices "
                             f"of the classes {list(self.classes)}.")
        unknown = sorted({str(v) for v in labels if v not in votes})
        if unknown:
            raise InputError(f"unknown label(s) {unknown[:5]}; the labels of schema "
                             f"{self.name!r} are {list(self.label_names)} (drop other rows "
                             "first), or give votes: a table of vote columns or an (N, "
                             f"{self.n_answers}) array of counts.")
        return np.array([votes[v] for v in labels]).reshape(len(labels), self.n_answers)

    def _label_votes(self):
        """Label name -> its vote (a row of counts summing to 1)."""
        question = self.label_question
        start = self.bounds[self.index_of(question.name)][0]
        votes = {}
        for k, (short, column) in enumerate(zip(question.answers, question.columns)):
            vote = np.zeros(self.n_answers)
            vote[start + k] = 1.0
            votes[short] = votes[column] = vote
        if self.spiral_rule is not None and not self.is_classes:
            index = {a: k for k, a in enumerate(self.answers)}
            for name, answers in zip(("elliptical", "spiral"), self.spiral_rule[1:]):
                if name not in votes:
                    vote = np.zeros(self.n_answers)
                    vote[[index[a] for a in answers]] = 1.0 / len(answers)
                    votes[name] = vote
        return votes

    def counts_from_table(self, table, *, suffix="_weighted_fraction",
                          total="total_classifications"):
        """Vote counts from a table of Galaxy Zoo columns.

        With a ``total`` column, the answer columns (``<answer><suffix>``,
        else ``<answer>``) are fractions, turned into counts by
        `counts_from_fractions`; without it they are counts. A question
        whose columns are absent counts as not asked.
        """
        columns = {}
        for answer in self.answers:
            for name in (answer + suffix, answer):
                if name in table.colnames:
                    columns[answer] = table[name]  # masked entries: not asked (NaN)
                    break
        if not columns:
            raise InputError(f"the table has no vote column of schema {self.name!r} (e.g. "
                             f"{self.answers[0]!r} or {self.answers[0] + suffix!r}).")
        try:
            values = np.stack([np.ma.filled(np.ma.asarray(columns[a], dtype=np.float64), np.nan)
                               if a in columns else np.full(len(table), np.nan)
                               for a in self.answers], axis=1)
        except (TypeError, ValueError):
            raise InputError(f"the vote columns of schema {self.name!r} must hold numbers "
                             "(fractions with a total column, or counts).") from None
        if total in table.colnames:
            return self.counts_from_fractions(values, table[total])
        return self.check_counts(np.nan_to_num(values))

    def check_counts(self, counts):
        """Counts as (N, n_answers) float64, refusing negative or non-finite ones."""
        counts = self.check_array(counts, "vote counts")
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise InputError("vote counts must be finite and >= 0 (0 for a question nobody "
                             "answered); negative or NaN counts were given.")
        return counts

    def answered(self, counts):
        """(N, n_questions) True where a galaxy has votes for a question."""
        counts = np.asarray(counts)
        return np.stack([counts[:, a:b].sum(axis=1) > 0 for a, b in self.bounds], axis=1)

    def strata(self, counts, *, min_size=1):
        """One integer per galaxy for stratified splits: the answer with most votes of
        the first question it has votes for (-1: no votes at all). Groups smaller than
        ``min_size`` join the largest group."""
        counts = np.asarray(counts)
        strata = np.full(len(counts), -1)
        for a, b in reversed(self.bounds):
            has = counts[:, a:b].sum(axis=1) > 0
            strata[has] = a + np.argmax(counts[has, a:b], axis=1)
        values, sizes = np.unique(strata[strata >= 0], return_counts=True)
        rare = values[sizes < min_size]
        if len(rare):
            strata[np.isin(strata, rare)] = values[np.argmax(sizes)]
        return strata

    def fractions(self, counts):
        """Each question's vote fractions from counts (NaN where nobody answered it)."""
        counts = np.asarray(counts, dtype=np.float64)
        out = np.full(counts.shape, np.nan)
        for a, b in self.bounds:
            total = counts[:, a:b].sum(axis=1, keepdims=True)
            np.divide(counts[:, a:b], total, out=out[:, a:b], where=total > 0)
        return out

    def vote_columns(self, views, *, questions=None, mask=None):
        """Table columns of predicted votes: per answer the expected fraction (mean over
        the views) and its spread (``<answer>_std``), per question ``<question>_asked``.

        Parameters
        ----------
        views : array-like
            (n_views, N, n_answers) predicted fractions (test-time views).
        questions : sequence of str, optional
            The questions to give columns for (default all).
        mask : array-like of bool, optional
            Rows to mask (no image): the columns are then
            `~astropy.table.MaskedColumn`.

        Returns
        -------
        columns : dict of `~astropy.table.Column`
            Dimensionless, each with a description, in the order of the schema.
        """
        views = np.asarray(views, dtype=np.float64)
        mean, spread = views.mean(axis=0), views.std(axis=0)
        asked = self.asked(mean)
        names = [q.name for q in self.questions] if questions is None else list(questions)
        for name in names:
            self.index_of(name)

        def column(values, description):
            if mask is None:
                return Column(values, unit=u.one, description=description)
            return MaskedColumn(values, mask=np.asarray(mask, bool), unit=u.one,
                                description=description)

        columns, index = {}, {a: k for k, a in enumerate(self.answers)}
        for q, question in enumerate(self.questions):
            if question.name not in names:
                continue
            for answer in question.columns:
                k = index[answer]
                columns[answer] = column(mean[:, k], self.describe(answer))
                columns[answer + "_std"] = column(
                    spread[:, k], f"spread of {answer} over the test-time views")
            columns[question.name + "_asked"] = column(
                asked[:, q], f"probability that {question.name} is asked (product of the "
                             "predicted fractions along the tree)")
        return columns

