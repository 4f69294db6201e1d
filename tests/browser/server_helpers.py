"""A real learner or staff server (``somequiz serve|hr|trainer``) for the browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from somequiz import chromium

# Shared with the benchmarks in bench/.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from common import kernel_processes

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

    def database(self) -> str:
        """The server's database URL."""
        return f"sqlite:///{self.results / 'somequiz.db'}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    results: Path,
    scenarios: Path = UI_COURSE,
    *,
    command: str = "serve",
    env_extra: dict[str, str] | None = None,
    query: str = "",
) -> Server:
    """Start ``somequiz COMMAND`` (a Voilà server) on a free port and wait until it answers."""
    port = _free_port()
    results.mkdir(parents=True, exist_ok=True)
    log = results / f"{command}.log"
    env = {**os.environ, "SOMEQUIZ_RESULTS": str(results), "SOMEQUIZ_SCENARIOS": str(scenarios)}
    env.pop("SOMEQUIZ_DB_URL", None)
    env.update(env_extra or {})
    options = ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from somequiz.cli import main; main()", command, *options],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(f"{url}/voila/tree{query}", timeout=2).status_code == 200:
                return Server(url, results, process, log)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError("server did not start in 60 s")


def stop_server(process: subprocess.Popen[bytes], *, hard: bool = False) -> None:
    """SIGTERM (Voilà then shuts its kernels down), or SIGKILL with ``hard``."""
    if process.poll() is not None:
        return
    try:
        kernels = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kernels = []
    process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for child in kernels:
        # Kernels of a killed server: end them here rather than leave them behind.
        try:
            child.wait(timeout=5 if not hard else 0.1)
        except psutil.TimeoutExpired:
            child.kill()
        except psutil.Error:
            pass
