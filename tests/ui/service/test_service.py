"""The course service of the learner server: sessions, content reloads, the Unix socket."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from records_helpers import Records
from tornado.ioloop import IOLoop
from ui_helpers import IDENTITY, UI_COURSE

from somequiz.errors import ServiceError
from somequiz.ui.kernel.relay import SocketClient
from somequiz.ui.service.process import (
    ContentCache,
    LearnerService,
    ServiceProcesses,
    start_service,
)


@pytest.fixture
def course_folder(tmp_path: Path) -> Path:
    """A copy of the UI course that a test may edit."""
    folder = tmp_path / "course"
    shutil.copytree(UI_COURSE, folder)
    return folder


@pytest.fixture
def service(course_folder: Path, sqlite_store: Records) -> LearnerService:
    """A service on the copied course and a fresh store."""
    return LearnerService(
        ContentCache(course_folder, sqlite_store.course), sqlite_store.course, idle_timeout=60
    )


def _sign_in(service: LearnerService, session: str) -> dict[str, object]:
    page: dict[str, object] = service.event(
        {"session": session, "part": "screen", "content": {"action": "start", "fields": IDENTITY}}
    )["page"]
    return page


def test_open_and_event_return_the_page(service: LearnerService) -> None:
    opened = service.open({"scenario": None, "sso": None})
    assert opened["page"]["children"] == ("header",)
    assert 'name="name"' in opened["page"]["header"]["html"]
    page = _sign_in(service, opened["session"])
    assert "Testi Oppija" in str(page["header"])
    assert len(service) == 1
    service.close({"session": opened["session"]})
    assert len(service) == 0


def test_unknown_session_is_an_expired_page(service: LearnerService) -> None:
    with pytest.raises(ServiceError, match="Lataa sivu uudelleen"):
        service.event({"session": "nope", "part": "screen", "content": {}})


def test_sweep_forgets_idle_pages(service: LearnerService) -> None:
    service.open({"scenario": None, "sso": None})
    service.sweep()
    assert len(service) == 1
    service.idle_timeout = 0
    time.sleep(0.01)
    service.sweep()
    assert len(service) == 0


def test_sso_identity_is_used(service: LearnerService) -> None:
    opened = service.open({"scenario": None, "sso": {"external_id": "u1", "name": "Sso Nimi"}})
    assert "Sso Nimi" in opened["page"]["header"]["html"]


def test_content_reloads_after_an_edit_and_keeps_the_last_good(
    course_folder: Path, service: LearnerService
) -> None:
    first = service.content.get()
    course = course_folder / "course.yaml"
    text = course.read_text(encoding="utf-8")
    course.write_text(text.replace("pass_percent: 80", "pass_percent: 75"), encoding="utf-8")
    assert "pass_percent: 75" in course.read_text(encoding="utf-8")
    assert service.content.get().course.pass_percent == 75
    course.write_text("broken: [", encoding="utf-8")
    kept = service.content.get()
    assert kept.course.pass_percent == 75
    assert kept is not first


@pytest.fixture
def socket_service(tmp_path: Path, service: LearnerService) -> Iterator[Path]:
    """The service on a Unix socket, served by an event loop in a thread of its own."""
    path = tmp_path / "service.sock"
    ready = threading.Event()
    loops: list[IOLoop] = []

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        loops.append(loop)
        server, sweeper = start_service(path, service, workers=2)
        ready.set()
        loop.start()
        sweeper.stop()
        server.stop()
        loop.close(all_fds=True)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield path
    loops[0].add_callback(loops[0].stop)
    thread.join(10)


def test_socket_is_private_and_answers_json(socket_service: Path) -> None:
    assert stat.S_IMODE(socket_service.stat().st_mode) == 0o600
    client = SocketClient(str(socket_service))
    opened = client.call("open", {"scenario": None, "sso": None})
    page = client.call(
        "event",
        {
            "session": opened["session"],
            "part": "screen",
            "content": {"action": "start", "fields": IDENTITY},
        },
    )["page"]
    assert page["children"] == ["header"]
    assert "Testi Oppija" in page["header"]["html"]


def test_socket_errors(socket_service: Path) -> None:
    client = SocketClient(str(socket_service))
    with pytest.raises(ServiceError):
        client.call("event", {"session": "gone", "part": "screen", "content": {}})
    with pytest.raises(OSError, match="404"):
        client.call("sweep", {})
    with pytest.raises(OSError, match="400"):
        client.call("open", [])  # type: ignore[arg-type]


def test_service_processes_answer_and_stop(
    tmp_path: Path, course_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOMEQUIZ_SCENARIOS", str(course_folder))
    monkeypatch.setenv("SOMEQUIZ_DB_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("SOMEQUIZ_RESULTS", str(tmp_path))
    Records.open(f"sqlite:///{tmp_path / 'p.db'}").close()  # migrated, as the server does first
    processes = ServiceProcesses(tmp_path, 2)
    sockets = processes.start()
    try:
        assert len(sockets) == 2
        for path in sockets:
            opened = SocketClient(str(path)).call("open", {"scenario": None, "sso": None})
            assert 'name="name"' in opened["page"]["header"]["html"]
    finally:
        processes.stop()
    assert all(p.returncode is not None for p in processes.processes)
    assert not any(path.exists() for path in sockets)


def test_service_process_stops_when_its_server_is_gone(tmp_path: Path, course_folder: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'o.db'}"
    Records.open(store_url).close()
    env = {
        **os.environ,
        "SOMEQUIZ_SCENARIOS": str(course_folder),
        "SOMEQUIZ_DB_URL": store_url,
        "SOMEQUIZ_RESULTS": str(tmp_path),
    }
    # Its "server" is a pid that is not its parent: as after the server was killed.
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "somequiz.ui.service.process",
            "--parent",
            "1",
            str(tmp_path / "o.sock"),
        ],
        env=env,
    )
    try:
        assert process.wait(60) == 0
    finally:
        process.kill()
