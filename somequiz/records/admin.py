"""HR's and the administrator's writes: the roster, finding and erasing a person, retention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from somequiz.errors import StoreError
from somequiz.records import rows
from somequiz.records.database import Database
from somequiz.records.identity import learner_key
from somequiz.records.rows import Erasure, Learner, RosterEntry, RosterImport, now, rowcount
from somequiz.records.signing import Signer, digests, resign_answers
from somequiz.records.tables import (
    AnswerRow,
    AttemptRow,
    CompletionRow,
    ErasureRow,
    FlagRow,
    LearnerRow,
    RosterRow,
)


class Admin:
    """Roster import, erasure and retention over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def import_roster(
        self, entries: Sequence[RosterEntry], *, replace: bool = False
    ) -> RosterImport:
        """Insert or update roster rows in one transaction; ``replace`` drops everyone else.

        A learner the roster renames takes the new name at once (their identity sealed again).
        """
        moment = now()
        with self.db.session() as s:
            existing = {r.employee_number: r for r in s.scalars(select(RosterRow))}
            added = updated = 0
            for entry in entries:
                row = existing.pop(entry.employee_number, None)
                if row is None:
                    s.add(RosterRow(**asdict(entry), imported_at=moment))
                    added += 1
                else:
                    row.name, row.unit, row.email = entry.name, entry.unit, entry.email
                    row.start_date, row.imported_at = entry.start_date, moment
                    updated += 1
            removed = 0
            if replace and existing:
                removed = len(existing)
                s.execute(delete(RosterRow).where(RosterRow.employee_number.in_(list(existing))))
            self._rename(s, entries)
        return RosterImport(added, updated, removed)

    def _rename(self, s: Session, entries: Sequence[RosterEntry]) -> None:
        """Give stored learners the roster's names (names change only through HR)."""
        names = {learner_key(employee_number=e.employee_number): e.name for e in entries}
        signer = Signer(self.db.secret)
        learners = s.scalars(
            select(LearnerRow).where(
                LearnerRow.learner_key.startswith("emp:"), LearnerRow.erased_at.is_(None)
            )
        )
        for learner in learners:
            name = names.get(learner.learner_key)
            if name is not None and name != learner.name:
                signer.reseal_identity(learner, name=name)

    def find_learner(self, ref: str) -> Learner | None:
        """The learner by employee number, or by internal id when ``ref`` is ``#<id>``."""
        with self.db.session() as s:
            if ref.startswith("#") and ref[1:].isdigit():
                row = s.get(LearnerRow, int(ref[1:]))
            else:
                key = learner_key(employee_number=ref)
                row = s.scalars(select(LearnerRow).where(LearnerRow.learner_key == key)).first()
            if row is None or row.erased_at is not None:
                return None
            return rows.learner(row)

    def erase_learner(self, learner_id: int) -> Erasure:
        """Delete a person's personal data, answers and notes; completions stay, anonymous.

        The unit is kept so that unit aggregates stay right; the completions are signed again
        under the anonymous identity so that ``verify`` still vouches for them.
        """
        signer = Signer(self.db.secret)
        with self.db.session() as s:
            learner = s.get(LearnerRow, learner_id, with_for_update=True)
            if learner is None:
                raise StoreError(f"Oppijaa {learner_id} ei ole. Tarkista tunniste.")
            attempts = select(AttemptRow.id).where(AttemptRow.learner_id == learner_id)
            before = digests(s.connection(), s.scalars(attempts).all())
            answers = s.execute(delete(AnswerRow).where(AnswerRow.attempt_id.in_(attempts)))
            flags = s.execute(delete(FlagRow).where(FlagRow.attempt_id.in_(attempts)))
            if learner.employee_number:
                s.execute(
                    delete(RosterRow).where(RosterRow.employee_number == learner.employee_number)
                )
            moment = now()
            completions = s.scalars(
                select(CompletionRow).where(CompletionRow.learner_id == learner_id)
            ).all()
            # Signed again under the anonymous key only if they were intact: no laundering.
            intact = [row for row in completions if signer.signed(row, learner.learner_key)]
            erased = {"learner_key": f"erased:{learner_id}", "name": "", "employee_number": None}
            signer.reseal_identity(learner, **erased)
            learner.email, learner.erased_at = None, moment
            for row in intact:
                row.signature = signer.signature(row, learner.learner_key)
            s.flush()
            resign_answers(s.connection(), signer, before)
            erasure = Erasure(
                learner_id=learner_id,
                answers_deleted=rowcount(answers),
                flags_deleted=rowcount(flags),
                completions_kept=len(completions),
            )
            s.add(ErasureRow(erased_at=moment, **asdict(erasure)))
            return erasure

    def delete_answers_before(self, cutoff: datetime) -> int:
        """Delete answers and learner notes given before ``cutoff``; the number of answers."""
        old = AnswerRow.answered_at < cutoff
        with self.db.session() as s:
            touched = select(AnswerRow.attempt_id).where(old).distinct()
            before = digests(s.connection(), s.scalars(touched))
            result = s.execute(delete(AnswerRow).where(old))
            s.execute(delete(FlagRow).where(FlagRow.created_at < cutoff))
            resign_answers(s.connection(), Signer(self.db.secret), before)
            return rowcount(result)

    def apply_retention(self, years: int, *, today: date | None = None) -> int:
        """Delete answers older than ``years`` years; the number deleted."""
        if years < 1:
            raise StoreError("Säilytysajan pitää olla vähintään 1 vuosi.")
        day = today or now().date()
        try:
            cutoff_day = day.replace(year=day.year - years)
        except ValueError:  # 29 February
            cutoff_day = day.replace(year=day.year - years, day=28)
        return self.delete_answers_before(datetime.combine(cutoff_day, time(), UTC))
