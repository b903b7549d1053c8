"""Morphology schemas: the questions volunteers answer, their answers, where each answer leads.

A `Schema` is the one object that knows what a network learns. Labels and
votes are turned into counts by it, the network has one output per answer
of it, the loss and the calibration sum over its questions, and the output
columns are named and described by it. Two classes (spiral / elliptical)
are a schema of one question (`Schema.from_classes`); the Galaxy Zoo trees
are built in (``GZ2`` and ``GZ1``, `~astro_morph.catalogs.get_schema`).
"""

from dataclasses import KW_ONLY, dataclass
from functools import cached_property

import numpy as np

from astro_morph.catalogs.votes import VoteCounts
from astro_morph.exceptions import InputError

__all__ = ["Question", "Schema", "CLASS_QUESTION"]

#: Name of the one question of a schema made from class names.
CLASS_QUESTION = "class"


@dataclass(frozen=True)
class Question:
    """One question of a decision tree and its answers.

    Parameters
    ----------
    name : str
        E.g. ``"t01_smooth_or_features"``; the prefix of its answers' columns.
    answers : tuple of str
        Answer names, e.g. ``("a01_smooth", "a02_features_or_disk", ...)``.
    text : str
        The question as volunteers read it (for column descriptions).
    """

    name: str
    answers: tuple
    _: KW_ONLY
    text: str = ""

    @property
    def columns(self):
        """The answers' column names, ``<question>_<answer>``."""
        return tuple(f"{self.name}_{answer}" for answer in self.answers)


def _parse_questions(questions):
    """Questions from a sequence of `Question` or a dict {question: answer names}."""
    if isinstance(questions, dict):
        parsed = []
        for name, answers in questions.items():
            if isinstance(answers, str) or not hasattr(answers, "__iter__"):
                raise InputError(f"the answers of question {name!r} must be a list of names, "
                                 f"got {answers!r}.")
            parsed.append(Question(str(name), tuple(str(a) for a in answers)))
        return tuple(parsed)
    try:
        questions = list(questions)
    except TypeError:
        questions = None
    if not questions or not all(isinstance(q, Question) for q in questions):
        raise InputError("questions must be a dict {question: [answers]} or a list of "
                         "astro_morph.catalogs.Question.")
    return tuple(Question(q.name, tuple(q.answers), text=q.text) for q in questions)


