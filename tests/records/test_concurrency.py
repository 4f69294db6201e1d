"""Many writers at once lose nothing; a writer killed mid-transaction leaves no partial record."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from records_helpers import write_completions
from sqlalchemy import func, select, text

from somequiz.content.folder import Content
from somequiz.engine.scoring import CourseRun
from somequiz.records.store import Completion, Store
from somequiz.records.tables import AttemptRow, CompletionRow

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
    from somequiz.content.folder import load_content
    from somequiz.engine.scoring import CourseRun
    from somequiz.records.store import Completion, Store

    store = Store(sys.argv[1], migrate=False)
    content = load_content(__import__("pathlib").Path(sys.argv[2]))
    attempt_id = sys.argv[3]
    written = []

    @event.listens_for(store.engine, "after_cursor_execute")
    def _hang(connection, cursor, statement, parameters, context, executemany):
        written.append(statement.split(None, 3)[:3])
        if statement.startswith("UPDATE attempts"):
            # SQLite: the completion row and the attempt's new status are written but not
            # committed.
            assert ["INSERT", "INTO", "completions"] in written, written
            print("written", flush=True)
            time.sleep(120)

    @event.listens_for(store.engine, "before_cursor_execute")
    def _announce(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("WITH finished"):
            # PostgreSQL: the one write statement is sent; it waits for the test's row lock.
            print("writing", flush=True)

    store.record_completion(attempt_id, CourseRun(content.course, content.scenarios).result())
    """
)


def _waiting_on_lock(store: Store) -> bool:
    with store.engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'WITH finished%'"
                )
            )
        )


def test_writer_killed_mid_write_leaves_no_partial_completion(
    store: Store, content: Content, tmp_path: Path
) -> None:
    """SQLite: killed inside its transaction. PostgreSQL, where the write is one statement:
    killed while that statement waits for a lock. Either way: all of the record or none."""
    learner = store.learner(name="Kesken Jäävä", employee_number="K1")
    attempt_id = store.start_attempt(learner.id, content.course.id, 1, "0" * 16).id
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER, encoding="utf-8")
    postgres = store.engine.dialect.name == "postgresql"
    blocker = store.engine.connect() if postgres else None
    if blocker is not None:
        blocker.execute(select(AttemptRow.id).where(AttemptRow.id == attempt_id).with_for_update())
    child = subprocess.Popen(
        [sys.executable, str(script), store.url, str(content.folder), attempt_id],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == ("writing" if postgres else "written"), "the writer did not get there"
        deadline = time.monotonic() + 30
        while postgres and not _waiting_on_lock(store):
            assert time.monotonic() < deadline, "the write never waited for the lock"
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if blocker is not None:
            blocker.commit()  # the orphaned statement may now finish, or fail: never half
            blocker.close()
    assert child.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while postgres and _waiting_on_lock(store):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5 if postgres else 0)
    with store.session() as s:
        attempt = s.get(AttemptRow, attempt_id)
        assert attempt is not None
        count = s.scalar(select(func.count()).select_from(CompletionRow))
        if store.engine.dialect.name == "sqlite":
            assert s.scalar(text("PRAGMA integrity_check")) == "ok"
    stored = store.completion(attempt_id)
    if stored is None:
        assert (count, attempt.status, attempt.finished_at) == (0, "in_progress", None)
    else:
        assert (count, attempt.status, attempt.finished_at) == (1, "completed", stored.completed_at)
    if not postgres:
        assert stored is None  # SQLite's open transaction died with the process
    # The lock is gone: the completion can now be recorded (or is there), once.
    result = CourseRun(content.course, content.scenarios).result()
    first = store.record_completion(attempt_id, result)
    assert stored is None or first == stored
    assert store.record_completion(attempt_id, result) == first
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(CompletionRow)) == 1
    assert store.verify().altered == []


@pytest.mark.postgres
def test_racing_calls_for_one_attempt_store_one_completion(
    pg_database: str, content: Content
) -> None:
    """Eight threads finish the same attempt at once: one record, and all of them return it."""
    store = Store(pg_database)
    try:
        learner = store.learner(name="Kiireinen", employee_number="R1")
        attempt_id = store.start_attempt(learner.id, content.course.id, 1, "0" * 16).id
        result = CourseRun(content.course, content.scenarios).result()
        start = threading.Barrier(WRITERS)

        def finish(_: int) -> Completion:
            start.wait()
            return store.record_completion(attempt_id, result)

        with ThreadPoolExecutor(WRITERS) as pool:
            returned = list(pool.map(finish, range(WRITERS)))
        assert all(r == returned[0] for r in returned)
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(CompletionRow)) == 1
            attempt = s.get(AttemptRow, attempt_id)
            assert attempt is not None and attempt.finished_at == returned[0].completed_at
        assert store.verify().altered == []
    finally:
        store.close()
