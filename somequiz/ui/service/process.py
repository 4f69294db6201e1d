"""The course service of the learner server: the content, the store and every page's
:class:`~somequiz.ui.service.session.LearnerSession`; the pages' kernels relay to it.

Why not in each kernel: a kernel that imported pydantic, SQLAlchemy, Jinja and the content
cost ≈ 90 MiB and ≈ 1 s of imports per page, and held a database connection per open page.
The kernels now only carry widgets (see :mod:`somequiz.ui.kernel.relay`); grading, storing and
rendering run here, in a few processes per learner server (:class:`ServiceProcesses`), each
with one connection pool.

Each service process listens on a Unix socket in Voilà's private (0700) connection folder, so
only processes of the server's own user reach it; the browser never can. The sockets reach the
kernels in ``somequiz.ui.SOCKET_ENV``, inherited from the server's environment.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.netutil import bind_unix_socket

from somequiz.config import settings
from somequiz.content.folder import Content, load_content
from somequiz.course.versions import remember_content
from somequiz.errors import ServiceError
from somequiz.records.course import CourseRecords
from somequiz.records.database import Database
from somequiz.ui.errors import Guard, log, setup_logging
from somequiz.ui.identity import SsoIdentity
from somequiz.ui.service.session import LearnerSession

_MAX_BODY = 64 * 1024


def _fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a trainer saves a file in the content folder."""
    found = []
    for path in folder.rglob("*"):
        if path.suffix in {".yaml", ".yml"} and path.is_file():
            stat = path.stat()
            found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


class ContentCache:
    """The course content, reloaded when its files change; a broken edit keeps the last good."""

    def __init__(self, folder: Path, records: CourseRecords) -> None:
        self.folder = folder
        self.records = records
        self._lock = threading.Lock()
        self._content: Content | None = None
        self._seen: tuple[tuple[str, int, int], ...] = ()

    def get(self) -> Content:
        """The current content (loads it the first time and after every change)."""
        with self._lock:
            seen = _fingerprint(self.folder)
            if self._content is None or seen != self._seen:
                try:
                    content = load_content(self.folder)
                    remember_content(self.records, content)
                    self._content = content
                except Exception:
                    if self._content is None:
                        raise
                    log.exception("changed content in %s does not load; kept the last", self.folder)
                self._seen = seen
            return self._content


@dataclass
class _Entry:
    session: LearnerSession
    lock: threading.Lock = field(default_factory=threading.Lock)
    used: float = field(default_factory=time.monotonic)


class LearnerService:
    """Every open learner page of this process, by an unguessable session id."""

    def __init__(
        self, content: ContentCache, records: CourseRecords, *, idle_timeout: float
    ) -> None:
        self.content = content
        self.records = records
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def open(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Start a page: ``scenario``, ``sso`` and ``browser`` (each may be null) → id and page."""
        scenario = payload.get("scenario")
        sso = payload.get("sso")
        browser = payload.get("browser")
        identity = None
        if isinstance(sso, dict) and isinstance(sso.get("external_id"), str):
            identity = SsoIdentity(sso["external_id"], str(sso.get("name", "")))
        session = LearnerSession(
            self.content.get(),
            self.records,
            scenario_id=scenario if isinstance(scenario, str) else None,
            sso=identity,
            browser=browser if isinstance(browser, str) and browser else None,
        )
        session_id = uuid.uuid4().hex
        with self._lock:
            self._sessions[session_id] = _Entry(session)
        return {"session": session_id, "page": session.snapshot()}

    def event(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An action of the page (``part`` "screen" or "step", ``content``) → the new page."""
        entry = self._entry(payload.get("session"))
        content = payload.get("content")
        with entry.lock:
            entry.used = time.monotonic()
            if payload.get("part") == "step":
                entry.session.dispatch_step(content)
            else:
                entry.session.dispatch(content)
            return {"page": entry.session.snapshot()}

    def close(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Forget a page whose kernel is shutting down."""
        with self._lock:
            self._sessions.pop(str(payload.get("session")), None)
        return {}

    def sweep(self) -> None:
        """Forget pages unused for longer than the idle timeout (their kernels are gone)."""
        limit = time.monotonic() - self.idle_timeout
        with self._lock:
            stale = [key for key, entry in self._sessions.items() if entry.used < limit]
            for key in stale:
                del self._sessions[key]
        if stale:
            log.info("forgot %d idle pages", len(stale))

    def __len__(self) -> int:
        return len(self._sessions)

    def _entry(self, session_id: object) -> _Entry:
        with self._lock:
            entry = self._sessions.get(session_id) if isinstance(session_id, str) else None
        if entry is None:
            raise ServiceError("Sivu on vanhentunut. Lataa sivu uudelleen.")
        return entry


class _Handler(web.RequestHandler):
    """``POST /<method>`` with a JSON object; answers JSON, or 4xx/5xx with ``error``."""

    def initialize(self, service: LearnerService, pool: ThreadPoolExecutor) -> None:
        self.service = service
        self.pool = pool

    def check_xsrf_cookie(self) -> None:
        """Only local processes of the server's user reach this socket; no browser does."""

    async def post(self, method: str) -> None:
        handler = {
            "open": self.service.open,
            "event": self.service.event,
            "close": self.service.close,
        }.get(method)
        if handler is None:
            raise web.HTTPError(404)
        try:
            payload = json.loads(self.request.body)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise web.HTTPError(400) from exc
        answer: Any = None
        with Guard(f"service call {method}", expected=(ServiceError,)) as guard:
            # Grading, storing and rendering block: keep Voilà's event loop free for pages.
            answer = await IOLoop.current().run_in_executor(self.pool, handler, payload)
        if guard.expected is not None:
            self.set_status(410)
            answer = {"error": str(guard.expected)}
        elif guard.code is not None:
            self.set_status(500)
            answer = {"error": "internal", "code": guard.code}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer))


