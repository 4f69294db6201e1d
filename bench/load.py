"""Simulated learners at the protocol level: many at once through a whole course, no browser.

Each learner loads the course page over HTTP, connects to its kernel's websocket as the page
does, loads the widgets and then sends the comm messages the page's buttons and forms send:
sign in, open a scenario, submit a choice, next, ... to the result. Measured: page-to-ready
time, answer latency (submit to feedback), errors, completions in the store, memory of the
server and its kernels.

    .venv/bin/python bench/load.py --learners 10 --scenarios-limit 2
    .venv/bin/python bench/load.py --url http://127.0.0.1:8866 --learners 50 \\
        --db-url sqlite:///results/somequiz.db

Without ``--url`` a learner server is started on a temporary results folder (stopped at the
end); ``--scenarios-limit N`` then serves a copy of the course cut to its first N scenarios,
so that short runs still finish the course and record completions.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import requests
from cluster import cluster, nginx_binary
from common import (
    ServerProcess,
    figure,
    header,
    is_kernel,
    machine,
    median,
    percentile,
    start_somequiz,
    stop_server,
)
from kernel_ws import KernelSocket, Message

ROOT = Path(__file__).resolve().parents[1]
COURSE_PAGE = "/voila/render/kurssi.ipynb"
_KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')
_BUTTON = re.compile(r"<button\b([^>]*)>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_UNIT = re.compile(r'<input type="radio" name="unit" value="([^"]+)"')


class LearnerError(Exception):
    """What made a simulated learner give up."""


@dataclass
class Button:
    """A button of a screen, as the page's click handler reads it."""

    action: str
    arg: str
    primary: bool


def buttons(markup: str) -> list[Button]:
    """The ``data-action`` buttons of a screen's markup, in page order."""
    found = []
    for match in _BUTTON.finditer(markup):
        attrs = {k: html.unescape(v) for k, v in _ATTR.findall(match.group(1))}
        if "data-action" in attrs and "disabled" not in match.group(1):
            found.append(
                Button(
                    attrs["data-action"],
                    attrs.get("data-arg", ""),
                    "sq-primary" in attrs.get("class", ""),
                )
            )
    return found


@dataclass
class LearnerResult:
    """What one simulated learner did and measured."""

    index: int
    name: str
    employee_number: str
    kernel_ids: list[str] = field(default_factory=list)
    ready_s: list[float] = field(default_factory=list)
    answer_s: list[float] = field(default_factory=list)
    answers: int = 0
    scenarios: int = 0
    certificate: str | None = None
    completed: bool = False
    errors: list[str] = field(default_factory=list)
    finished_s: float = 0.0


class Widgets:
    """The page's copy of the widget models, kept up to date from the kernel's messages."""

    def __init__(self, states: dict[str, Any]) -> None:
        self.models: dict[str, dict[str, Any]] = {k: dict(v["state"]) for k, v in states.items()}
        page = next(k for k, s in self.models.items() if "sq-page" in s.get("_dom_classes", ()))
        self.page = page
        self.header = _model_id(self.models[page]["children"][0])

    @property
    def step(self) -> str:
        """The choice step's model id ("" until the kernel has made it, on the first step)."""
        return next(
            (
                k
                for k, s in self.models.items()
                if str(s.get("_anywidget_id", "")).endswith("ChoiceStep")
            ),
            "",
        )

    def apply(self, message: Message) -> None:
        """Apply a ``comm_open`` or state ``update`` from the kernel."""
        content = message.content
        if message.msg_type == "comm_open":
            state = content.get("data", {}).get("state", {})
            self.models[content["comm_id"]] = dict(state)
        elif message.msg_type == "comm_msg":
            data = content.get("data", {})
            if data.get("method") == "update" and content.get("comm_id") in self.models:
                self.models[content["comm_id"]].update(data.get("state", {}))

    @property
    def html(self) -> str:
        """The markup of the screen on top."""
        return str(self.models[self.header].get("html", ""))

    @property
    def step_state(self) -> dict[str, Any]:
        """The choice step's model."""
        return self.models[self.step]

    def screen(self) -> str:
        """Which screen is shown: start, overview, scenario, summary, result or unknown."""
        markup = self.html
        children = [_model_id(c) for c in self.models[self.page].get("children", [])]
        if 'data-action="start"' in markup:
            return "start"
        if self.step and self.step in children and self.step_state.get("token"):
            return "scenario"
        for marker, name in (
            ("sq-themes", "result"),
            ("sq-scenarios", "overview"),
            ("sq-actions", "summary"),
        ):
            if marker in markup:
                return name
        return "unknown"

    def alert(self) -> str:
        """The error banner's text on the screen, if any."""
        found = re.search(r'class="sq-alert"[^>]*>(.*?)</div>', self.html, re.S)
        return html.unescape(found.group(1)).strip() if found else ""


