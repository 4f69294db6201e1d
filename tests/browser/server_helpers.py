"""A real learner or staff server (``somequiz serve|hr|trainer``) for the browser tests."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from somequiz.reports import chromium

# Shared with the benchmarks in bench/.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from common import kernel_processes, start_somequiz, stop_server

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "ROOT",
    "UI_COURSE",
    "Server",
    "start_server",
    "stop_server",
]

ROOT = Path(__file__).resolve().parents[2]
UI_COURSE = ROOT / "tests" / "fixtures" / "ui-course"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = str(chromium.CHROMIUM)
CHROMIUM_ARGS = chromium.FLAGS


@dataclass
class Server:
    """A running learner server."""

    url: str
    results: Path
    process: subprocess.Popen[bytes]
    log: Path

    def page_url(self, notebook: str = "kurssi.ipynb") -> str:
        """The render URL of a learner notebook."""
        return f"{self.url}/voila/render/{notebook}"

    def kernels(self) -> list[psutil.Process]:
        """The server's running kernels."""
        return kernel_processes(self.process.pid)

    def kernel(self, kernel_id: str) -> psutil.Process:
        """The process of kernel ``kernel_id``: the one bound to its sockets (a forked kernel's
        command line does not name its connection file)."""
        (found,) = [
            k
            for k in self.kernels()
            if any(kernel_id in a for a in k.cmdline())
            or any(kernel_id in str(c.laddr) for c in k.net_connections(kind="unix"))
        ]
        return found

    def database(self) -> str:
        """The server's database URL."""
        return f"sqlite:///{self.results / 'somequiz.db'}"


def start_server(
    results: Path,
    scenarios: Path = UI_COURSE,
    *,
    command: str = "serve",
    env_extra: dict[str, str] | None = None,
    query: str = "",
) -> Server:
    """Start ``somequiz COMMAND`` (a Voilà server) on a free port and wait until it answers."""
    # Every test page comes from 127.0.0.1 and Playwright's closed contexts leave their kernels
    # to the culler: the per-address cap (tested in tests/ui) would refuse a module's pages.
    env = {"SOMEQUIZ_MAX_KERNELS_PER_ADDRESS": "0", "SOMEQUIZ_PAGE_LOAD_BURST": "60"}
    started = start_somequiz(
        command, results, scenarios, env={**env, **(env_extra or {})}, probe=f"/voila/tree{query}"
    )
    return Server(started.url, started.results, started.process, started.log)
