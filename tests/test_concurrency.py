"""Many writers at once lose nothing; a writer killed mid-transaction leaves no partial record."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from records_helpers import write_completions
from sqlalchemy import func, select, text

from somequiz.content import Content
from somequiz.scoring import CourseRun
from somequiz.store import Store
from somequiz.tables import AttemptRow, CompletionRow

WRITERS = 8
PER_WRITER = 200


def test_eight_writers_lose_nothing(store: Store, content: Content) -> None:
    result = CourseRun(content.course, content.scenarios).result()
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with context.Pool(WRITERS) as pool:
        outcomes = pool.starmap(
            write_completions, [(store.url, w, PER_WRITER, result) for w in range(WRITERS)]
        )
    elapsed = time.perf_counter() - started
    assert [errors for _, errors in outcomes] == [0] * WRITERS
    assert sum(done for done, _ in outcomes) == WRITERS * PER_WRITER
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(CompletionRow)) == WRITERS * PER_WRITER
        assert s.scalar(select(func.count()).select_from(AttemptRow)) == WRITERS * PER_WRITER
    assert store.verify().altered == []
    print(f"{WRITERS * PER_WRITER / elapsed:.0f} completions/s")


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from somequiz.content import load_content
    from somequiz.scoring import CourseRun
    from somequiz.store import Store

    store = Store(sys.argv[1], migrate=False)
    content = load_content(__import__("pathlib").Path(sys.argv[2]))
    learner = store.learner(name="Kesken Jäävä", employee_number="K1")
    attempt = store.start_attempt(learner.id, content.course.id, 1, "0" * 16)

    @event.listens_for(Session, "after_flush")
    def _hang(session, context):
        # The completion row and the attempt's new status are written but not committed.
        print(attempt.id, flush=True)
        time.sleep(120)

    store.record_completion(attempt.id, CourseRun(content.course, content.scenarios).result())
    """
)


def test_writer_killed_mid_transaction_leaves_no_partial_completion(
    store: Store, content: Content, tmp_path: Path
) -> None:
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER, encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, str(script), store.url, str(content.folder)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert child.stdout is not None
        attempt_id = child.stdout.readline().strip()
        assert attempt_id, "the writer did not reach the middle of its transaction"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    with store.session() as s:
        attempt = s.get(AttemptRow, attempt_id)
        assert attempt is not None and attempt.status == "in_progress"
        assert attempt.finished_at is None
        assert s.scalar(select(func.count()).select_from(CompletionRow)) == 0
        if store.engine.dialect.name == "sqlite":
            assert s.scalar(text("PRAGMA integrity_check")) == "ok"
    assert store.completion(attempt_id) is None
    # The lock is gone: the same completion can now be recorded, once.
    result = CourseRun(content.course, content.scenarios).result()
    first = store.record_completion(attempt_id, result)
    assert store.record_completion(attempt_id, result) == first
    assert store.verify().altered == []