def _model_id(reference: str) -> str:
    return reference.removeprefix("IPY_MODEL_")


class SimulatedLearner:
    """One learner: a browser tab's worth of HTTP and websocket traffic, without the browser."""

    def __init__(
        self,
        base_url: str,
        index: int,
        run_id: str,
        *,
        scenarios_limit: int | None = None,
        think_s: float = 0.0,
        timeout_s: float = 120.0,
        seed: int | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.cookies.update(cookies or {})
        # Each learner as its own client address (the servers trust X-Forwarded-For from
        # 127.0.0.1), so per-address page-load limits apply as they would to real learners.
        self.http.headers["X-Forwarded-For"] = f"10.66.{index // 250}.{index % 250 + 1}"
        self.limit = scenarios_limit
        self.think_s = think_s
        self.timeout_s = timeout_s
        self.rng = random.Random(seed if seed is not None else f"{run_id}-{index}")
        self.result = LearnerResult(index, f"Kuormitus {run_id} {index}", f"L{run_id}-{index}")
        self.ws: KernelSocket | None = None
        self.widgets: Widgets | None = None
        self.kernel_id = ""

    # The page

    def open_page(self) -> float:
        """Load the course page and its widgets; the seconds until the start form is usable."""
        self.close_socket()
        began = time.monotonic()
        response = self.http.get(self.base_url + COURSE_PAGE, timeout=self.timeout_s)
        found = _KERNEL_ID.search(response.text)
        if response.status_code != 200 or not found:
            raise LearnerError(f"page: HTTP {response.status_code}, no kernel")
        self.kernel_id = found.group(1)
        self.result.kernel_ids.append(self.kernel_id)
        self.ws = KernelSocket(
            self.base_url,
            self.kernel_id,
            cookies=self.http.cookies.get_dict(),
            timeout=self.timeout_s,
        )
        # What @jupyterlab/services sends first on a new connection.
        self.ws.send("kernel_info_request", {})
        self.widgets = Widgets(self.ws.widget_states(timeout=self.timeout_s))
        ready = time.monotonic() - began
        self.result.ready_s.append(ready)
        return ready

    def close_page(self) -> None:
        """Close the tab: the page's shutdown beacon (multipart ``_xsrf``), then the socket."""
        self.close_socket()
        if self.kernel_id:
            xsrf = self.http.cookies.get("_xsrf") or ""
            with contextlib.suppress(requests.RequestException):
                self.http.post(
                    f"{self.base_url}/voila/api/shutdown/{self.kernel_id}",
                    files={"_xsrf": (None, xsrf)},
                    timeout=30,
                )
            self.kernel_id = ""

    def close_socket(self) -> None:
        """Drop the websocket (as a crashed tab or a dead server does)."""
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.close()
            self.ws = None

    # Actions

    def _page(self) -> tuple[KernelSocket, Widgets]:
        if self.ws is None or self.widgets is None:
            raise LearnerError("no page open")
        return self.ws, self.widgets

    def _wait(self, msg_id: str, done: Callable[[], bool] | None = None) -> float | None:
        """Apply the kernel's messages until it is idle after ``msg_id``.

        Returns the seconds until ``done`` first held (None if it never did).
        """
        ws, widgets = self._page()
        began = time.monotonic()
        deadline = began + self.timeout_s
        reached: float | None = None
        while time.monotonic() < deadline:
            message = ws.recv(timeout=deadline - time.monotonic())
            if message is None:
                break
            widgets.apply(message)
            if reached is None and done is not None and done():
                reached = time.monotonic() - began
            if (
                message.msg_type == "status"
                and message.parent_id == msg_id
                and message.content.get("execution_state") == "idle"
            ):
                return reached
        raise LearnerError(f"no reply in {self.timeout_s:.0f} s")

    def _think(self) -> None:
        if self.think_s > 0:
            time.sleep(self.rng.uniform(0.5, 1.5) * self.think_s)

    def press(self, action: str, arg: str = "", fields: dict[str, str] | None = None) -> None:
        """A button (or, with ``fields``, a form) on the screen."""
        ws, widgets = self._page()
        self._think()
        content: dict[str, Any] = {"action": action}
        if fields is None:
            content["arg"] = arg
        else:
            content["fields"] = fields
        self._wait(ws.custom(widgets.header, content))
        alert = widgets.alert()
        if alert:
            self.result.errors.append(f"{action}: {alert[:120]}")

    def sign_in(self) -> None:
        """Fill the start form with this learner's name, number and the first unit."""
        _, widgets = self._page()
        units = _UNIT.findall(widgets.html)
        fields = {
            "name": self.result.name,
            "employee_number": self.result.employee_number,
            "unit": html.unescape(units[0]) if units else "",
        }
        self.press("start", fields=fields)
        if widgets.screen() == "start":
            raise LearnerError(f"sign-in refused: {widgets.alert() or 'form errors'}")

    def answer_step(self) -> None:
        """Pick choices at random, submit, wait for the feedback, then press next."""
        ws, widgets = self._page()
        step = widgets.step_state
        ids = [c["id"] for c in step["choices"]]
        if step["kind"] == "multi":
            chosen = sorted(self.rng.sample(ids, self.rng.randint(1, len(ids))))
        else:
            chosen = [self.rng.choice(ids)]
        self._think()
        for _ in range(3):
            token = step["token"]
            sent = ws.custom(widgets.step, {"type": "submit", "token": token, "chosen": chosen})
            latency = self._wait(
                sent,
                lambda: bool(widgets.step_state.get("answered") or widgets.step_state["error"]),
            )
            if widgets.step_state.get("answered"):
                self.result.answer_s.append(latency if latency is not None else float("nan"))
                self.result.answers += 1
                break
            self.result.errors.append(f"submit: {widgets.step_state.get('error', '')[:120]}")
            time.sleep(1)
        else:
            raise LearnerError("answer refused three times")
        self._think()
        self._wait(ws.custom(widgets.step, {"type": "next", "token": token}))

    def play(self, max_answers: int | None = None) -> None:
        """Work through the course from the screen on top to the result (or ``max_answers``)."""
        _, widgets = self._page()
        started_answers = self.result.answers
        for _ in range(1000):
            screen = widgets.screen()
            if screen == "scenario":
                if max_answers is not None and self.result.answers - started_answers >= max_answers:
                    return
                self.answer_step()
                continue
            found = buttons(widgets.html)
            if screen == "result":
                if "sq-certificate" in widgets.html:
                    code = re.search(r'class="sq-code">([^<]+)<', widgets.html)
                    self.result.certificate = code.group(1) if code else ""
                    self.result.completed = True
                    return
                retry = [b for b in found if b.action == "retry"]
                if not retry and "sq-spent" in widgets.html:
                    # Tries used up: the course ended failed; its completion is recorded.
                    self.result.completed = True
                    return
                if not retry:
                    raise LearnerError("result without a completion or a retry")
                self._open("retry", retry[0].arg)
            elif screen == "overview":
                primary = [b for b in found if b.primary and b.action in {"open", "retry"}]
                result = [b for b in found if b.action == "result"]
                if result:
                    self.press("result")
                elif primary:
                    if self.limit is not None and self.result.scenarios >= self.limit:
                        return
                    self._open(primary[0].action, primary[0].arg)
                else:
                    raise LearnerError("overview without a next step")
            elif screen == "summary":
                first = next((b for b in found if b.primary), None)
                if first is None:
                    raise LearnerError("summary without actions")
                if first.action in {"open", "retry"}:
                    if self.limit is not None and self.result.scenarios >= self.limit:
                        return
                    self._open(first.action, first.arg)
                else:
                    self.press(first.action, first.arg)
            else:
                raise LearnerError(f"unexpected screen {screen}: {widgets.alert()[:120]}")
        raise LearnerError("no end after 1000 screens")

    def _open(self, action: str, scenario_id: str) -> None:
        self.press(action, scenario_id)
        self.result.scenarios += 1

    def run(self, start_at: float = 0.0) -> LearnerResult:
        """The whole visit: page, sign-in, course, close; errors are recorded, not raised."""
        delay = start_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        began = time.monotonic()
        try:
            self.open_page()
            self.sign_in()
            self.play()
        except Exception as exc:
            self.result.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        finally:
            self.close_page()
            self.result.finished_s = time.monotonic() - began
        return self.result


# Servers and memory


def trimmed_course(source: Path, limit: int | None, into: Path) -> Path:
    """``source`` itself, or a copy whose course lists only its first ``limit`` scenarios."""
    if limit is None:
        return source
    from ruamel.yaml import YAML

    target = into / "course"
    shutil.copytree(source, target)
    yaml = YAML()
    course_file = target / "course.yaml"
    course = yaml.load(course_file.read_text(encoding="utf-8"))
    course["scenarios"] = list(course["scenarios"])[:limit]
    with course_file.open("w", encoding="utf-8") as out:
        yaml.dump(course, out)
    return target


def start_server(
    results: Path, scenarios: Path, *, db_url: str | None = None, env: dict[str, str] | None = None
) -> ServerProcess:
    """Start a learner server on a free port and wait until it answers."""
    environ = dict(env or {})
    if db_url:
        environ["SOMEQUIZ_DB_URL"] = db_url
    # A shared, busy machine can take a minute or more to start the server and its helpers.
    return start_somequiz("serve", results, scenarios, env=environ, timeout=240)


def listener(port: int) -> psutil.Process | None:
    """The local process listening on ``port``."""
    for conn in psutil.net_connections(kind="tcp"):
        if (
            conn.status == psutil.CONN_LISTEN
            and conn.laddr
            and conn.laddr.port == port
            and conn.pid
        ):
            return psutil.Process(conn.pid)
    return None


@dataclass
class MemorySample:
    """Memory of the servers and their kernels at one moment (MiB)."""

    at_s: float
    kernels: int
    server_rss: float
    server_pss: float
    kernel_rss: list[float]
    kernel_pss: list[float]

    @property
    def total_pss(self) -> float:
        """Servers plus kernels, proportional set size."""
        return self.server_pss + sum(self.kernel_pss)

    @property
    def total_rss(self) -> float:
        """Servers plus kernels, resident set size (shared pages counted in each)."""
        return self.server_rss + sum(self.kernel_rss)


def memory(servers: Sequence[psutil.Process], began: float) -> MemorySample:
    """RSS and PSS of ``servers`` (with their course service processes) and their kernels."""
    mib = 1024 * 1024
    sample = MemorySample(time.monotonic() - began, 0, 0.0, 0.0, [], [])
    for server in servers:
        with contextlib.suppress(psutil.Error):
            info = server.memory_full_info()
            sample.server_rss += info.rss / mib
            sample.server_pss += info.pss / mib
            for child in server.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    info = child.memory_full_info()
                    if is_kernel(child):
                        sample.kernel_rss.append(info.rss / mib)
                        sample.kernel_pss.append(info.pss / mib)
                    else:
                        sample.server_rss += info.rss / mib
                        sample.server_pss += info.pss / mib
    sample.kernels = len(sample.kernel_rss)
    return sample


class MemoryWatch:
    """Samples memory every few seconds in a thread; keeps the sample with the most kernels."""

    def __init__(self, servers: Sequence[psutil.Process], interval_s: float = 3.0) -> None:
        self.servers = servers
        self.interval_s = interval_s
        self.began = time.monotonic()
        self.peak: MemorySample | None = None
        self.idle = memory(servers, self.began) if servers else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> MemoryWatch:
        if self.servers:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            sample = memory(self.servers, self.began)
            if self.peak is None or sample.kernels >= self.peak.kernels:
                self.peak = sample


@dataclass
class CpuSample:
    """CPU seconds used so far by servers and everything below them."""

    server: float = 0.0
    kernels: float = 0.0
    helpers: float = 0.0

    @property
    def total(self) -> float:
        """All of it."""
        return self.server + self.kernels + self.helpers

    def minus(self, earlier: CpuSample) -> CpuSample:
        """What was used since ``earlier``."""
        return CpuSample(
            self.server - earlier.server,
            self.kernels - earlier.kernels,
            self.helpers - earlier.helpers,
        )


def cpu(servers: Sequence[psutil.Process]) -> CpuSample:
    """CPU (user + system) of ``servers``, their live descendants and the children they reaped.

    A page's kernel ends with its page: its CPU is then in its parent's ``children_*`` times
    (a server, or a fork server), which are counted as kernels' CPU. Course service processes
    and fork servers are "helpers".
    """
    sample = CpuSample()
    for server in servers:
        with contextlib.suppress(psutil.Error):
            times = server.cpu_times()
            sample.server += times.user + times.system
            sample.kernels += times.children_user + times.children_system
            for child in server.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    times = child.cpu_times()
                    own = times.user + times.system
                    if is_kernel(child):
                        sample.kernels += own
                    else:
                        sample.helpers += own
                    sample.kernels += times.children_user + times.children_system
    return sample


def kernel_count(servers: Sequence[psutil.Process]) -> int:
    """Live kernels below ``servers``."""
    count = 0
    for server in servers:
        with contextlib.suppress(psutil.Error):
            for child in server.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    count += is_kernel(child)
    return count


def settle(servers: Sequence[psutil.Process], kernels: int, timeout_s: float = 30.0) -> None:
    """Wait until ``kernels`` kernels live below ``servers`` (closed ones gone, a pool full)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if kernel_count(servers) == kernels:
            time.sleep(0.5)  # a refill or a reap under way shows up within this
            if kernel_count(servers) == kernels:
                return
        time.sleep(0.1)


def page_start_cpu(url: str, servers: Sequence[psutil.Process], pages: int) -> CpuSample:
    """CPU per page start: ``pages`` pages opened and closed one after another, on a quiet server;
    the median page's server, kernel and helper shares (CPU times tick in 10 ms; an occasional
    page pays for a timer or a collection, and the server's first page, not counted, for
    compiling its templates and filling its caches).

    Each page is loaded with its widgets (as in a run) and closed with its beacon; the next
    starts once its kernel is gone and a pool, if any, is full again, so that the refill is
    counted too.
    """
    idle = kernel_count(servers)
    used: list[CpuSample] = []
    for n in range(-1, pages):
        before = cpu(servers)
        learner = SimulatedLearner(url, 240 + n, "CPU")
        learner.open_page()
        learner.close_page()
        settle(servers, idle)
        if n >= 0:
            used.append(cpu(servers).minus(before))
    return CpuSample(
        median([sample.server for sample in used]),
        median([sample.kernels for sample in used]),
        median([sample.helpers for sample in used]),
    )


# Records


def recorded(db_url: str, run_id: str) -> dict[str, dict[str, int]]:
    """Per simulated learner of the run: answers and completions in the store."""
    from sqlalchemy import func, select

    from somequiz.config import settings
    from somequiz.records.database import Database
    from somequiz.records.tables import AnswerRow, AttemptRow, CompletionRow, LearnerRow

    options = settings()
    store = Database(db_url, results=options.results, secret_key=options.secret_key, migrate=False)
    try:
        with store.session() as s:
            pattern = f"L{run_id}-%"
            numbered = s.execute(
                select(LearnerRow.id, LearnerRow.employee_number).where(
                    LearnerRow.employee_number.like(pattern)
                )
            ).all()
            # like() matches no NULL, so every number is a string.
            learners = {learner_id: str(number) for learner_id, number in numbered}
            counts = {number: {"answers": 0, "completions": 0} for number in learners.values()}
            answers = s.execute(
                select(AttemptRow.learner_id, func.count(AnswerRow.id))
                .join(AnswerRow, AnswerRow.attempt_id == AttemptRow.id)
                .where(AttemptRow.learner_id.in_(learners))
                .group_by(AttemptRow.learner_id)
            ).all()
            for learner_id, count in answers:
                counts[learners[learner_id]]["answers"] = count
            completions = s.execute(
                select(CompletionRow.learner_id, func.count())
                .where(CompletionRow.learner_id.in_(learners))
                .group_by(CompletionRow.learner_id)
            ).all()
            for learner_id, count in completions:
                counts[learners[learner_id]]["completions"] = count
            return counts
    finally:
        store.close()


# A run


@dataclass
class Report:
    """The figures of one run."""

    learners: int
    run_id: str
    wall_s: float
    ready_s: list[float]
    answer_s: list[float]
    completed: int
    completions_recorded: int | None
    answers_sent: int
    answers_recorded: int | None
    duplicates: int | None
    errors: list[str]
    failed_learners: int
    memory_idle: MemorySample | None
    memory_peak: MemorySample | None
    results: list[LearnerResult]
    client_cpu_s: float = 0.0
    run_cpu: CpuSample | None = None  # the servers' and kernels' CPU over the run
    page_start_cpu: CpuSample | None = None  # per page start, on a quiet server (--page-starts)

    def summary(self) -> dict[str, Any]:
        """The figures as plain numbers (JSON)."""
        peak = self.memory_peak
        figures: dict[str, Any] = {
            "learners": self.learners,
            "wall_s": round(self.wall_s, 1),
            "ready_s": _stats(self.ready_s),
            "answer_ms": {k: round(v * 1000) for k, v in _stats(self.answer_s).items()},
            "answers_sent": self.answers_sent,
            "answers_recorded": self.answers_recorded,
            "completed_on_screen": self.completed,
            "completions_recorded": self.completions_recorded,
            "duplicate_completions": self.duplicates,
            "failed_learners": self.failed_learners,
            "errors": len(self.errors),
            "client_cpu_s": round(self.client_cpu_s, 1),
        }
        if self.run_cpu is not None:
            figures["run_cpu_s"] = _cpu_figures(self.run_cpu, 1)
            figures["run_cpu_per_learner_s"] = round(self.run_cpu.total / self.learners, 3)
        if self.page_start_cpu is not None:
            figures["page_start_cpu_s"] = _cpu_figures(self.page_start_cpu, 3)
        if peak is not None:
            idle_server = self.memory_idle.server_rss if self.memory_idle else 0.0
            figures["memory_mib"] = {
                "kernels_at_peak": peak.kernels,
                "server_rss_idle": round(idle_server, 1),
                "server_rss": round(peak.server_rss, 1),
                "server_pss": round(peak.server_pss, 1),
                "kernel_rss_mean": round(_mean(peak.kernel_rss), 1),
                "kernel_pss_mean": round(_mean(peak.kernel_pss), 1),
                "total_rss": round(peak.total_rss),
                "total_pss": round(peak.total_pss),
                "pss_per_learner": round(peak.total_pss / max(peak.kernels, 1), 1),
            }
        return figures


def _cpu_figures(sample: CpuSample, digits: int) -> dict[str, float]:
    return {
        "server": round(sample.server, digits),
        "kernels": round(sample.kernels, digits),
        "helpers": round(sample.helpers, digits),
        "total": round(sample.total, digits),
    }


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _stats(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "p99": round(percentile(values, 99), 3),
        "max": round(max(values), 3),
    }


def run_load(
    url: str,
    learners: int,
    *,
    scenarios_limit: int | None = None,
    think_s: float = 0.0,
    ramp_s: float = 0.0,
    timeout_s: float = 300.0,
    db_url: str | None = None,
    servers: Sequence[psutil.Process] = (),
    run_id: str | None = None,
    cookies: Sequence[Mapping[str, str]] = (),
    page_starts: int = 0,
) -> Report:
    """Run ``learners`` simulated learners at once against ``url`` and gather the figures.

    ``cookies[i]`` is what learner i's browser already holds (e.g. a route cookie).
    ``page_starts`` pages are first opened one by one to measure the CPU of a page start.
    """
    per_page = page_start_cpu(url, servers, page_starts) if page_starts and servers else None
    run = run_id or uuid.uuid4().hex[:6].upper()
    simulated = [
        SimulatedLearner(
            url,
            i,
            run,
            scenarios_limit=scenarios_limit,
            think_s=think_s,
            timeout_s=timeout_s,
            cookies=cookies[i] if i < len(cookies) else None,
        )
        for i in range(learners)
    ]
    began = time.monotonic()
    cpu_before = psutil.Process().cpu_times()
    servers_before = cpu(servers)
    with MemoryWatch(servers) as watch:
        threads = []
        for n, learner in enumerate(simulated):
            start_at = began + (ramp_s * n / learners if learners else 0.0)
            thread = threading.Thread(target=learner.run, args=(start_at,), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    wall = time.monotonic() - began
    cpu_after = psutil.Process().cpu_times()
    run_cpu = cpu(servers).minus(servers_before) if servers else None
    client_cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    results = [s.result for s in simulated]
    counts = recorded(db_url, run) if db_url else None
    errors = [f"learner {r.index}: {e}" for r in results for e in r.errors]
    return Report(
        learners=learners,
        run_id=run,
        wall_s=wall,
        ready_s=[t for r in results for t in r.ready_s],
        answer_s=[t for r in results for t in r.answer_s],
        completed=sum(r.completed for r in results),
        completions_recorded=sum(c["completions"] for c in counts.values()) if counts else None,
        answers_sent=sum(r.answers for r in results),
        answers_recorded=sum(c["answers"] for c in counts.values()) if counts else None,
        duplicates=sum(max(c["completions"] - 1, 0) for c in counts.values()) if counts else None,
        errors=errors,
        failed_learners=sum(1 for r in results if not r.completed and r.errors),
        memory_idle=watch.idle,
        memory_peak=watch.peak,
        results=results,
        client_cpu_s=client_cpu,
        run_cpu=run_cpu,
        page_start_cpu=per_page,
    )


def print_report(report: Report) -> None:
    """The figures as ``FIGURE`` lines, then the first errors."""
    figures = report.summary()
    n = report.learners
    print(f"# run {report.run_id}: {n} learners, {report.answers_sent} answers")
    figure(f"load.{n}.wall", report.wall_s, "s")
    # The simulator shares the machine's cores with the servers it measures.
    figure(f"load.{n}.client_cpu", report.client_cpu_s, "s")
    for name, values, unit, scale in (
        ("ready", report.ready_s, "s", 1),
        ("answer", report.answer_s, "ms", 1000),
    ):
        for key, value in _stats(values).items():
            figure(f"load.{n}.{name}.{key}", value * scale, unit)
    figure(f"load.{n}.completed_on_screen", report.completed, "learners")
    if report.completions_recorded is not None:
        figure(f"load.{n}.completions_recorded", report.completions_recorded, "rows")
        figure(f"load.{n}.duplicate_completions", report.duplicates or 0, "rows")
        figure(
            f"load.{n}.answers_recorded",
            report.answers_recorded or 0,
            "rows",
            note=f"{report.answers_sent} got feedback",
        )
    figure(
        f"load.{n}.errors",
        len(report.errors),
        "errors",
        note=f"{report.failed_learners} learners did not finish",
    )
    for name in ("run_cpu_s", "page_start_cpu_s"):
        for key, value in figures.get(name, {}).items():
            figure(f"load.{n}.{name.removesuffix('_s')}.{key}", value, "CPU-s")
    if "run_cpu_per_learner_s" in figures:
        figure(f"load.{n}.run_cpu.per_learner", figures["run_cpu_per_learner_s"], "CPU-s")
    for key, value in figures.get("memory_mib", {}).items():
        figure(f"load.{n}.memory.{key}", value, "MiB" if key != "kernels_at_peak" else "kernels")
    for line in report.errors[:10]:
        print(f"#   {line}")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: start or use a server, run the learners, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running learner server (or nginx); default: start one")
    parser.add_argument("--learners", type=int, default=10, help="concurrent learners")
    parser.add_argument("--scenarios-limit", type=int, default=None, help="scenarios per learner")
    parser.add_argument(
        "--course-folder",
        type=Path,
        default=ROOT / "scenarios",
        help="content for a started server",
    )
    parser.add_argument("--db-url", help="the store to check (default: the started server's)")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds before each action")
    parser.add_argument(
        "--ramp", type=float, default=0.0, help="seconds over which learners arrive"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for a reply")
    parser.add_argument(
        "--server-port", type=int, action="append", default=[], help="measure this local server"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="learner processes to start; above 1 behind nginx (deploy/), --db-url required",
    )
    parser.add_argument(
        "--page-starts",
        type=int,
        default=0,
        help="first open and close this many pages one by one: CPU per page start",
    )
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.processes > 1 and not (args.db_url and nginx_binary()):
        parser.error("--processes above 1 needs --db-url (shared database) and nginx")
    # SIGTERM (timeout, kill) unwinds like Ctrl-C, so a started server is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    header(f"somequiz load: {args.learners} simulated learners")
    with contextlib.ExitStack() as stack:
        url, db_url, ports = args.url, args.db_url, list(args.server_port)
        if url is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="somequiz-load-")))
            course = trimmed_course(args.course_folder.resolve(), args.scenarios_limit, folder)
            if args.processes > 1:
                front = stack.enter_context(
                    cluster(folder, course, args.processes, db_url, str(nginx_binary()))
                )
                url = front.url
                ports += [s.port for s in front.servers]
            else:
                server = start_server(folder / "results", course, db_url=db_url)
                stack.callback(stop_server, server.process)
                url = server.url
                db_url = db_url or f"sqlite:///{folder / 'results' / 'somequiz.db'}"
                ports.append(server.port)
        elif not ports and urlsplit(url).hostname in {"127.0.0.1", "localhost"}:
            ports.append(urlsplit(url).port or 80)
        processes = [p for p in (listener(port) for port in ports) if p is not None]
        report = run_load(
            url,
            args.learners,
            scenarios_limit=args.scenarios_limit if args.url else None,
            think_s=args.think,
            ramp_s=args.ramp,
            timeout_s=args.timeout,
            db_url=db_url,
            servers=processes,
            page_starts=args.page_starts,
        )
    print_report(report)
    print(f"# after: {machine()[3]}")
    if args.json:
        figures = {"machine": machine(), **report.summary(), "errors_text": report.errors}
        figures["learners_detail"] = [asdict(r) for r in report.results]
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    recorded_count = report.completions_recorded
    lost = recorded_count is not None and recorded_count < report.completed
    return 1 if report.errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
