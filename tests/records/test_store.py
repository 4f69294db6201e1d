"""Store additions: erasure, retention, verify, roster rows and the frames exports read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from records_helpers import run_course
from sqlalchemy import func, select, update

from somequiz.content.folder import Content
from somequiz.errors import StoreError
from somequiz.records.store import RosterEntry, Store, load_secret
from somequiz.records.tables import (
    AnswerRow,
    CompletionRow,
    ErasureRow,
    FlagRow,
    LearnerRow,
    RosterRow,
)


def test_verify_detects_an_edited_score(store: Store, content: Content) -> None:
    run_course(store, content, employee_number="E1")
    _, completion = run_course(store, content, employee_number="E2", best=False)
    assert store.verify().altered == []
    with store.session() as s:
        s.execute(
            update(CompletionRow)
            .where(CompletionRow.attempt_id == completion.attempt_id)
            .values(points=CompletionRow.max_points, passed=True)
        )
    report = store.verify()
    assert report.checked == 2
    assert [a.attempt_id for a in report.altered] == [completion.attempt_id]
    assert "allekirjoitus" in report.altered[0].reason
    # A failed course has no certificate code; one made "passed" has none either.
    assert completion.certificate_code is None
    assert "todistuskoodi" in report.altered[0].reason


def test_verify_detects_a_moved_certificate_code(store: Store, content: Content) -> None:
    _, first = run_course(store, content, employee_number="E1")
    _, second = run_course(store, content, employee_number="E2")
    with store.session() as s:
        s.execute(
            update(CompletionRow)
            .where(CompletionRow.attempt_id == second.attempt_id)
            .values(certificate_code="AAAA-BBBB-CCCC")
        )
    altered = store.verify().altered
    assert [a.attempt_id for a in altered] == [second.attempt_id]
    good = store.verify_certificate(first.certificate_code)
    assert good.valid and good.passed and good.name == "Testi Oppija"
    assert not store.verify_certificate("0000-0000-0000").found


def test_erase_learner_keeps_anonymous_aggregates(store: Store, content: Content) -> None:
    attempt, completion = run_course(store, content, name="Poistettava", employee_number="E9")
    run_course(store, content, name="Jäävä", employee_number="E10")
    store.flag(attempt.id, "toimittaja-soittaa", "vastaus-puhelimessa", "Epäselvä, soita 040…")
    store.import_roster([RosterEntry("E9", "Poistettava", "Kotihoito", date(2025, 1, 1), "p@x.fi")])
    learner = store.find_learner("e9")
    assert learner is not None
    given = len(store.answers(attempt.id))
    erasure = store.erase_learner(learner.id)
    assert erasure.answers_deleted == given > 0
    assert erasure.flags_deleted == 1 and erasure.completions_kept == 1
    with store.session() as s:
        row = s.get(LearnerRow, learner.id)
        assert row is not None
        assert (row.name, row.employee_number, row.email) == ("", None, None)
        assert row.unit == "Kotihoito" and row.erased_at is not None
        assert s.scalar(select(func.count()).select_from(RosterRow)) == 0
        assert s.scalar(select(func.count()).select_from(FlagRow)) == 0
        mine = select(func.count()).where(AnswerRow.attempt_id == attempt.id)
        assert s.scalar(mine) == 0
        assert s.scalar(select(func.count()).select_from(ErasureRow)) == 1
    assert store.completion(attempt.id) == completion  # the aggregate stays
    assert store.verify().altered == []  # and is still vouched for
    assert store.verify_certificate(completion.certificate_code).name is None
    assert store.find_learner("E9") is None
    frame = store.attempts_frame()
    assert "Poistettava" not in set(frame["name"])
    # The same person coming back is a new learner, not the erased one.
    again = store.learner(name="Poistettava", employee_number="E9")
    assert again.id != learner.id


def test_erase_unknown_learner_says_so(store: Store) -> None:
    with pytest.raises(StoreError, match="Oppijaa 42 ei ole"):
        store.erase_learner(42)


def test_retention_deletes_only_old_answers(store: Store, content: Content) -> None:
    old = datetime(2019, 5, 1, 9, tzinfo=UTC)
    old_attempt, old_completion = run_course(store, content, employee_number="E1", at=old)
    new_attempt, _ = run_course(store, content, employee_number="E2")
    old_answers = len(store.answers(old_attempt.id))
    deleted = store.apply_retention(3, today=date(2026, 1, 1))
    assert deleted == old_answers > 0
    assert store.answers(old_attempt.id) == []
    assert store.answers(new_attempt.id) != []
    assert store.completion(old_attempt.id) == old_completion
    assert store.verify().altered == []
    with pytest.raises(StoreError):
        store.apply_retention(0)


def test_backdated_records_keep_their_time(store: Store, content: Content) -> None:
    moment = datetime(2024, 2, 29, 12, 30, tzinfo=UTC)
    attempt, completion = run_course(store, content, at=moment)
    assert completion.completed_at == moment
    assert all(a.answered_at == moment for a in store.answers(attempt.id))
    assert store.verify().altered == []


def test_roster_import_inserts_updates_and_replaces(store: Store) -> None:
    first = [
        RosterEntry("A1", "Aino", "Kotihoito", date(2025, 1, 1)),
        RosterEntry("A2", "Eino", "Hallinto", date(2025, 2, 1), "eino@example.fi"),
    ]
    assert store.import_roster(first).added == 2
    result = store.import_roster(
        [RosterEntry("A2", "Eino E.", "Hallinto", date(2025, 2, 1))], replace=True
    )
    assert (result.added, result.updated, result.removed) == (0, 1, 1)
    frame = store.roster_frame()
    assert list(frame["employee_number"]) == ["A2"]
    assert frame.loc[0, "name"] == "Eino E." and frame.loc[0, "start_date"] == date(2025, 2, 1)


def test_roster_import_is_all_or_nothing(store: Store) -> None:
    good = RosterEntry("A1", "Aino", "Kotihoito", date(2025, 1, 1))
    too_long = RosterEntry("A2", "x" * 10, "y" * 5000, date(2025, 1, 1))
    with pytest.raises(Exception):  # noqa: B017 - the database's own error differs by backend
        store.import_roster([good, too_long, good])
    assert store.roster_frame().empty


def test_frames_have_utc_times_and_answers(store: Store, content: Content) -> None:
    attempt, _ = run_course(store, content)
    attempts = store.attempts_frame()
    assert str(attempts["started_at"].dt.tz) == "UTC"
    answers = store.answers_frame()
    assert set(answers["attempt_id"]) == {attempt.id}
    assert all(isinstance(c, tuple) for c in answers["chosen"])
    assert (answers["answered_at"] <= datetime.now(UTC) + timedelta(seconds=1)).all()
    assert store.flags_frame().empty


def test_secret_is_created_once_with_private_mode(store: Store, content: Content) -> None:
    from somequiz.config import settings

    run_course(store, content)
    key = settings().results / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_bytes().strip()) == 64
    assert not [p for p in key.parent.iterdir() if p.name.startswith(".secret-")]


def test_results_folder_and_database_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "uusi" / "results"
    store = Store(f"sqlite:///{folder / 'somequiz.db'}")
    try:
        assert (folder.stat().st_mode & 0o777) == 0o700
        assert ((folder / "somequiz.db").stat().st_mode & 0o777) == 0o600
        load_secret(folder)
        assert ((folder / "secret.key").stat().st_mode & 0o777) == 0o600
    finally:
        store.close()
