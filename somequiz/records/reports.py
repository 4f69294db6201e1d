"""Read-only frames and aggregates for HR's and trainers' reports (pandas, imported lazily).

Aggregates are computed by the database, so that a report reads a few hundred rows instead of
every answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Executable, Float, Select, and_, case, cast, exists, func, select, union

from somequiz.records.database import Database
from somequiz.records.rows import ItemStats
from somequiz.records.tables import (
    AnswerRow,
    AttemptRow,
    CompletionRow,
    ContentVersionRow,
    FlagRow,
    LearnerRow,
    RosterRow,
)

if TYPE_CHECKING:
    import pandas as pd

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")
FLAGS_SHOWN = 500  # notes a staff table shows at most (the newest)


class Reports:
    """What reports read from one database; nothing here writes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def roster_frame(self) -> pd.DataFrame:
        """The roster: employee_number, name, unit, start_date, email."""
        stmt = select(
            RosterRow.employee_number,
            RosterRow.name,
            RosterRow.unit,
            RosterRow.start_date,
            RosterRow.email,
        ).order_by(RosterRow.employee_number)
        import pandas as pd

        frame = self._frame(stmt)
        frame["start_date"] = pd.to_datetime(frame["start_date"]).dt.date
        return frame

    def attempts_frame(self, *, details: bool = True) -> pd.DataFrame:
        """Every attempt with its learner and, when finished, its completion.

        Without ``details`` only what statuses and reports need (no course id, language,
        start and finish times or erasure time): a quarter faster on a big store. Theme scores
        are left out (decoding 100 000 JSON documents costs seconds): see :meth:`theme_sums`.
        """
        extra = (
            LearnerRow.erased_at,
            AttemptRow.course_id,
            AttemptRow.lang,
            AttemptRow.started_at,
            AttemptRow.finished_at,
        )
        stmt = (
            select(
                AttemptRow.id.label("attempt_id"),
                AttemptRow.learner_id,
                LearnerRow.employee_number,
                LearnerRow.name,
                LearnerRow.unit,
                # Signed in through SSO, or identity typed by the learner ("ilmoitettu itse").
                LearnerRow.learner_key.startswith("sso:").label("sso"),
                AttemptRow.course_version,
                AttemptRow.course_hash,
                AttemptRow.status,
                CompletionRow.completed_at,
                CompletionRow.points,
                CompletionRow.max_points,
                CompletionRow.passed,
                CompletionRow.certificate_code,
                *(extra if details else ()),
            )
            .join(LearnerRow, LearnerRow.id == AttemptRow.learner_id)
            .outerjoin(CompletionRow, CompletionRow.attempt_id == AttemptRow.id)
            .order_by(AttemptRow.started_at, AttemptRow.id)
        )
        times = ("erased_at", "started_at", "finished_at") if details else ()
        return self._frame(stmt, (*times, "completed_at"))

    def units(self) -> list[str]:
        """Every unit on the roster or of a learner, sorted."""
        with self.db.engine.connect() as connection:
            found = connection.scalars(
                union(
                    select(RosterRow.unit),
                    select(LearnerRow.unit).where(LearnerRow.unit.is_not(None)),
                )
            ).all()
        return sorted({str(u) for u in found})

    def theme_sums(
        self, themes: Sequence[str], *, unit: str | None = None, since: datetime | None = None
    ) -> pd.DataFrame:
        """Completions per learner unit: ``unit``, ``learners``, ``completions``, ``passes``,
        and per theme ``n`` (position in ``themes``) ``sum_<n>`` and ``count_<n>`` of scores.

        Sums and counts rather than means, so units add up to the whole (a learner has one
        unit). Completions since ``since`` (a moment), of learners in ``unit``.
        """
        columns: list[Any] = [
            LearnerRow.unit.label("unit"),
            func.count(func.distinct(CompletionRow.learner_id)).label("learners"),
            func.count().label("completions"),
            func.sum(case((CompletionRow.passed, 1), else_=0)).label("passes"),
        ]
        for n, theme in enumerate(themes):
            score = CompletionRow.theme_scores[theme].as_float()
            columns += [func.sum(score).label(f"sum_{n}"), func.count(score).label(f"count_{n}")]
        stmt = (
            select(*columns)
            .join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
            .group_by(LearnerRow.unit)
        )
        return self._frame(_completed_in(stmt, unit, since, joined=True))

    def item_stats(
        self,
        *,
        unit: str | None = None,
        since: datetime | None = None,
        learners_up_to: int | None = None,
    ) -> ItemStats:
        """Sums for the item analysis over first tries of completed attempts, per step and
        distinct choice (see :class:`ItemStats`); completions filtered as in theme_sums.

        ``learners_up_to`` stops counting learners there: enough to apply a group-size rule.
        """
        first_try = exists().where(
            AnswerRow.attempt_id == CompletionRow.attempt_id, AnswerRow.scenario_try == 1
        )
        learners = _completed_in(
            select(CompletionRow.learner_id).where(first_try).distinct(), unit, since
        )
        if learners_up_to is not None:
            learners = learners.limit(learners_up_to)
        with self.db.engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(learners.subquery())) or 0
        frame = self._frame(_completed_in(_choice_sums(), unit, since))
        frame["chosen"] = [tuple(json.loads(c)) for c in frame["chosen"]]
        return ItemStats(int(count), frame)

    def content_versions(self, course_id: str) -> dict[str, str]:
        """Every saved version of the course: content hash → snapshot."""
        with self.db.session() as s:
            found = s.execute(
                select(ContentVersionRow.course_hash, ContentVersionRow.snapshot).where(
                    ContentVersionRow.course_id == course_id
                )
            ).all()
            return {str(h): str(text) for h, text in found}

    def answers_frame(self) -> pd.DataFrame:
        """Every stored answer with its attempt's learner and unit."""
        stmt = (
            select(
                AnswerRow.id.label("answer_id"),
                AnswerRow.attempt_id,
                AttemptRow.learner_id,
                LearnerRow.unit,
                AnswerRow.scenario_id,
                AnswerRow.scenario_version,
                AnswerRow.scenario_hash,
                AnswerRow.scenario_try,
                AnswerRow.step_id,
                AnswerRow.seq,
                AnswerRow.chosen,
                AnswerRow.points,
                AnswerRow.max_points,
                AnswerRow.severity,
                AnswerRow.answered_at,
            )
            .join(AttemptRow, AttemptRow.id == AnswerRow.attempt_id)
            .join(LearnerRow, LearnerRow.id == AttemptRow.learner_id)
            .order_by(AnswerRow.attempt_id, AnswerRow.seq)
        )
        frame = self._frame(stmt, ("answered_at",))
        frame["chosen"] = [tuple(json.loads(c)) for c in frame["chosen"]]
        return frame

    def flags_frame(self, limit: int = FLAGS_SHOWN) -> pd.DataFrame:
        """The newest ``limit`` learners' notes on unclear steps (oldest first), with the unit."""
        stmt = (
            select(
                FlagRow.scenario_id,
                FlagRow.step_id,
                FlagRow.comment,
                FlagRow.created_at,
                LearnerRow.unit,
            )
            .join(AttemptRow, AttemptRow.id == FlagRow.attempt_id)
            .join(LearnerRow, LearnerRow.id == AttemptRow.learner_id)
            .order_by(FlagRow.created_at.desc(), FlagRow.id.desc())
            .limit(limit)
        )
        return self._frame(stmt, ("created_at",)).iloc[::-1].reset_index(drop=True)

    def _frame(self, stmt: Executable, utc_columns: Sequence[str] = ()) -> pd.DataFrame:
        import pandas as pd

        with self.db.engine.connect() as connection:
            result = connection.execute(stmt)
            # Plain tuples: pandas probes each Row's attributes, ~4x slower on big frames.
            rows = [tuple(row) for row in result]
            frame = pd.DataFrame(rows, columns=list(result.keys()))
        for column in utc_columns:
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame


