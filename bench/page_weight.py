"""Page weight and time-to-interactive on emulated networks, course vs jupyterquiz, in Chromium.

Run: ``.venv/bin/python bench/page_weight.py`` (``--quick`` for a smoke run). The same two
servers as ``bench/tti.py`` (the learner server, and a plain Voilà with the same settings and
Voilà subclass on ``bench/notebooks``). Each load is a cold visit in a fresh browser context
with Chromium's own network emulation (DevTools protocol ``Network.emulateNetworkConditions``):
loopback (none), "4G-like" (9 Mbit/s down, 60 ms) and "Fast 3G" (1.6 Mbit/s, 150 ms). Course
and jupyterquiz loads alternate, the profiles rotate within each run. Bytes on the wire are
Chromium's ``encodedDataLength`` summed over the page's requests (headers included); a warm
reload is a second page in the same context.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import figure, header, load_average, median
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from tti import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    TTI_SCRIPT,
    Server,
    Target,
    course_env,
    launch_course,
    start_servers,
    wait_ready,
)

MBIT = 1_000_000 / 8  # bytes per second
QUIET_S, QUIET_MAX_S = 1.5, 20.0
# name: (latency ms, download B/s, upload B/s); None is the plain loopback.
PROFILES: dict[str, tuple[float, float, float] | None] = {
    "loopback": None,
    "4g": (60, 9 * MBIT, 3 * MBIT),
    "fast3g": (150, 1.6 * MBIT, 0.75 * MBIT),
}


@dataclass
class Load:
    """One page load: time-to-interactive, bytes and requests on the wire."""

    tti: float
    wire: int
    requests: int


@dataclass
class Figures:
    """The loads of one page on one profile."""

    cold: list[Load] = field(default_factory=list)
    warm: list[Load] = field(default_factory=list)


def _visit(context: BrowserContext, target: Target, profile: str) -> Load:
    """Load the page in a new tab of ``context`` under ``profile``'s network emulation."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = PROFILES[profile]
    if conditions is not None:
        latency, down, up = conditions
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": latency,
                "downloadThroughput": down,
                "uploadThroughput": up,
            },
        )
    wire: dict[str, int] = {}
    last = [time.monotonic()]

    def finished(event: dict[str, Any]) -> None:
        wire[event["requestId"]] = int(event["encodedDataLength"])
        last[0] = time.monotonic()

    cdp.on("Network.loadingFinished", finished)
    page.add_init_script(TTI_SCRIPT.replace("__SELECTOR__", json.dumps(target.selector)))
    page.goto(target.url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.__sqTti !== undefined", timeout=TIMEOUT_MS)
    tti = float(page.evaluate("window.__sqTti")) / 1000
    # The weight counts what the page loads until its network is quiet (chunks loaded late).
    deadline = time.monotonic() + QUIET_MAX_S
    while time.monotonic() - last[0] < QUIET_S and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.close(run_before_unload=True)
    # Requests that reached the network (a cache hit finishes with 0 bytes).
    return Load(tti, int(sum(wire.values())), sum(1 for size in wire.values() if size > 0))


def measure(
    browser: Browser, targets: list[Target], runs: int, profiles: list[str]
) -> dict[tuple[str, str], Figures]:
    """Interleaved cold and warm loads of every target on every profile."""
    found: dict[tuple[str, str], Figures] = {}
    for run in range(runs):
        order = profiles[run % len(profiles) :] + profiles[: run % len(profiles)]
        for profile in order:
            for target in targets if run % 2 == 0 else targets[::-1]:
                context = browser.new_context(viewport={"width": 360, "height": 740})
                figures = found.setdefault((target.name, profile), Figures())
                figures.cold.append(_visit(context, target, profile))
                figures.warm.append(_visit(context, target, profile))
                context.close()
        line = ", ".join(
            f"{name}/{profile} {f.cold[-1].tti:.2f}" for (name, profile), f in found.items()
        )
        print(f"# run {run + 1}/{runs} TTI s: {line}", flush=True)
    return found


def _cold(found: dict[tuple[str, str], Figures], name: str, profile: str) -> float:
    """The median cold time-to-interactive of page ``name`` on ``profile``."""
    return median([x.tti for x in found[(name, profile)].cold])


def _tti_figures(found: dict[tuple[str, str], Figures], profile: str) -> None:
    """Course vs jupyterquiz and vs the course not joined, cold and warm, on ``profile``."""
    course, quiz = found[("course", profile)], found[("jupyterquiz", profile)]
    base, unjoined = _cold(found, "jupyterquiz", profile), _cold(found, "unjoined", profile)
    tti = _cold(found, "course", profile)
    note = f"vs jupyterquiz {base:.2f} s; cold, n={len(course.cold)}"
    figure(f"tti_course_{profile}_s", tti, "s", baseline=base, note=note)
    note = "the course with its scripts fetched in waves (SOMEQUIZ_JOIN_PAGE_SCRIPTS=false)"
    figure(f"tti_course_unjoined_{profile}_s", unjoined, "s", note=note)
    note = "joined scripts vs fetched in waves, cold"
    figure(f"tti_course_{profile}_vs_unjoined", tti, "s", baseline=unjoined, note=note)
    figure(
        f"tti_course_{profile}_warm_s",
        median([x.tti for x in course.warm]),
        "s",
        baseline=median([x.tti for x in quiz.warm]),
        note="reload with the cache, vs jupyterquiz's",
    )


def report(found: dict[tuple[str, str], Figures], profiles: list[str]) -> None:
    """FIGURE lines: time-to-interactive per profile; weight cold and warm; the goals."""
    for profile in profiles:
        _tti_figures(found, profile)
    for name in ("course", "jupyterquiz", "unjoined"):
        figures = found[(name, "loopback")]
        for kind, loads in (("cold", figures.cold), ("warm", figures.warm)):
            figure(
                f"weight_{name}_{kind}_bytes",
                median([x.wire for x in loads]),
                "B",
                note=f"median of {len(loads)}; {median([x.requests for x in loads]):.0f} requests",
            )
    tti = {p: _cold(found, "course", p) for p in profiles}
    weight = median([x.wire for x in found[("course", "loopback")].cold])
    goals = {
        "page weight cold <= 1.5 MB": weight <= 1_500_000,
        "loopback TTI <= 1.0x jupyterquiz": tti["loopback"]
        <= _cold(found, "jupyterquiz", "loopback"),
    }
    if "4g" in tti:
        goals["4G-like TTI <= 2.5 s"] = tti["4g"] <= 2.5
    if "fast3g" in tti:
        goals["Fast 3G TTI <= 8 s"] = tti["fast3g"] <= 8
    for goal, met in goals.items():
        print(f"GOAL {goal}: {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run, loopback only")
    parser.add_argument("--runs", type=int, default=None, help="interleaved runs (default 5)")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 5)
    profiles = ["loopback"] if args.quick else list(PROFILES)
    header("Page weight and time-to-interactive (bench/page_weight.py)")
    with tempfile.TemporaryDirectory(prefix="sq-bench-weight-") as tmp:
        servers: list[Server] = []
        try:
            start_servers(Path(tmp), servers)
            # The same course with its scripts fetched in waves, as Voilà does (the "before").
            unjoined = {**course_env(Path(tmp) / "unjoined"), "SOMEQUIZ_JOIN_PAGE_SCRIPTS": "false"}
            servers.append(launch_course("learner server, not joined", Path(tmp), unjoined))
            for server in servers:
                wait_ready(server)
            course_server, plain, unjoined_server = servers
            targets = [
                Target("course", course_server, "kurssi.ipynb", ".sq-root .sq-lang"),
                Target("jupyterquiz", plain, "jupyterquiz_quiz.ipynb", ".MCButton"),
                Target("unjoined", unjoined_server, "kurssi.ipynb", ".sq-root .sq-lang"),
            ]
            start = load_average()[0]
            print(f"# load average before: {start:.2f}", flush=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                try:
                    for target in targets:  # warm-up: server caches, compressed files
                        _visit(browser.new_context(), target, "loopback")
                    found = measure(browser, targets, runs, profiles)
                finally:
                    browser.close()
            print(f"# load average after: {load_average()[0]:.2f} (before {start:.2f})")
        finally:
            for server in servers:
                server.stop()
    report(found, profiles)


if __name__ == "__main__":
    main()
