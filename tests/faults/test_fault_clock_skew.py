"""Clock skew between learner servers does not reorder a learner's answers: they are ordered
by the attempt's own sequence number, never by the (per-server) clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fault_helpers import answers_of, best, next_step, sign_in

import somequiz.records.store as store_module
from somequiz.content.folder import Content
from somequiz.records.store import Store
from somequiz.ui.service.session import LearnerSession

SKEW = timedelta(hours=3)


class Server:
    """One learner process: its own store (connection pool) and its own clock."""

    def __init__(self, url: str, offset: timedelta, content: Content) -> None:
        self.store = Store(url)
        self.offset = offset
        self.content = content

    def page(self, monkeypatch: pytest.MonkeyPatch) -> LearnerSession:
        """A page load on this server, signed in (a failover resumes the learner here)."""
        self.use(monkeypatch)
        app = LearnerSession(self.content, self.store)
        sign_in(app)
        return app

    def use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The process clock of this server, for what happens next."""
        offset = self.offset
        clock: Callable[[], datetime] = lambda: datetime.now(UTC) + offset  # noqa: E731
        monkeypatch.setattr(store_module, "now", clock)


def test_answers_replay_in_order_across_servers_with_skewed_clocks(
    db_url: str, ui_content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = Server(db_url, timedelta(0), ui_content)
    slow = Server(db_url, -SKEW, ui_content)  # three hours behind

    # Step 1 on the right clock; the learner's process dies, the next page lands on `slow`.
    app = fast.page(monkeypatch)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    best(app)
    app = slow.page(monkeypatch)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    assert app.ref is not None and app.ref.step_id == "toinen"
    best(app)
    next_step(app)
    # Back on `fast` for the next scenario, then `slow` again.
    app = fast.page(monkeypatch)
    app.dispatch({"action": "open", "arg": "asiakas-viesti"})
    best(app)
    first_of_second = app.ref
    assert first_of_second is not None
    app = slow.page(monkeypatch)
    app.dispatch({"action": "open", "arg": "asiakas-viesti"})
    while app.screen_name == "scenario":
        best(app)
        next_step(app)

    stored = answers_of(fast.store, app)
    given = ["ensimmainen", "toinen", first_of_second.step_id]
    assert [a.step_id for a in stored][:3] == given
    by_clock = sorted(stored, key=lambda a: a.answered_at)
    assert by_clock != stored, "the skew should have put the clock order out of step"
    # A resume on either server replays the same run: both scenarios finished, full points.
    for server in (fast, slow):
        again = server.page(monkeypatch)
        assert again.course.run is not None and again.course.run.finished
        result = again.course.run.result(ui_content.catalogue)
        assert result.points == result.max_points
    fast.store.close()
    slow.store.close()


def test_backdated_answers_from_two_writers_keep_their_sequence(
    db_url: str, ui_content: Content
) -> None:
    """The store alone: two writers interleave answers stamped hours apart (``at=``)."""
    writers = [Store(db_url), Store(db_url)]
    learner = writers[0].learner(name="Aika Vääränä", employee_number="SKEW1")
    attempt = writers[0].start_attempt(learner.id, "ui-testikurssi", 1, "h" * 32)
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    stamps = [
        start,
        start - SKEW,
        start + timedelta(seconds=5),
        start - SKEW + timedelta(seconds=5),
    ]
    for n, stamp in enumerate(stamps):
        writers[n % 2].record_answer(
            answer_id=f"00000000-0000-0000-0000-00000000000{n}",
            attempt_id=attempt.id,
            scenario_id="ryhma-vaite",
            scenario_version=1,
            scenario_hash="s" * 32,
            scenario_try=1,
            step_id=f"askel-{n}",
            chosen=["a"],
            points=1,
            max_points=1,
            severity="best",
            at=stamp,
        )
    stored = writers[1].answers(attempt.id)
    assert [a.step_id for a in stored] == [f"askel-{n}" for n in range(4)]
    assert [a.answered_at for a in stored] == stamps
    for writer in writers:
        writer.close()