def _completed_in(
    stmt: _Query, unit: str | None, since: datetime | None, *, joined: bool = False
) -> _Query:
    """``stmt`` over completions limited to a learner unit and a first moment."""
    if unit is not None:
        if not joined:
            stmt = stmt.join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
        stmt = stmt.where(LearnerRow.unit == unit)
    if since is not None:
        stmt = stmt.where(CompletionRow.completed_at >= since.astimezone(UTC))
    return stmt


def _choice_sums() -> Select[*tuple[Any, ...]]:
    """First tries of completed attempts summed per step and choice (see :class:`ItemStats`)."""
    item = case((AnswerRow.max_points > 0, cast(AnswerRow.points, Float) / AnswerRow.max_points))
    # The rest of the course: the attempt's score without this step.
    rest_max = CompletionRow.max_points - AnswerRow.max_points
    rest = case((rest_max > 0, cast(CompletionRow.points - AnswerRow.points, Float) / rest_max))
    both = and_(AnswerRow.max_points > 0, rest_max > 0)
    x, y = case((both, item)), case((both, rest))
    return (
        select(
            AnswerRow.scenario_id,
            AnswerRow.step_id,
            AnswerRow.chosen,
            func.count().label("answers"),
            func.count(item).label("items"),
            func.sum(item).label("item_sum"),
            func.count(x).label("pairs"),
            func.sum(x).label("sx"),
            func.sum(y).label("sy"),
            func.sum(x * x).label("sxx"),
            func.sum(y * y).label("syy"),
            func.sum(x * y).label("sxy"),
        )
        .join(CompletionRow, CompletionRow.attempt_id == AnswerRow.attempt_id)
        .where(AnswerRow.scenario_try == 1)
        .group_by(AnswerRow.scenario_id, AnswerRow.step_id, AnswerRow.chosen)
    )
