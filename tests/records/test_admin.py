"""HR and administrator writes: erasure, retention and roster import."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from records_helpers import Records, run_course
from sqlalchemy import func, select

from somequiz.content.folder import Content
from somequiz.errors import StoreError
from somequiz.records.rows import RosterEntry
from somequiz.records.tables import (
    AnswerRow,
    ErasureRow,
    FlagRow,
    LearnerRow,
    RosterRow,
)


def test_erase_learner_keeps_anonymous_aggregates(store: Records, content: Content) -> None:
    attempt, completion = run_course(store, content, name="Poistettava", employee_number="E9")
    run_course(store, content, name="Jäävä", employee_number="E10")
    store.course.flag(
        attempt.id, "toimittaja-soittaa", "vastaus-puhelimessa", "Epäselvä, soita 040…"
    )
    store.admin.import_roster(
        [RosterEntry("E9", "Poistettava", "Kotihoito", date(2025, 1, 1), "p@x.fi")]
    )
    learner = store.admin.find_learner("e9")
    assert learner is not None
    given = len(store.course.answers(attempt.id))
    erasure = store.admin.erase_learner(learner.id)
    assert erasure.answers_deleted == given > 0
    assert erasure.flags_deleted == 1 and erasure.completions_kept == 1
    with store.db.session() as s:
        row = s.get(LearnerRow, learner.id)
        assert row is not None
        assert (row.name, row.employee_number, row.email) == ("", None, None)
        assert row.unit == "Kotihoito" and row.erased_at is not None
        assert s.scalar(select(func.count()).select_from(RosterRow)) == 0
        assert s.scalar(select(func.count()).select_from(FlagRow)) == 0
        mine = select(func.count()).where(AnswerRow.attempt_id == attempt.id)
        assert s.scalar(mine) == 0
        assert s.scalar(select(func.count()).select_from(ErasureRow)) == 1
    assert store.course.completion(attempt.id) == completion  # the aggregate stays
    assert store.signatures.verify().clean  # and is still vouched for
    assert completion.certificate_code is not None
    assert store.signatures.verify_certificate(completion.certificate_code).name is None
    assert store.admin.find_learner("E9") is None
    frame = store.reports.attempts_frame()
    assert "Poistettava" not in set(frame["name"])
    # The same person coming back is a new learner, not the erased one.
    again = store.course.learner(name="Poistettava", employee_number="E9")
    assert again.id != learner.id


def test_erase_unknown_learner_says_so(store: Records) -> None:
    with pytest.raises(StoreError, match="Oppijaa 42 ei ole"):
        store.admin.erase_learner(42)


def test_retention_deletes_only_old_answers(store: Records, content: Content) -> None:
    old = datetime(2019, 5, 1, 9, tzinfo=UTC)
    old_attempt, old_completion = run_course(store, content, employee_number="E1", at=old)
    new_attempt, _ = run_course(store, content, employee_number="E2")
    old_answers = len(store.course.answers(old_attempt.id))
    deleted = store.admin.apply_retention(3, today=date(2026, 1, 1))
    assert deleted == old_answers > 0
    assert store.course.answers(old_attempt.id) == []
    assert store.course.answers(new_attempt.id) != []
    assert store.course.completion(old_attempt.id) == old_completion
    assert store.signatures.verify().clean
    with pytest.raises(StoreError):
        store.admin.apply_retention(0)


def test_roster_import_inserts_updates_and_replaces(store: Records) -> None:
    first = [
        RosterEntry("A1", "Aino", "Kotihoito", date(2025, 1, 1)),
        RosterEntry("A2", "Eino", "Hallinto", date(2025, 2, 1), "eino@example.fi"),
    ]
    assert store.admin.import_roster(first).added == 2
    result = store.admin.import_roster(
        [RosterEntry("A2", "Eino E.", "Hallinto", date(2025, 2, 1))], replace=True
    )
    assert (result.added, result.updated, result.removed) == (0, 1, 1)
    frame = store.reports.roster_frame()
    assert list(frame["employee_number"]) == ["A2"]
    assert frame.loc[0, "name"] == "Eino E." and frame.loc[0, "start_date"] == date(2025, 2, 1)


def test_roster_import_is_all_or_nothing(store: Records) -> None:
    good = RosterEntry("A1", "Aino", "Kotihoito", date(2025, 1, 1))
    too_long = RosterEntry("A2", "x" * 10, "y" * 5000, date(2025, 1, 1))
    with pytest.raises(Exception):  # noqa: B017 - the database's own error differs by backend
        store.admin.import_roster([good, too_long, good])
    assert store.reports.roster_frame().empty
