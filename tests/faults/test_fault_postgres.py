"""PostgreSQL restarts during a learner's run: no answer is silently dropped. An answer given
while the database is down is refused with "try again", the learner stays on the step, and
the retry stores it once; a restart between answers goes unnoticed (the pool pings)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_helpers import answers_of, best, first_step_answered, next_step, sign_in
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from somequiz.content.folder import Content
from somequiz.errors import StoreError
from somequiz.records.store import Store
from somequiz.ui.service.session import LearnerSession

pytestmark = pytest.mark.postgres


def _cluster() -> tuple[str, str]:
    versions = sorted(Path("/etc/postgresql").glob("*/main"))
    if os.geteuid() != 0 or shutil.which("pg_ctlcluster") is None or not versions:
        pytest.skip("needs root and a local Debian PostgreSQL cluster (pg_ctlcluster)")
    return versions[-1].parent.name, "main"


def _ctl(action: str) -> None:
    version, name = _cluster()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _wait_ready(url: str) -> None:
    engine = create_engine(url)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        engine.dispose()


class Cluster:
    """The local cluster, stopped and started by a test."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stopped = False

    def stop(self) -> None:
        _ctl("stop")
        self.stopped = True

    def start(self) -> None:
        _ctl("start")
        _wait_ready(self.url)
        self.stopped = False


@pytest.fixture
def cluster(pg_database: str) -> Iterator[Cluster]:
    """The local cluster; whatever a test does, it is running again afterwards."""
    if make_url(pg_database).host not in {"127.0.0.1", "localhost", "::1"}:
        pytest.skip("PostgreSQL is not local: it cannot be restarted from here")
    _cluster()
    control = Cluster(pg_database)
    try:
        yield control
    finally:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *_cluster(), "start"],
            check=False,
            capture_output=True,
            timeout=120,
        )
        _wait_ready(pg_database)


def test_postgres_restart_during_a_run_drops_no_answer(
    pg_database: str, cluster: Cluster, ui_content: Content
) -> None:
    store = Store(pg_database)
    app = first_step_answered(ui_content, store)

    # Restart between two answers: the next answer goes through on the first try.
    cluster.stop()
    cluster.start()
    best(app)
    assert app.step.answered and app.step.error == ""
    next_step(app)
    app.dispatch({"action": "open", "arg": "asiakas-viesti"})
    step = app.ref
    assert step is not None

    # Down while the learner submits: refused, told to retry, nothing shown as saved.
    cluster.stop()
    try:
        best(app)
        assert not app.step.answered and app.step.feedback_html == ""
        assert "Yritä uudelleen" in app.step.error
        assert app.course.run is not None and not app.course.run.runs["asiakas-viesti"].feedback
        with pytest.raises(StoreError, match="Yritä hetken päästä uudelleen"):
            store.answers(app.course.attempt.id if app.course.attempt else "")
    finally:
        cluster.start()

    # The retry (the same submit on the same step) stores it once.
    assert app.ref is step
    best(app)
    assert app.step.answered and app.step.error == ""
    best(app)  # a second press of submit changes nothing
    stored = answers_of(store, app)
    assert [(a.scenario_id, a.step_id) for a in stored] == [
        ("ryhma-vaite", "ensimmainen"),
        ("ryhma-vaite", "toinen"),
        ("asiakas-viesti", step.step_id),
    ]
    # A reload resumes right after the last stored answer.
    reloaded = LearnerSession(ui_content, store)
    sign_in(reloaded)
    assert reloaded.course.run is not None
    assert [f.step_id for f in reloaded.course.run.runs["asiakas-viesti"].feedback] == [
        step.step_id
    ]
    store.close()


def test_commit_whose_acknowledgement_is_lost_is_not_stored_twice(
    pg_database: str, ui_content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database commits, then the connection breaks before the reply: the learner sees
    "try again", and the retry finds the stored answer instead of adding a second one."""
    store = Store(pg_database)
    app = LearnerSession(ui_content, store)
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    real = store.record_answer

    def committed_then_lost(**fields: object) -> object:
        real(**fields)  # type: ignore[arg-type]
        raise StoreError("Tallennus ei onnistunut. Yritä hetken päästä uudelleen.")

    monkeypatch.setattr(store, "record_answer", committed_then_lost)
    best(app)
    assert not app.step.answered and "Yritä uudelleen" in app.step.error
    monkeypatch.undo()
    best(app)  # the retry
    stored = answers_of(store, app)
    assert [a.step_id for a in stored] == ["ensimmainen"]
    # The learner continues from what the store holds: the next step is on screen.
    assert app.ref is not None and app.ref.step_id == "toinen" and app.step.error == ""
    store.close()