class Schema(VoteCounts):
    """The target of learning: questions, their answers, and which answer leads to which question.

    Parameters
    ----------
    name : str
        Short name (``"gz2"``), stored with models and in table ``meta``.
    questions : sequence of `Question` or dict
        The questions in order (a dict maps each question name to its answer
        names). The network has one output per answer, in this order.
    leads_to : dict, optional
        Answer column (``"<question>_<answer>"``) -> the question asked next.
        Questions no answer leads to are asked of every galaxy.
    spiral_rule : tuple, optional
        ``(question, elliptical answers, spiral answers)``: the rule of
        ``p_spiral`` (the share of the spiral answers among both groups).
        Default: a question with the answers ``"elliptical"`` and ``"spiral"``.

    Raises
    ------
    InputError
        Repeated or missing names, a question with fewer than two answers,
        ``leads_to`` naming unknown answers or questions, a loop in the tree,
        or a spiral rule outside one question.

    See Also
    --------
    astro_morph.catalogs.get_schema : the built-in trees (``"gz2"``, ``"gz1"``).
    astro_morph.MorphologyClassifier.predict_votes : a schema's predicted votes.

    Examples
    --------
    A two-question tree in a few lines:

    >>> schema = Schema("toy", {"shape": ["smooth", "featured"], "bar": ["yes", "no"]},
    ...                 leads_to={"shape_featured": "bar"},
    ...                 spiral_rule=("shape", ["smooth"], ["featured"]))
    >>> schema.answers
    ('shape_smooth', 'shape_featured', 'bar_yes', 'bar_no')
    >>> schema.asked([[0.25, 0.75, 0.5, 0.5]]).tolist()
    [[1.0, 0.75]]
    >>> schema.classes
    ('elliptical', 'spiral')
    """

    def __init__(self, name, questions, *, leads_to=None, spiral_rule=None):
        self.name = str(name)
        self.questions = _parse_questions(questions)
        if leads_to is not None and not isinstance(leads_to, dict):
            raise InputError("leads_to must be a dict: answer column ('<question>_<answer>') "
                             f"-> the question asked next, not {type(leads_to).__name__}.")
        self.leads_to = {str(a): str(q) for a, q in (leads_to or {}).items()}
        self._check()
        self.spiral_rule = self._check_spiral_rule(spiral_rule)

    # -- construction and checks --------------------------------------------------
    def _check(self):
        names = [q.name for q in self.questions]
        if not names or len(set(names)) != len(names):
            raise InputError(f"a schema needs distinct question names, got {names}.")
        for question in self.questions:
            if len(question.answers) < 2 or len(set(question.answers)) != len(question.answers):
                raise InputError(f"question {question.name!r} needs at least two distinct "
                                 f"answers, got {list(question.answers)}.")
        unknown = [a for a in self.leads_to if a not in self.answers]
        missing = [q for q in self.leads_to.values() if q not in names]
        if unknown or missing:
            raise InputError(f"leads_to names unknown answers {unknown} or questions "
                             f"{missing}; answers are '<question>_<answer>' of {names}.")
        # The tree once: each question's (question, answer column) that lead to it.
        column = {a: k for k, a in enumerate(self.answers)}
        self._parents = [[(self.index_of(self.question_of(a)), column[a])
                          for a, to in self.leads_to.items() if to == name] for name in names]
        self._order = self._topological_order()

    def _topological_order(self):
        order, done = [], set()
        while len(order) < len(self.questions):
            ready = [q for q in range(len(self.questions))
                     if q not in done and {p for p, _ in self._parents[q]} <= done]
            if not ready:
                left = sorted(self.questions[q].name for q in set(range(len(self.questions)))
                              - done)
                raise InputError(f"the tree of schema {self.name!r} has a loop among {left}.")
            order += ready
            done.update(ready)
        return order

    def _check_spiral_rule(self, spiral_rule):
        if spiral_rule is None:
            for question in self.questions:
                if {"elliptical", "spiral"} <= set(question.answers):
                    return (question.name, (f"{question.name}_elliptical",),
                            (f"{question.name}_spiral",))
            return None
        try:
            question, negative, positive = spiral_rule
        except (TypeError, ValueError):
            raise InputError("spiral_rule must be (question, elliptical answers, spiral "
                             f"answers), got {spiral_rule!r}.") from None
        negative = [negative] if isinstance(negative, str) else list(negative)
        positive = [positive] if isinstance(positive, str) else list(positive)
        prefix = f"{question}_"
        negative = tuple(str(a) if str(a).startswith(prefix) else prefix + str(a) for a in negative)
        positive = tuple(str(a) if str(a).startswith(prefix) else prefix + str(a) for a in positive)
        if question not in [q.name for q in self.questions] or not negative or not positive \
                or not set(negative + positive) <= set(self.questions[
                    self.index_of(question)].columns):
            raise InputError(f"spiral_rule must be (question, elliptical answers, spiral answers) "
                             f"of one question of the schema, got {spiral_rule!r}.")
        return (question, negative, positive)

    @classmethod
    def from_classes(cls, classes):
        """The schema of one question whose answers are ``classes`` (labels, not votes).

        Examples
        --------
        >>> Schema.from_classes(("elliptical", "spiral")).answers
        ('class_elliptical', 'class_spiral')
        """
        classes = tuple(classes)
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise InputError(f"classes must be at least two distinct names, got {classes}.")
        return cls("classes", [Question(CLASS_QUESTION, classes, text="class")])

    def to_dict(self):
        """A JSON-ready description (`from_dict` rebuilds it)."""
        return {"name": self.name,
                "questions": [{"name": q.name, "answers": list(q.answers), "text": q.text}
                              for q in self.questions],
                "leads_to": dict(self.leads_to),
                "spiral_rule": None if self.spiral_rule is None else [
                    self.spiral_rule[0], list(self.spiral_rule[1]), list(self.spiral_rule[2])]}

    @classmethod
    def from_dict(cls, record):
        """The schema `to_dict` described."""
        questions = [Question(q["name"], tuple(q["answers"]), text=q.get("text", ""))
                     for q in record["questions"]]
        return cls(record["name"], questions, leads_to=record.get("leads_to"),
                   spiral_rule=record.get("spiral_rule"))

    def __eq__(self, other):
        return isinstance(other, Schema) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return (f"<Schema {self.name!r}: {len(self.questions)} questions, "
                f"{self.n_answers} answers>")

    # -- structure ----------------------------------------------------------------
    @cached_property
    def answers(self):
        """Every answer's column name, in the order of the network's outputs."""
        return tuple(c for q in self.questions for c in q.columns)

    @property
    def n_answers(self):
        """The number of answers (of network outputs)."""
        return len(self.answers)

    @cached_property
    def bounds(self):
        """``(start, stop)`` of each question's answers among `answers`."""
        bounds, start = [], 0
        for question in self.questions:
            bounds.append((start, start + len(question.answers)))
            start += len(question.answers)
        return tuple(bounds)

    @property
    def is_classes(self):
        """True for a schema made by `from_classes` (its classes are the ``p_`` columns)."""
        return len(self.questions) == 1 and self.questions[0].name == CLASS_QUESTION

    @property
    def classes(self):
        """Class names of ``predict`` / ``predict_proba``: the classes of a schema of
        classes; ``("elliptical", "spiral")`` for a tree with a spiral rule; else the
        answers of its first question."""
        if self.spiral_rule is not None and not self.is_classes:
            return ("elliptical", "spiral")
        return self.questions[0].answers

    @property
    def label_names(self):
        """The class labels ``fit`` takes: answers of `label_question`, and
        ``"elliptical"`` / ``"spiral"`` where the schema has a spiral rule."""
        names = self.label_question.answers
        if self.spiral_rule is not None and not self.is_classes:
            names = names + tuple(c for c in ("elliptical", "spiral") if c not in names)
        return names

    @property
    def label_question(self):
        """The question that class labels answer: the spiral rule's, else the first."""
        return self.questions[self.index_of(self.spiral_rule[0])] if self.spiral_rule \
            else self.questions[0]

    def index_of(self, question):
        """Position of a question (by name) among ``questions``."""
        for k, candidate in enumerate(self.questions):
            if candidate.name == question:
                return k
        raise InputError(f"schema {self.name!r} has no question {question!r}; its questions "
                         f"are {[q.name for q in self.questions]}.")

    def question_of(self, answer):
        """The question (name) an answer column belongs to."""
        for question in self.questions:
            if answer in question.columns:
                return question.name
        raise InputError(f"schema {self.name!r} has no answer {answer!r}.")

    def select(self, questions, *, name=None):
        """The sub-schema of the named questions (with the answers leading between them),
        named ``name`` (default this schema's name).

        Raises
        ------
        InputError
            A question is not in this schema.
        """
        chosen = [self.questions[self.index_of(q)] for q in questions]
        names = {q.name for q in chosen}
        leads = {a: q for a, q in self.leads_to.items()
                 if q in names and self.question_of(a) in names}
        rule = self.spiral_rule if self.spiral_rule and self.spiral_rule[0] in names else None
        return Schema(self.name if name is None else name, chosen, leads_to=leads,
                      spiral_rule=rule)

    def contains(self, other):
        """Whether every question of ``other`` is in this schema with the same answers."""
        mine = {q.name: q.answers for q in self.questions}
        return all(mine.get(q.name) == q.answers for q in other.questions)

    # -- numbers ------------------------------------------------------------------
    def check_array(self, array, what):
        """``array`` as (N, n_answers) float64, or an `~astro_morph.InputError` naming
        ``what`` it should have been."""
        try:
            array = np.asarray(np.ma.filled(array, np.nan), dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{what} must be numbers, an (N, {self.n_answers}) array for "
                             f"the answers of schema {self.name!r}.") from None
        if array.ndim != 2 or array.shape[1] != self.n_answers:
            raise InputError(f"{what} must be (N, {self.n_answers}) for the {self.n_answers} "
                             f"answers of schema {self.name!r}, got shape {array.shape}.")
        return array

    def asked(self, fractions):
        """Probability that each question is asked: the product of the answers' fractions
        along the tree (summed over the answers that lead to it).

        Parameters
        ----------
        fractions : array-like
            (N, n_answers) vote fractions, each question's relative to the
            volunteers who reached it (NaN counts as 0).

        Returns
        -------
        asked : `~numpy.ndarray`
            (N, n_questions).
        """
        fractions = np.nan_to_num(self.check_array(fractions, "fractions"))
        asked = np.zeros((len(fractions), len(self.questions)))
        for q in self._order:
            if not self._parents[q]:
                asked[:, q] = 1.0
            for parent, column in self._parents[q]:
                asked[:, q] += asked[:, parent] * fractions[:, column]
        return np.clip(asked, 0.0, 1.0)

    def class_probabilities(self, fractions):
        """``(..., len(classes))`` probabilities of `classes` from predicted fractions.

        A tree with a spiral rule: ``p_spiral`` is the share of the spiral
        answers among the spiral and elliptical answers of its question, and
        the columns are ``(1 - p_spiral, p_spiral)``; a schema of classes, or
        a tree without the rule: its first question's fractions.
        """
        fractions = np.asarray(fractions, dtype=np.float64)
        columns = {a: k for k, a in enumerate(self.answers)}
        if self.spiral_rule is None or self.is_classes:
            a, b = self.bounds[0]
            return fractions[..., a:b]
        _, negative, positive = self.spiral_rule
        spiral = fractions[..., [columns[a] for a in positive]].sum(axis=-1)
        elliptical = fractions[..., [columns[a] for a in negative]].sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            p_spiral = np.where(spiral + elliptical > 0, spiral / (spiral + elliptical), 0.5)
        return np.stack([1 - p_spiral, p_spiral], axis=-1)

    def describe(self, answer):
        """A one-line description of an answer's column."""
        question = self.questions[self.index_of(self.question_of(answer))]
        words = answer[len(question.name) + 1:].replace("_", " ")
        text = f" to '{question.text}'" if question.text else f" to {question.name}"
        return f"expected fraction of volunteers answering '{words}'{text}"