def start_service(
    socket_path: Path, service: LearnerService, *, workers: int = 4
) -> tuple[HTTPServer, PeriodicCallback]:
    """Serve ``service`` on ``socket_path`` (mode 0600) in the current event loop."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="somequiz-service")
    app = web.Application([(r"/(\w+)", _Handler, {"service": service, "pool": pool})])
    server = HTTPServer(app, max_body_size=_MAX_BODY)
    server.add_socket(bind_unix_socket(str(socket_path), mode=0o600))
    sweeper = PeriodicCallback(service.sweep, 60_000)
    sweeper.start()
    logging.getLogger("somequiz.ui").info("course service on %s", socket_path)
    return server, sweeper


def configured_service(db: Database) -> LearnerService:
    """A service on the configured content folder and idle timeout, writing to ``db``."""
    options = settings()
    records = CourseRecords(db)
    return LearnerService(
        ContentCache(options.scenarios, records), records, idle_timeout=options.session_idle_timeout
    )


def run_service(socket_path: Path, parent_pid: int) -> None:
    """Run one course service process until SIGTERM or until its learner server is gone."""
    setup_logging()
    # The learner server migrated before starting this.
    db = Database.configured(settings(), migrate=False)
    service = configured_service(db)
    service.content.get()  # now, so that the first page need not wait for it
    loop = IOLoop.current()
    server, sweeper = start_service(socket_path, service)

    def orphaned() -> None:
        # A learner server killed with SIGKILL cannot stop its services: they notice here.
        if os.getppid() != parent_pid:
            log.info("learner server %d is gone; service stops", parent_pid)
            loop.stop()

    watch = PeriodicCallback(orphaned, 1000)
    watch.start()
    signal.signal(signal.SIGTERM, lambda *_: loop.add_callback_from_signal(loop.stop))
    try:
        loop.start()
    finally:
        watch.stop()
        sweeper.stop()
        server.stop()
        db.close()
        socket_path.unlink(missing_ok=True)


class ServiceProcesses:
    """The course service processes of one learner server, one Unix socket each.

    Separate processes, not threads of the server: grading, storing and rendering for a
    hundred learners would otherwise share one interpreter lock with the Voilà event loop
    that relays every page's websocket, and answers queued behind each other (p95 0.7 s with
    100 learners in bench/load.py; see bench/README.md).
    """

    def __init__(self, folder: Path, count: int) -> None:
        self.sockets = [folder / f"somequiz-service-{n}.sock" for n in range(max(1, count))]
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, timeout: float = 120.0) -> list[Path]:
        """Start the processes and wait until every socket accepts connections."""
        command = [
            sys.executable,
            "-m",
            "somequiz.ui.service.process",
            "--parent",
            str(os.getpid()),
        ]
        self.processes = [subprocess.Popen([*command, str(path)]) for path in self.sockets]
        deadline = time.monotonic() + timeout
        for path, process in zip(self.sockets, self.processes, strict=True):
            while not path.exists():
                if process.poll() is not None:
                    self.stop()
                    raise ServiceError(
                        "Kurssipalvelu ei käynnistynyt. Katso palvelimen loki ja aja "
                        "'somequiz validate'."
                    )
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServiceError("Kurssipalvelu ei käynnistynyt ajoissa. Yritä uudelleen.")
                time.sleep(0.05)
        return self.sockets

    def stop(self) -> None:
        """Stop the processes (SIGTERM, then SIGKILL after 10 s)."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class LocalClient:
    """The service in this very process, with the same JSON round trip as over the socket."""

    def __init__(self, service: LearnerService) -> None:
        self.service = service

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Call the service's ``method`` directly."""
        handler = getattr(self.service, method)
        answer: dict[str, Any] = json.loads(json.dumps(handler(json.loads(json.dumps(payload)))))
        return answer


def local_client() -> LocalClient:
    """A service of its own for a page run outside the learner server."""
    return LocalClient(configured_service(Database.configured(settings())))


def main(argv: list[str] | None = None) -> None:
    """``python -m somequiz.ui.service.process --parent PID SOCKET``, started by the server."""
    parser = argparse.ArgumentParser(prog="somequiz.ui.service.process")
    parser.add_argument("--parent", type=int, required=True, help="the learner server's pid")
    parser.add_argument("socket", type=Path)
    args = parser.parse_args(argv)
    run_service(args.socket, args.parent)


if __name__ == "__main__":
    main()
