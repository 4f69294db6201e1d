"""Helpers shared by the records tests: every part over one database, course runs through the
engine, and writer processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from somequiz.config import settings
from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash, model_hash
from somequiz.content.models import Step
from somequiz.engine.scoring import CourseResult, CourseRun
from somequiz.records.admin import Admin
from somequiz.records.course import CourseRecords
from somequiz.records.database import Database
from somequiz.records.reports import Reports
from somequiz.records.rows import Attempt, Completion
from somequiz.records.signing import Signatures


@dataclass(frozen=True)
class Records:
    """One database with each part over it, for tests that write as a learner and read as HR."""

    db: Database
    course: CourseRecords
    admin: Admin
    reports: Reports
    signatures: Signatures

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> Records:
        """The parts over ``url`` (by default the configured database), with the key and
        results folder of the current settings."""
        options = settings()
        db = Database(
            url or options.database_url(),
            results=options.results,
            secret_key=options.secret_key,
            migrate=migrate,
        )
        return cls(db, CourseRecords(db), Admin(db), Reports(db), Signatures(db))

    def close(self) -> None:
        """Release the connections."""
        self.db.close()


def _choose(step: Step, *, best: bool) -> tuple[str, ...]:
    """The best selection of ``step``, or its lowest-scoring choice."""
    if best:
        return graph.best_selection(step)
    return (min(step.choices, key=lambda c: c.points).id,)


def run_course(
    store: Records,
    content: Content,
    *,
    name: str = "Testi Oppija",
    employee_number: str | None = "E100",
    unit: str | None = "Kotihoito",
    best: bool = True,
    at: datetime | None = None,
    chash: str | None = None,
    external_id: str | None = None,
) -> tuple[Attempt, Completion]:
    """A learner takes the whole course (best or worst choices) and completes it."""
    learner = store.course.learner(
        name=name, employee_number=employee_number, unit=unit, external_id=external_id
    )
    attempt = store.course.start_attempt(
        learner.id,
        content.course.id,
        content.course.version,
        chash or course_hash(content),
        at=at,
    )
    run = CourseRun(content.course, content.scenarios)
    for sid in content.course.scenarios:
        scenario = content.scenarios[sid]
        srun = run.start(sid)
        while srun.current is not None:
            step = srun.current
            feedback = srun.answer(step.id, _choose(step, best=best))
            store.course.record_answer(
                answer_id=str(uuid.uuid4()),
                attempt_id=attempt.id,
                scenario_id=sid,
                scenario_version=scenario.version,
                scenario_hash=model_hash(scenario),
                scenario_try=1,
                step_id=step.id,
                chosen=feedback.chosen,
                points=feedback.points,
                max_points=feedback.max_points,
                severity=feedback.severity,
                at=at,
            )
    completion = store.course.record_completion(attempt.id, run.result(content.catalogue), at=at)
    return attempt, completion


def write_completions(url: str, worker: int, count: int, result: CourseResult) -> tuple[int, int]:
    """A writer process: one learner starts and completes ``count`` attempts; (done, errors)."""
    store = Records.open(url, migrate=False)
    done = errors = 0
    try:
        learner = store.course.learner(name=f"Kirjoittaja {worker}", employee_number=f"W{worker}")
        for _ in range(count):
            try:
                attempt = store.course.start_attempt(learner.id, "some-perehdytys", 1, "0" * 16)
                store.course.record_completion(attempt.id, result)
                done += 1
            except Exception:
                errors += 1
    finally:
        store.close()
    return done, errors


@contextmanager
def shared_database(kind: str, folder: Path, pg_server: str | None) -> Iterator[Records]:
    """A store for a whole module: filled once, read by many tests (writes are slow under load).

    Its key and results folder are set here, before the per-test settings exist.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOMEQUIZ_RESULTS", str(folder / "results"))
        patch.setenv("SOMEQUIZ_SECRET_KEY", "shared-test-key")
        settings.cache_clear()
        if kind == "sqlite":
            url = f"sqlite:///{folder / 'shared.db'}"
            admin = None
        else:
            assert pg_server is not None
            name = f"somequiz_shared_{uuid.uuid4().hex[:12]}"
            admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
        store = Records.open(url)
        _ = store.db.secret
    settings.cache_clear()
    try:
        yield store
    finally:
        store.close()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
