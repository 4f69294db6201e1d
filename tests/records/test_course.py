"""The course's writes: backdated records keep their time."""

from __future__ import annotations

from datetime import UTC, datetime

from records_helpers import Records, run_course

from somequiz.content.folder import Content


def test_backdated_records_keep_their_time(store: Records, content: Content) -> None:
    moment = datetime(2024, 2, 29, 12, 30, tzinfo=UTC)
    attempt, completion = run_course(store, content, at=moment)
    assert completion.completed_at == moment
    assert all(a.answered_at == moment for a in store.course.answers(attempt.id))
    assert store.signatures.verify().clean
