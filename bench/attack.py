"""A well-behaved learner beside one attacking client (issue 16, done-when).

One simulated learner (bench/load.py's) goes through the course, alone ("quiet") and while one
client address attacks the same learner server ("attacked"); the runs alternate so that the
shared machine's load falls on both alike. The attacker, from its own address, loads pages as
fast as it is let, and on each page's kernel websocket floods what bench/kernel_ws.py can send
without reading a byte: ``request_states`` (each answered with every widget's state) and
60 KB widget updates; refused page loads make it go back to its earlier pages' kernels.
Reported: the learner's answer p50/p95 per run, what the attacker got (pages, refusals,
connections and how they ended), server memory and the load average.

    .venv/bin/python bench/attack.py --rounds 2 --scenarios-limit 2
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psutil
import requests
import websocket
from common import ROOT, header, load_average, machine, percentile, stop_server
from kernel_ws import KernelSocket
from load import COURSE_PAGE, SimulatedLearner, start_server, trimmed_course

ATTACKER = "10.99.0.1"
BIG = "x" * 60000


class Attacker:
    """One client address attacking until :meth:`stop`; what it got in :attr:`seen`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = ATTACKER
        self.kernels: list[str] = []
        self.seen: Counter[str] = Counter()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Attack in a thread of its own."""
        self.thread.start()

    def stop(self) -> None:
        """Stop attacking and wait for the thread."""
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            kernel_id = self._new_page() or (self.kernels[-1] if self.kernels else "")
            if kernel_id:
                self._flood(kernel_id)
            else:
                time.sleep(0.2)

    def _new_page(self) -> str:
        try:
            page = self.http.get(self.url + COURSE_PAGE, timeout=120)
        except requests.RequestException:
            self.seen["page load failed"] += 1
            return ""
        found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.text)
        if page.status_code != 200 or not found:
            self.seen[f"page {page.status_code}"] += 1
            return ""
        self.seen["page 200"] += 1
        self.kernels.append(found.group(1))
        return found.group(1)

    def _flood(self, kernel_id: str) -> None:
        try:
            kernel = KernelSocket(self.url, kernel_id, cookies=self.http.cookies.get_dict())
        except (OSError, websocket.WebSocketException) as exc:
            self.seen[f"connect refused ({type(exc).__name__})"] += 1
            time.sleep(0.2)
            return
        control = uuid.uuid4().hex
        try:
            kernel.send(
                "comm_open",
                {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}},
                {"version": "1.0.0"},
            )
            while not self._stop.is_set():
                kernel.comm(control, {"method": "request_states"})
                kernel.comm(control, {"method": "update", "state": {"x": BIG}})
            self.seen["connection left by the attacker"] += 1
        except (OSError, websocket.WebSocketException):
            self.seen["connection closed by the server"] += 1
        finally:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                kernel.close()


def learner_run(url: str, run: str) -> list[float]:
    """One learner through the (trimmed) course; its answer latencies (s)."""
    learner = SimulatedLearner(url, 1, run)
    learner.run(time.monotonic())
    if learner.result.errors:
        print(f"  learner errors: {learner.result.errors}", flush=True)
    return learner.result.answer_s


def rss_mib(pid: int) -> float:
    """The server's and its kernels' resident memory."""
    server = psutil.Process(pid)
    processes = [server, *server.children(recursive=True)]
    return float(sum(p.memory_info().rss for p in processes)) / 2**20


def main() -> int:
    """Alternate quiet and attacked runs of one learner; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2, help="quiet + attacked pairs")
    parser.add_argument("--scenarios-limit", type=int, default=2)
    args = parser.parse_args()
    header("somequiz: a learner beside an attacker")
    answers: dict[str, list[float]] = {"quiet": [], "attacked": []}
    with tempfile.TemporaryDirectory(prefix="somequiz-attack-") as folder:
        course = trimmed_course((ROOT / "scenarios").resolve(), args.scenarios_limit, Path(folder))
        server = start_server(Path(folder) / "results", course)
        try:
            for round_ in range(args.rounds):
                for kind in ("quiet", "attacked"):
                    attacker = Attacker(server.url)
                    if kind == "attacked":
                        attacker.start()
                        time.sleep(5)  # the attack under way before the learner starts
                    took = learner_run(server.url, f"{kind[0].upper()}{round_}")
                    memory = rss_mib(server.process.pid)
                    attacker.stop()
                    answers[kind] += took
                    p50, p95 = statistics.median(took), percentile(took, 95)
                    print(
                        f"{kind:8} round {round_}: {len(took)} answers, p50 {p50 * 1000:.0f} ms, "
                        f"p95 {p95 * 1000:.0f} ms; server+kernels {memory:.0f} MiB; "
                        f"load {load_average()[0]:.1f}; attacker {dict(attacker.seen)}",
                        flush=True,
                    )
        finally:
            stop_server(server.process)
    quiet, attacked = (percentile(answers[k], 95) for k in ("quiet", "attacked"))
    print(
        f"answer p95: quiet {quiet * 1000:.0f} ms, attacked {attacked * 1000:.0f} ms, "
        f"ratio {attacked / quiet:.2f} (done when at most 2)"
    )
    print(f"# after: {machine()[3]}")
    return 0 if attacked <= 2 * quiet else 1


if __name__ == "__main__":
    sys.exit(main())
