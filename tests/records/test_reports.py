"""The frames reports read: UTC times and answers as tuples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from records_helpers import Records, run_course

from somequiz.content.folder import Content


def test_frames_have_utc_times_and_answers(store: Records, content: Content) -> None:
    attempt, _ = run_course(store, content)
    attempts = store.reports.attempts_frame()
    assert str(attempts["started_at"].dt.tz) == "UTC"
    answers = store.reports.answers_frame()
    assert set(answers["attempt_id"]) == {attempt.id}
    assert all(isinstance(c, tuple) for c in answers["chosen"])
    assert (answers["answered_at"] <= datetime.now(UTC) + timedelta(seconds=1)).all()
    assert store.reports.flags_frame().empty
