"""nginx with the shipped site config in front of learner processes, for the deploy tests."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
# The load simulator and its websocket client live in bench/ (run there as a script).
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402
from cluster import Nginx, nginx_binary  # noqa: E402
from cluster import cluster as start_cluster  # noqa: E402
from common import ServerProcess  # noqa: E402

# The benchmarks' load simulator and cluster, for this folder's tests.
__all__ = ["ROOT", "UI_COURSE", "Cluster", "Nginx", "load", "nginx_binary", "start_cluster"]

UI_COURSE = ROOT / "tests" / "fixtures" / "ui-course"


@dataclass
class Cluster:
    """nginx on ``url`` in front of two learner processes sharing ``db_url``."""

    url: str
    db_url: str
    servers: list[ServerProcess]
    access_log: Path

    def upstream(self, port: int) -> str:
        """nginx's name of a learner process."""
        return f"127.0.0.1:{port}"

    def route_cookies(self, per_server: int) -> dict[int, list[str]]:
        """Route cookies that nginx hands to new visitors, ``per_server`` for each process.

        Probes (cheap requests without cookies, as first visits) until each process has had
        ``per_server`` visitors: the consistent hash is random per visitor, and a test that
        must see both processes cannot leave the split to chance.
        """
        found: dict[int, list[str]] = {s.port: [] for s in self.servers}
        for _ in range(200):
            response = requests.get(f"{self.url}/voila/tree", timeout=10)
            route = response.cookies.get("somequiz_route") or ""
            port = self._served(route)
            if port in found and len(found[port]) < per_server:
                found[port].append(route)
            if all(len(v) == per_server for v in found.values()):
                return found
        raise AssertionError(f"200 probes did not reach every process: {found}")

    def _served(self, route: str) -> int | None:
        for _ in range(50):
            for line in reversed(self.access_log.read_text().splitlines()):
                parts = line.split()
                if len(parts) >= 2 and parts[1] == route:
                    return int(parts[0].rsplit(":", 1)[1])
            time.sleep(0.02)  # nginx writes the log line just after the response
        return None

    def kernels(self, server: ServerProcess) -> set[str]:
        """Ids of the kernels a process has started (from its log)."""
        marker = "Kernel started: "
        return {
            line.split(marker, 1)[1].strip()
            for line in server.log.read_text(errors="replace").splitlines()
            if marker in line
        }
