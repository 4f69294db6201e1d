"""Page benchmark: time-to-interactive, submit → feedback and kernel memory, in Chromium.

Run: ``.venv/bin/python bench/tti.py`` (``--quick`` for a smoke run). Needs Debian's Chromium
at /usr/bin/chromium and ``pip install -e .[bench,test]`` (jupyterquiz for baseline b).

Two servers with the same settings (``somequiz.ui.server.app.voila_config``):
- the learner server (``somequiz serve``) on the shipped course, SQLite store in a temp folder;
- a plain Voilà (``bench/voila_plain.py``) on ``bench/notebooks``: (a) a bare page with one
  ipywidgets button, (b) a jupyterquiz quiz (client-side grading).

Time-to-interactive is measured inside the page: ``performance.now()`` (0 = navigation start)
at the first moment the page's first interactive control is in the DOM, visible
(``checkVisibility``) and not disabled; checked on every DOM mutation and every animation
frame. Each load uses a fresh browser context (cold HTTP cache, as a learner's first visit);
the three pages are loaded in rotating order in each run, after one untimed warm-up load each.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests
from common import (
    PYTHON,
    ROOT,
    figure,
    free_port,
    header,
    kernel_processes,
    load_average,
    median,
    percentile,
    server_processes,
    wait_for_quiet,
)
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from somequiz.reports import chromium

CHROMIUM = str(chromium.CHROMIUM)
CHROMIUM_ARGS = chromium.FLAGS
TIMEOUT_MS = 120_000
SERVE = [PYTHON, "-c", "from somequiz.cli import main; main()", "serve"]
PLAIN = [PYTHON, str(ROOT / "bench" / "voila_plain.py")]
MIB = 1024 * 1024

# Recorded in the page: the first moment the control is visible and enabled.
TTI_SCRIPT = """
(() => {
  const selector = __SELECTOR__;
  const ready = () => {
    const el = document.querySelector(selector);
    return !!el && !el.disabled && el.getAttribute("aria-disabled") !== "true"
      && el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  };
  const check = () => {
    if (window.__sqTti !== undefined) return true;
    if (ready()) { window.__sqTti = performance.now(); return true; }
    return false;
  };
  const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
  observer.observe(document, { childList: true, subtree: true });
  const frame = () => { if (!check()) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
})();
"""

# The course page only: the moment the start screen's widget has taken over the screen painted
# as HTML (somequiz/ui/kernel/first_paint.py). Before it, a press is held; from it, sent at once.
LIVE_SCRIPT = """
(() => {
  const live = () => !!document.querySelector(".sq-root .sq-lang")
    && !document.querySelector("[data-sq-first-paint]");
  const observer = new MutationObserver(() => {
    if (window.__sqLive === undefined && live()) {
      window.__sqLive = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true });
})();
"""

# Where the learner is on the course page.
PROBE = """
() => {
  const visible = (el) => !!el && el.checkVisibility();
  const submit = document.querySelector(".sq-step form button[type=submit]");
  if (visible(submit) && !submit.disabled && !document.querySelector(".sq-feedback .sq-verdict"))
    return "step";
  if (visible(document.querySelector(".sq-scenarios"))) return "overview";
  if (visible(document.querySelector(".sq-actions button[data-action=open]"))) return "summary";
  if (visible(document.querySelector(".sq-actions, .sq-certificate"))) return "done";
  return "";
}
"""

# Submit the chosen answer and resolve with ms until the feedback verdict is visible.
SUBMIT = """
() => new Promise((resolve) => {
  const submit = document.querySelector(".sq-step form button[type=submit]");
  let started = 0;
  const observer = new MutationObserver(() => {
    const verdict = document.querySelector(".sq-feedback .sq-verdict");
    if (verdict && verdict.checkVisibility()) {
      observer.disconnect();
      resolve(performance.now() - started);
    }
  });
  observer.observe(document.body, { childList: true, subtree: true, attributes: true });
  setTimeout(() => { observer.disconnect(); resolve(-1); }, 30000);
  started = performance.now();
  submit.click();
})
"""


@dataclass
class Server:
    """A Voilà subprocess."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kernels(self) -> list[psutil.Process]:
        """The server's running kernel processes."""
        return kernel_processes(self.process.pid)

    def wait_no_kernels(self, timeout: float = 15.0) -> int:
        """Wait until every kernel is gone; how many are left."""
        deadline = time.monotonic() + timeout
        while (left := len(self.kernels())) and time.monotonic() < deadline:
            time.sleep(0.1)
        return left

    def stop(self) -> None:
        """SIGTERM (Voilà shuts its kernels down); SIGKILL if it hangs."""
        if self.process.poll() is not None:
            return
        kernels = self.kernels()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for kernel in kernels:
            try:
                kernel.wait(timeout=5)
            except psutil.TimeoutExpired:
                kernel.kill()
            except psutil.Error:
                pass


def launch(name: str, command: list[str], env: dict[str, str], log: Path, port: int) -> Server:
    """Start a server process (not yet waited for)."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, f"http://127.0.0.1:{port}", process, log)


def wait_ready(server: Server, timeout: float = 90) -> None:
    """Wait until ``/voila/tree`` answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            text = server.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{server.name} exited: {text}")
        try:
            if requests.get(f"{server.url}/voila/tree", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not start in {timeout:.0f} s")


@dataclass
class Target:
    """A page to load and the selector of its first interactive control."""

    name: str
    server: Server
    notebook: str
    selector: str
    painted_first: bool = False  # also measure when the widget takes the painted screen over
    tti: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    live: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.server.url}/voila/render/{self.notebook}"


def open_page(browser: Browser, target: Target) -> tuple[BrowserContext, Page, float, float]:
    """Load the page in a fresh context; (context, page, in-page TTI s, wall-clock s)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(TTI_SCRIPT.replace("__SELECTOR__", json.dumps(target.selector)))
    if target.painted_first:
        page.add_init_script(LIVE_SCRIPT)
    started = time.perf_counter()
    page.goto(target.url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.__sqTti !== undefined", timeout=TIMEOUT_MS)
    wall = time.perf_counter() - started
    tti = float(page.evaluate("window.__sqTti")) / 1000
    if target.painted_first:
        page.wait_for_function("() => window.__sqLive !== undefined", timeout=TIMEOUT_MS)
        target.live.append(float(page.evaluate("window.__sqLive")) / 1000)
    return context, page, tti, wall


def close_page(context: BrowserContext, page: Page, server: Server) -> int:
    """Close like a learner closing the tab (the beacon frees the kernel); kernels left.

    The browser stays open meanwhile: closing the context at once (as this did until session 4)
    could cancel the beacon in flight and leave a kernel behind (2 of ~150 loads).
    """
    page.close(run_before_unload=True)
    if not page.is_closed():
        page.wait_for_event("close", timeout=TIMEOUT_MS)
    left = server.wait_no_kernels()
    context.close()
    return left


def kernel_memory(server: Server) -> tuple[float, float]:
    """RSS and PSS (MiB) of the server's newest kernel: the page just opened.

    Under heavy load the previous page's kernel may still be shutting down.
    """
    kernels = server.kernels()
    if not kernels:
        raise RuntimeError(f"no kernel on {server.name}")
    info = max(kernels, key=lambda k: k.create_time()).memory_full_info()
    return info.rss / MIB, info.pss / MIB


def server_rss(server: Server) -> float:
    """The server's RSS with its course service processes (kernels not included)."""
    return sum(p.memory_info().rss for p in server_processes(server.process.pid)) / MIB


Opened = tuple[BrowserContext, Page]


def measure_tti(
    browser: Browser,
    targets: list[Target],
    runs: int,
    *,
    warmup: bool,
    settle_s: float,
    keep: Target | None = None,
) -> tuple[int, dict[str, Any], Opened | None]:
    """Interleaved loads; kernels a closed page left behind, memory from the last run, and
    the last page of ``keep``, left open (``--quick`` answers on it instead of a new load).

    In the last run each page's kernel is measured (RSS, PSS) after ``settle_s`` of idling,
    once the page's time-to-interactive has been taken.
    """
    leaked = 0
    memory: dict[str, Any] = {}
    kept: Opened | None = None
    if warmup:  # server caches, OS file cache
        for target in targets:
            context, page, _, _ = open_page(browser, target)
            leaked += close_page(context, page, target.server)
    for run in range(runs):
        order = targets[run % len(targets) :] + targets[: run % len(targets)]
        for target in order:
            context, page, tti, wall = open_page(browser, target)
            target.tti.append(tti)
            target.wall.append(wall)
            if run == runs - 1:
                time.sleep(settle_s)
                memory[target.name] = kernel_memory(target.server)
                memory[f"{target.name}_server_rss"] = server_rss(target.server)
                if target is keep:
                    kept = (context, page)
                    continue
            leaked += close_page(context, page, target.server)
        line = ", ".join(f"{t.name} {t.tti[-1]:.2f}" for t in targets)
        print(f"# run {run + 1}/{runs} TTI s: {line}", flush=True)
    return leaked, memory, kept


def measure_submissions(
    browser: Browser, course: Target, count: int, opened: Opened | None = None
) -> tuple[list[float], tuple[float, float], int]:
    """Learners go through the course answering the first option; submit → feedback ms.

    Returns the times, the kernel's RSS/PSS after the last learner's answers, and learners.
    """
    times: list[float] = []
    learners = 0
    memory = (0.0, 0.0)
    while len(times) < count:
        learners += 1
        if opened is not None:
            (context, page), opened = opened, None
        else:
            context, page, _, _ = open_page(browser, course)
        page.fill("#sq-name", f"Mittari Oppija {learners}")
        page.fill("#sq-employee", f"BENCH{os.getpid()}{learners:03d}")
        page.locator("input[name=unit]").first.check()
        page.click("form[data-action=start] button[type=submit]")
        while len(times) < count:
            state = page.wait_for_function(PROBE, timeout=TIMEOUT_MS).json_value()
            if state == "step":
                page.locator(".sq-step label").first.click()
                elapsed = float(page.evaluate(SUBMIT))
                if elapsed < 0:
                    raise RuntimeError("no feedback within 30 s")
                times.append(elapsed)
                page.locator(".sq-feedback button[data-action=next]").click()
                # Wait until the feedback of this step is gone before probing again.
                page.wait_for_function(
                    "() => !document.querySelector('.sq-feedback .sq-verdict')",
                    timeout=TIMEOUT_MS,
                )
            elif state == "overview":
                primary = page.locator(".sq-scenario button.sq-primary")
                if not primary.count():
                    break
                primary.first.click()
                page.wait_for_function(f"() => ({PROBE})() !== 'overview'", timeout=TIMEOUT_MS)
            elif state == "summary":
                page.locator(".sq-actions button[data-action=open]").first.click()
                page.wait_for_function(f"() => ({PROBE})() !== 'summary'", timeout=TIMEOUT_MS)
            else:
                break
        memory = kernel_memory(course.server)
        close_page(context, page, course.server)
    return times, memory, learners


def course_env(folder: Path) -> dict[str, str]:
    """The learner server's environment: the shipped course, its data in ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOMEQUIZ_")}
    env.update(
        SOMEQUIZ_RESULTS=str(folder / "results"),
        SOMEQUIZ_SCENARIOS=str(ROOT / "scenarios"),
        SOMEQUIZ_SECRET_KEY="bench-key",
    )
    return env


def launch_course(name: str, folder: Path, env: dict[str, str]) -> Server:
    """A learner server on a free port (``env``: :func:`course_env`, maybe changed)."""
    port = free_port()
    serve = [*SERVE, "--host", "127.0.0.1", "--port", str(port)]
    return launch(name, serve, env, folder / f"serve-{port}.log", port)


def start_servers(folder: Path, servers: list[Server]) -> None:
    """The learner server and the plain Voilà baseline, on free ports, with their data in
    ``folder``; each is appended to ``servers`` once started, so the caller's cleanup stops
    whatever did start even if the second fails."""
    env = course_env(folder)
    servers.append(launch_course("learner server", folder, env))
    plain_port = free_port()
    plain = [*PLAIN, str(ROOT / "bench" / "notebooks"), str(plain_port)]
    servers.append(launch("plain voila", plain, env, folder / "plain.log", plain_port))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few runs, for a smoke test")
    parser.add_argument("--runs", type=int, default=None, help="interleaved runs (default 10)")
    parser.add_argument("--submissions", type=int, default=None, help="default 40")
    parser.add_argument("--max-load", type=float, default=1.5)
    parser.add_argument("--wait", type=float, default=None, help="max s to wait for low load")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 10)
    submissions = args.submissions or (2 if args.quick else 40)
    wait = args.wait if args.wait is not None else (0 if args.quick else 1200)
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium")

    header("Page and feedback benchmark (bench/tti.py)" + (" --quick" if args.quick else ""))
    with tempfile.TemporaryDirectory(prefix="sq-bench-tti-") as tmp:
        folder = Path(tmp)
        servers: list[Server] = []
        try:
            start_servers(folder, servers)
            for server in servers:
                wait_ready(server)
            course_server, plain = servers
            targets = [
                Target("course", course_server, "kurssi.ipynb", ".sq-root .sq-lang", True),
                Target("bare_button", plain, "bare_button.ipynb", "button.jupyter-button"),
                Target("jupyterquiz", plain, "jupyterquiz_quiz.ipynb", ".MCButton"),
            ]
            load = wait_for_quiet(args.max_load, wait)
            print(f"# load before measuring: {load:.2f}", flush=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                try:
                    leaked, memory, kept = measure_tti(
                        browser,
                        targets,
                        runs,
                        warmup=not args.quick,
                        settle_s=0.0 if args.quick else 2.0,
                        keep=targets[0] if args.quick else None,
                    )
                    times, after, learners = measure_submissions(
                        browser, targets[0], submissions, kept
                    )
                finally:
                    browser.close()
            end_load = load_average()[0]
        finally:
            for server in servers:
                server.stop()

    course, bare, quiz = targets
    print(f"# load average during: start {load:.2f}, end {end_load:.2f}")
    print(f"# {runs} interleaved runs, medians; kernels left after page close: {leaked}")
    for target in targets:
        figure(
            f"tti_{target.name}_s",
            median(target.tti),
            "s",
            baseline=median(quiz.tti),
            note=f"vs jupyterquiz; min {min(target.tti):.2f} max {max(target.tti):.2f}",
        )
    figure("tti_course_vs_bare_button", median(course.tti), "s", baseline=median(bare.tti))
    figure(
        "tti_course_widget_live_s",
        median(course.live),
        "s",
        baseline=median(quiz.tti),
        note="the widget has taken the painted start screen over (presses held until then)",
    )
    figure(
        "tti_course_wall_s",
        median(course.wall),
        "s",
        baseline=median(quiz.wall),
        note="Playwright goto → control found, vs jupyterquiz",
    )
    p50, p95 = percentile(times, 50), percentile(times, 95)
    note = f"n={len(times)} over {learners} learner(s); max {max(times):.0f} ms"
    figure("submit_feedback_p50_ms", p50, "ms", note=note)
    figure("submit_feedback_p95_ms", p95, "ms", note=note)
    for name in ("course", "bare_button", "jupyterquiz"):
        rss, pss = memory[name]
        figure(
            f"kernel_{name}_rss_mib",
            rss,
            "MiB",
            baseline=memory["bare_button"][0],
            note=f"PSS {pss:.1f} MiB; ratio vs bare-button kernel",
        )
    figure(
        "kernel_course_after_answers_rss_mib",
        after[0],
        "MiB",
        baseline=memory["bare_button"][0],
        note=f"PSS {after[1]:.1f} MiB, after {len(times)} answers",
    )
    figure("server_learner_rss_mib", memory["course_server_rss"], "MiB")
    figure("server_plain_rss_mib", memory["bare_button_server_rss"], "MiB")
    goals = {
        "course TTI <= 1.0x jupyterquiz": median(course.tti) <= median(quiz.tti),
        "submit->feedback p50 <= 60 ms": p50 <= 60,
        "submit->feedback p95 <= 120 ms": p95 <= 120,
        "course kernel <= 60 MiB RSS": max(memory["course"][0], after[0]) <= 60,
    }
    for goal, met in goals.items():
        print(f"GOAL {goal}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
