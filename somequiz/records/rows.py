"""The plain records handed to callers, and how stored rows become them.

Times: everything is stored in UTC; SQLite gives naive datetimes back and a PostgreSQL session in
another time zone the same instant with another offset, so rows pass through :func:`aware` or
:func:`utc` on the way out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from somequiz.engine.scoring import Answer
from somequiz.records.tables import AnswerRow, AttemptRow, CompletionRow, LearnerRow

if TYPE_CHECKING:
    # pandas is imported only when a frame is asked for: the learner kernel never needs it.
    import pandas as pd


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """``moment`` with its UTC zone (SQLite gives back naive datetimes)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC, whatever offset the database session gave it."""
    return aware(moment).astimezone(UTC)


@dataclass(frozen=True)
class Learner:
    """A learner as the course knows them."""

    id: int
    key: str
    name: str
    employee_number: str | None
    unit: str | None


@dataclass(frozen=True)
class Attempt:
    """One go at the course."""

    id: str
    learner_id: int
    course_id: str
    course_hash: str
    status: str
    started_at: datetime
    lang: str


@dataclass(frozen=True)
class StoredAnswer:
    """A stored answer, enough to replay a scenario run."""

    id: str
    scenario_id: str
    scenario_try: int
    step_id: str
    chosen: tuple[str, ...]
    points: int
    severity: str
    answered_at: datetime

    def as_answer(self) -> Answer:
        """The engine's view of this answer."""
        return Answer(self.step_id, self.chosen)


@dataclass(frozen=True)
class Completion:
    """A finished course with its certificate code."""

    attempt_id: str
    completed_at: datetime
    points: int
    max_points: int
    passed: bool
    theme_scores: dict[str, float]
    certificate_code: str | None


@dataclass(frozen=True)
class ItemStats:
    """Item-analysis sums from the store: ``learners`` is how many learners answered (at most
    the cap asked for); each
    row of ``choices`` is one step and one distinct choice (``scenario_id``, ``step_id``,
    ``chosen`` as a tuple) with ``answers``, the ``items`` scored and their ``item_sum``
    (item score = points / step maximum), and over the ``pairs`` where both the item score x
    and the rest-of-course score y exist: ``sx``, ``sy``, ``sxx``, ``syy``, ``sxy``."""

    learners: int
    choices: pd.DataFrame


@dataclass(frozen=True)
class RosterEntry:
    """One employee of an imported roster."""

    employee_number: str
    name: str
    unit: str
    start_date: date
    email: str | None = None


@dataclass(frozen=True)
class RosterImport:
    """How a roster import changed the stored roster."""

    added: int
    updated: int
    removed: int


@dataclass(frozen=True)
class Erasure:
    """What an erasure deleted and kept."""

    learner_id: int
    answers_deleted: int
    flags_deleted: int
    completions_kept: int


# What verify can find: a completion's fields changed ("signature"), its certificate code moved
# ("code"), its answers rewritten or deleted ("answers"), a learner's identity changed
# ("identity"), a learner's completions deleted ("deleted"), a row stored before seals existed
# and not sealed since ("unsealed").
Problem = Literal["signature", "code", "answers", "identity", "deleted", "unsealed"]


@dataclass(frozen=True)
class Altered:
    """A completion whose stored fields or answers no longer match their signatures."""

    completion_id: int
    attempt_id: str
    certificate_code: str | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class AlteredLearner:
    """A learner whose identity or count of completions no longer matches its seal."""

    learner_id: int
    employee_number: str | None
    problems: tuple[Problem, ...]
    missing: int  # completions fewer than sealed


@dataclass(frozen=True)
class Verification:
    """The outcome of checking every completion and every learner."""

    checked: int
    altered: list[Altered]
    learners_checked: int
    learners: list[AlteredLearner]

    @property
    def clean(self) -> bool:
        """Whether nothing was found."""
        return not self.altered and not self.learners


@dataclass(frozen=True)
class CertificateCheck:
    """The outcome of checking one certificate code."""

    code: str
    found: bool
    valid: bool
    completed_at: datetime | None
    passed: bool | None
    name: str | None
    superseded_at: datetime | None = None


# The columns the dataclasses are made from, read with Core (no ORM objects needed).
ANSWER_COLUMNS = (
    AnswerRow.id,
    AnswerRow.scenario_id,
    AnswerRow.scenario_try,
    AnswerRow.step_id,
    AnswerRow.chosen,
    AnswerRow.points,
    AnswerRow.severity,
    AnswerRow.answered_at,
)
COMPLETION_COLUMNS = (
    CompletionRow.attempt_id,
    CompletionRow.completed_at,
    CompletionRow.points,
    CompletionRow.max_points,
    CompletionRow.passed,
    CompletionRow.theme_scores,
    CompletionRow.certificate_code,
)


def learner(row: LearnerRow | Any) -> Learner:
    """A learner row (ORM or Core) as the course knows them."""
    return Learner(row.id, row.learner_key, row.name, row.employee_number, row.unit)


def attempt(row: AttemptRow) -> Attempt:
    """An attempt row as a plain attempt."""
    return Attempt(
        row.id,
        row.learner_id,
        row.course_id,
        row.course_hash,
        row.status,
        aware(row.started_at),
        row.lang,
    )


def answer(row: Any) -> StoredAnswer:
    """A row of ANSWER_COLUMNS as a stored answer."""
    return StoredAnswer(
        row.id,
        row.scenario_id,
        row.scenario_try,
        row.step_id,
        tuple(json.loads(row.chosen)),
        row.points,
        row.severity,
        aware(row.answered_at),
    )


def completion(row: Any) -> Completion:
    """A row of COMPLETION_COLUMNS (or a completion row) as a completion."""
    return Completion(
        row.attempt_id,
        aware(row.completed_at),
        row.points,
        row.max_points,
        row.passed,
        dict(row.theme_scores),
        row.certificate_code,
    )


def rowcount(result: Any) -> int:
    """The rows a DML statement touched (typed as Result[Any] by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0) or 0)
