"""What a course writes and reads for its learner: identity, attempts, answers, completion.

Every write is its own transaction and idempotent (a repeated answer or completion returns the
stored one), so a learner sees feedback only for an answer that is stored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from somequiz.engine.scoring import CourseResult
from somequiz.errors import AnswerError, StoreError
from somequiz.records import rows
from somequiz.records.database import Database
from somequiz.records.dialects import postgresql
from somequiz.records.identity import learner_key, official_name
from somequiz.records.rows import (
    ANSWER_COLUMNS,
    COMPLETION_COLUMNS,
    Attempt,
    Completion,
    Learner,
    StoredAnswer,
    aware,
    now,
)
from somequiz.records.signing import Signer, answers_signature, count_completion
from somequiz.records.tables import (
    AnswerRow,
    AttemptRow,
    CompletionRow,
    ContentVersionRow,
    FlagRow,
    LearnerRow,
)

MAX_FLAG = 2000  # characters kept of one note

# record_completion's statements, built once: building them per call cost more CPU than
# PostgreSQL spent running them.
_READ_ATTEMPT = (
    select(AttemptRow.learner_id, AttemptRow.course_hash, LearnerRow.learner_key)
    .add_columns(*COMPLETION_COLUMNS)
    .join(LearnerRow, LearnerRow.id == AttemptRow.learner_id)
    .outerjoin(CompletionRow, CompletionRow.attempt_id == AttemptRow.id)
    .where(AttemptRow.id == bindparam("attempt_id"))
)
_INSERT_COMPLETION = insert(CompletionRow)
_FINISH_ATTEMPT = (
    update(AttemptRow)
    .where(AttemptRow.id == bindparam("attempt_id"))
    .values(status="completed", finished_at=bindparam("finished"))
)


class CourseRecords:
    """The records of learners taking the course."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def learner(
        self,
        *,
        name: str,
        employee_number: str | None = None,
        unit: str | None = None,
        email: str | None = None,
        external_id: str | None = None,
    ) -> Learner:
        """Find the learner by identity, or create them; updates the unit.

        The identity rule: an employee number belongs to one name, as HR's roster has it or
        as first stored. A sign-in with the number and another name is refused (IdentityError),
        so nobody continues or renames someone else's course; names change only through HR
        (roster import). With SSO the header's name is the identity and is kept up to date.
        """
        key = learner_key(
            employee_number=employee_number, name=name, unit=unit, external_id=external_id
        )
        signer = Signer(self.db.secret)
        for _ in range(2):
            try:
                with self.db.session() as s:
                    row = s.scalars(select(LearnerRow).where(LearnerRow.learner_key == key)).first()
                    official = official_name(s, row, name, employee_number, external_id)
                    if row is None:
                        row = LearnerRow(
                            learner_key=key,
                            name=official,
                            employee_number=employee_number,
                            unit=unit,
                            email=email,
                            created_at=now(),
                        )
                        s.add(row)
                        s.flush()  # the seal covers the id
                        signer.seal_new(row)
                    else:
                        signer.reseal_identity(row, name=official)
                        row.unit, row.erased_at = unit or row.unit, None
                    s.flush()
                    return rows.learner(row)
            except IntegrityError:
                continue  # another process created the same learner a moment ago
        raise StoreError("Oppijan tallennus ei onnistunut. Yritä uudelleen.")

    def open_attempt(self, learner_id: int, course_id: str) -> Attempt | None:
        """The learner's latest unfinished attempt at the course, if any."""
        with self.db.session() as s:
            row = s.scalars(
                select(AttemptRow)
                .where(
                    AttemptRow.learner_id == learner_id,
                    AttemptRow.course_id == course_id,
                    AttemptRow.status == "in_progress",
                )
                .order_by(AttemptRow.started_at.desc())
            ).first()
            return rows.attempt(row) if row else None

    def start_attempt(
        self,
        learner_id: int,
        course_id: str,
        course_version: int,
        course_hash: str,
        lang: str = "fi",
        *,
        at: datetime | None = None,
    ) -> Attempt:
        """A new attempt at the course (``at`` backdates it, for demo data and tests)."""
        started = aware(at or now())
        attempt = Attempt(
            str(uuid.uuid4()), learner_id, course_id, course_hash, "in_progress", started, lang
        )
        with self.db.transaction() as connection:
            connection.execute(
                insert(AttemptRow).values(**vars(attempt), course_version=course_version)
            )
        return attempt

    def record_answer(
        self,
        *,
        answer_id: str,
        attempt_id: str,
        scenario_id: str,
        scenario_version: int,
        scenario_hash: str,
        scenario_try: int,
        step_id: str,
        chosen: Sequence[str],
        points: int,
        max_points: int,
        severity: str,
        at: datetime | None = None,
    ) -> StoredAnswer:
        """Store an answer once; the same answer id again returns the stored one."""
        stored = StoredAnswer(
            answer_id,
            scenario_id,
            scenario_try,
            step_id,
            tuple(chosen),
            points,
            severity,
            aware(at or now()),
        )
        # Order by a per-attempt sequence, not by clock: servers' clocks may differ. Computed
        # inside the INSERT: one round trip instead of a SELECT and an INSERT.
        seq = (
            select(func.coalesce(func.max(AnswerRow.seq), 0) + 1)
            .where(AnswerRow.attempt_id == attempt_id)
            .scalar_subquery()
        )
        values = {
            **{k: v for k, v in vars(stored).items() if k != "chosen"},
            "attempt_id": attempt_id,
            "scenario_version": scenario_version,
            "scenario_hash": scenario_hash,
            "chosen": json.dumps(list(chosen)),
            "max_points": max_points,
            "seq": seq,
        }
        try:
            with self.db.transaction() as connection:
                connection.execute(insert(AnswerRow).values(values))
        except IntegrityError:
            return self._answered_before(answer_id, step_id)
        return stored

    def _answered_before(self, answer_id: str, step_id: str) -> StoredAnswer:
        """The answer stored under ``answer_id`` for this step, or AnswerError."""
        with self.db.transaction() as connection:
            existing = connection.execute(
                select(*ANSWER_COLUMNS).where(AnswerRow.id == answer_id)
            ).first()
        if existing is not None and existing.step_id == step_id:
            return rows.answer(existing)
        raise AnswerError("Tähän kohtaan on jo vastattu.") from None

    def answers(self, attempt_id: str) -> list[StoredAnswer]:
        """The attempt's answers in the order they were given."""
        with self.db.transaction() as connection:
            found = connection.execute(
                select(*ANSWER_COLUMNS)
                .where(AnswerRow.attempt_id == attempt_id)
                .order_by(AnswerRow.seq)
            ).all()
        return [rows.answer(r) for r in found]

    def record_completion(
        self, attempt_id: str, result: CourseResult, *, at: datetime | None = None
    ) -> Completion:
        """Finish the attempt and store its signed result, once.

        The attempt's learner is read first (the signature covers their key); the completion
        and the attempt's new status are then written together, all or nothing. A concurrent
        call for the same attempt hits the unique attempt_id and returns the first's record.
        """
        signer = Signer(self.db.secret)
        with self.db.transaction() as connection:
            answers = answers_signature(connection, signer, attempt_id)

        def new_row(found: Any) -> dict[str, Any]:
            return _new_completion(signer, attempt_id, found, result, at, answers)

        try:
            if self.db.engine.dialect.name == "postgresql":
                done, written = postgresql.complete(self.db, attempt_id, _READ_ATTEMPT, new_row)
                if written is not None:  # a crash before this only leaves the count unsealed
                    with self.db.transaction() as connection:
                        count_completion(connection, signer, written["learner_id"])
                return done
            with self.db.transaction() as connection:
                found = connection.execute(_READ_ATTEMPT, {"attempt_id": attempt_id}).first()
                if found is None:
                    raise StoreError("Suoritusta ei löydy. Aloita kurssi uudelleen.")
                if found.attempt_id is not None:
                    return rows.completion(found)
                row = new_row(found)
                connection.execute(_INSERT_COMPLETION, row)
                connection.execute(
                    _FINISH_ATTEMPT, {"attempt_id": attempt_id, "finished": row["completed_at"]}
                )
                count_completion(connection, signer, found.learner_id)
                return rows.completion(SimpleNamespace(**row))
        except IntegrityError:
            existing = self.completion(attempt_id)
            if existing is None:
                raise
            return existing

    def completion(self, attempt_id: str) -> Completion | None:
        """The attempt's completion, if it has one."""
        with self.db.transaction() as connection:
            row = connection.execute(
                select(*COMPLETION_COLUMNS).where(CompletionRow.attempt_id == attempt_id)
            ).first()
        return rows.completion(row) if row else None

    def standing(self, learner_id: int, course_id: str, course_version: int) -> Completion | None:
        """The completion that decides a returning learner's standing in this course version.

        Their latest passed completion if any (a pass stands until a later pass replaces
        it), otherwise their latest failed one (tries spent), otherwise None.
        """
        with self.db.transaction() as connection:
            row = connection.execute(
                select(*COMPLETION_COLUMNS)
                .join(AttemptRow, AttemptRow.id == CompletionRow.attempt_id)
                .where(
                    AttemptRow.learner_id == learner_id,
                    AttemptRow.course_id == course_id,
                    AttemptRow.course_version == course_version,
                )
                .order_by(CompletionRow.passed.desc(), CompletionRow.completed_at.desc())
            ).first()
        return rows.completion(row) if row else None

    def flag(self, attempt_id: str, scenario_id: str, step_id: str, comment: str) -> None:
        """Store a learner's note that a step was unclear; a second note replaces the first."""
        where = (
            FlagRow.attempt_id == attempt_id,
            FlagRow.scenario_id == scenario_id,
            FlagRow.step_id == step_id,
        )
        values = {"comment": comment[:MAX_FLAG], "created_at": now()}
        for _ in range(2):
            try:
                with self.db.transaction() as connection:
                    if connection.execute(update(FlagRow).where(*where).values(values)).rowcount:
                        return
                    connection.execute(
                        insert(FlagRow).values(
                            attempt_id=attempt_id,
                            scenario_id=scenario_id,
                            step_id=step_id,
                            **values,
                        )
                    )
                    return
            except IntegrityError:
                continue  # the same note was stored a moment ago by another tab: update it
        raise StoreError("Huomautuksen tallennus ei onnistunut. Yritä uudelleen.")

    def save_content_version(
        self, course_id: str, course_version: int, course_hash: str, snapshot: str
    ) -> None:
        """Keep the content behind ``course_hash`` (once; later calls change nothing)."""
        try:
            with self.db.session() as s:
                if s.get(ContentVersionRow, course_hash) is None:
                    s.add(
                        ContentVersionRow(
                            course_hash=course_hash,
                            course_id=course_id,
                            course_version=course_version,
                            snapshot=snapshot,
                            created_at=now(),
                        )
                    )
        except IntegrityError:
            pass  # another process saved the same version a moment ago


def _new_completion(
    signer: Signer,
    attempt_id: str,
    found: Any,
    result: CourseResult,
    at: datetime | None,
    answers: str,
) -> dict[str, Any]:
    """The signed completion row of ``found`` (the attempt as _READ_ATTEMPT reads it)."""
    row: dict[str, Any] = {
        "attempt_id": attempt_id,
        "learner_id": found.learner_id,
        "completed_at": (at or now()).astimezone(UTC).replace(microsecond=0),
        "points": result.points,
        "max_points": result.max_points,
        "passed": result.passed,
        "theme_scores": {k: round(v, 4) for k, v in result.theme_scores.items()},
        "course_hash": found.course_hash,
        "certificate_code": signer.certificate_code(attempt_id) if result.passed else None,
        "answers_signature": answers,
    }
    # A plain dict, not an ORM object: instrumented attributes cost as much as a round trip.
    row["signature"] = signer.signature(SimpleNamespace(**row), found.learner_key)
    return row
