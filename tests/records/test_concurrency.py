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
from records_helpers import Records, write_completions
from sqlalchemy import func, select, text

from somequiz.content.folder import Content
from somequiz.engine.scoring import CourseRun
from somequiz.records.rows import Completion
from somequiz.records.tables import AttemptRow, CompletionRow

WRITERS = 8
PER_WRITER = 200


def test_eight_writers_lose_nothing(store: Records, content: Content) -> None:
    result = CourseRun(content.course, content.scenarios).result()
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with context.Pool(WRITERS) as pool:
        outcomes = pool.starmap(
            write_completions, [(store.db.url, w, PER_WRITER, result) for w in range(WRITERS)]
        )
    elapsed = time.perf_counter() - started
    assert [errors for _, errors in outcomes] == [0] * WRITERS
    assert sum(done for done, _ in outcomes) == WRITERS * PER_WRITER
    with store.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CompletionRow)) == WRITERS * PER_WRITER
        assert s.scalar(select(func.count()).select_from(AttemptRow)) == WRITERS * PER_WRITER
    assert store.signatures.verify().clean
    print(f"{WRITERS * PER_WRITER / elapsed:.0f} completions/s")


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import event
    from somequiz.content.folder import load_content
    from somequiz.engine.scoring import CourseRun
    from somequiz.config import settings
    from somequiz.records.course import CourseRecords
    from somequiz.records.database import Database

    options = settings()
    db = Database(
        sys.argv[1], results=options.results, secret_key=options.secret_key, migrate=False
    )
    content = load_content(__import__("pathlib").Path(sys.argv[2]))
    attempt_id = sys.argv[3]
    written = []

    @event.listens_for(db.engine, "after_cursor_execute")
    def _hang(connection, cursor, statement, parameters, context, executemany):
        written.append(statement.split(None, 3)[:3])
        if statement.startswith("UPDATE attempts"):
            # SQLite: the completion row and the attempt's new status are written but not
            # committed.
            assert ["INSERT", "INTO", "completions"] in written, written
            print("written", flush=True)
            time.sleep(120)

    @event.listens_for(db.engine, "before_cursor_execute")
    def _announce(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("WITH finished"):
            # PostgreSQL: the one write statement is sent; it waits for the test's row lock.
            print("writing", flush=True)

    result = CourseRun(content.course, content.scenarios).result()
    CourseRecords(db).record_completion(attempt_id, result)
    """
)


def _waiting_on_lock(store: Records) -> bool:
    with store.db.engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'WITH finished%'"
                )
            )
        )


def _kill_the_writer_mid_write(
    store: Records, content: Content, attempt_id: str, tmp_path: Path
) -> None:
    """Run the completion writer in a process of its own and SIGKILL it mid-write: SQLite
    inside its open transaction, PostgreSQL while its one statement waits for a row lock."""
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER, encoding="utf-8")
    postgres = store.db.engine.dialect.name == "postgresql"
    blocker = store.db.engine.connect() if postgres else None
    if blocker is not None:
        blocker.execute(select(AttemptRow.id).where(AttemptRow.id == attempt_id).with_for_update())
    child = subprocess.Popen(
        [sys.executable, str(script), store.db.url, str(content.folder), attempt_id],
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


def test_writer_killed_mid_write_leaves_no_partial_completion(
    store: Records, content: Content, tmp_path: Path
) -> None:
    """SQLite: killed inside its transaction. PostgreSQL, where the write is one statement:
    killed while that statement waits for a lock. Either way: all of the record or none."""
    learner = store.course.learner(name="Kesken Jäävä", employee_number="K1")
    attempt_id = store.course.start_attempt(learner.id, content.course.id, 1, "0" * 16).id
    _kill_the_writer_mid_write(store, content, attempt_id, tmp_path)
    postgres = store.db.engine.dialect.name == "postgresql"
    deadline = time.monotonic() + 30
    while postgres and _waiting_on_lock(store):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5 if postgres else 0)
    with store.db.session() as s:
        attempt = s.get(AttemptRow, attempt_id)
        assert attempt is not None
        count = s.scalar(select(func.count()).select_from(CompletionRow))
        if store.db.engine.dialect.name == "sqlite":
            assert s.scalar(text("PRAGMA integrity_check")) == "ok"
    stored = store.course.completion(attempt_id)
    if stored is None:
        assert (count, attempt.status, attempt.finished_at) == (0, "in_progress", None)
    else:
        assert (count, attempt.status, attempt.finished_at) == (1, "completed", stored.completed_at)
    if not postgres:
        assert stored is None  # SQLite's open transaction died with the process
    # The lock is gone: the completion can now be recorded (or is there), once.
    result = CourseRun(content.course, content.scenarios).result()
    first = store.course.record_completion(attempt_id, result)
    assert stored is None or first == stored
    assert store.course.record_completion(attempt_id, result) == first
    with store.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CompletionRow)) == 1
    assert store.signatures.verify().clean


@pytest.mark.postgres
def test_racing_calls_for_one_attempt_store_one_completion(
    pg_database: str, content: Content
) -> None:
    """Eight threads finish the same attempt at once: one record, and all of them return it."""
    store = Records.open(pg_database)
    try:
        learner = store.course.learner(name="Kiireinen", employee_number="R1")
        attempt_id = store.course.start_attempt(learner.id, content.course.id, 1, "0" * 16).id
        result = CourseRun(content.course, content.scenarios).result()
        start = threading.Barrier(WRITERS)

        def finish(_: int) -> Completion:
            start.wait()
            return store.course.record_completion(attempt_id, result)

        with ThreadPoolExecutor(WRITERS) as pool:
            returned = list(pool.map(finish, range(WRITERS)))
        assert all(r == returned[0] for r in returned)
        with store.db.session() as s:
            assert s.scalar(select(func.count()).select_from(CompletionRow)) == 1
            attempt = s.get(AttemptRow, attempt_id)
            assert attempt is not None and attempt.finished_at == returned[0].completed_at
        assert store.signatures.verify().clean
    finally:
        store.close()
