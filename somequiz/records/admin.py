"""HR's and the administrator's writes: the roster, finding and erasing a person, retention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, time

from sqlalchemy import delete, select

from somequiz.errors import StoreError
from somequiz.records import rows
from somequiz.records.course import learner_key
from somequiz.records.database import Database
from somequiz.records.rows import Erasure, Learner, RosterEntry, RosterImport, now, rowcount
from somequiz.records.signing import Signer
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
        """Insert or update roster rows in one transaction; ``replace`` drops everyone else."""
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
        return RosterImport(added, updated, removed)

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
            answers = s.execute(delete(AnswerRow).where(AnswerRow.attempt_id.in_(attempts)))
            flags = s.execute(delete(FlagRow).where(FlagRow.attempt_id.in_(attempts)))
            if learner.employee_number:
                s.execute(
                    delete(RosterRow).where(RosterRow.employee_number == learner.employee_number)
                )
            moment = now()
            learner.learner_key = f"erased:{learner_id}"
            learner.name, learner.employee_number, learner.email = "", None, None
            learner.erased_at = moment
            completions = s.scalars(
                select(CompletionRow).where(CompletionRow.learner_id == learner_id)
            ).all()
            for row in completions:
                row.signature = signer.signature(row, learner.learner_key)
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
        with self.db.session() as s:
            result = s.execute(delete(AnswerRow).where(AnswerRow.answered_at < cutoff))
            s.execute(delete(FlagRow).where(FlagRow.created_at < cutoff))
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
