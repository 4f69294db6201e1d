"""Shared helpers of the benchmarks (and the browser tests): somequiz servers in subprocesses,
the machine they run on, load waiting, figure lines."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

try:
    from somequiz.ui.server.forkserver import KERNEL_NAME
except ImportError:  # a checkout from before the fork server (a "before" run)
    KERNEL_NAME = ""

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A ``somequiz serve|hr|trainer`` process on 127.0.0.1."""

    url: str
    port: int
    results: Path
    process: subprocess.Popen[bytes]
    log: Path


def start_somequiz(
    command: str,
    results: Path,
    scenarios: Path,
    *,
    env: dict[str, str] | None = None,
    probe: str = "/voila/tree",
    timeout: float = 60.0,
) -> ServerProcess:
    """Start ``somequiz COMMAND`` on a free port (SQLite in ``results`` unless ``env`` sets
    ``SOMEQUIZ_DB_URL``) and wait until ``probe`` answers."""
    port = free_port()
    results.mkdir(parents=True, exist_ok=True)
    log = results / f"{command}-{port}.log"
    environ = {**os.environ, "SOMEQUIZ_RESULTS": str(results), "SOMEQUIZ_SCENARIOS": str(scenarios)}
    environ.pop("SOMEQUIZ_DB_URL", None)
    environ.update(env or {})
    options = ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [PYTHON, "-c", "from somequiz.cli import main; main()", command, *options],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}{probe}", timeout=2).status_code < 500:
                return ServerProcess(url, port, results, process, log)
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"server did not answer in {timeout:.0f} s: {log}")


def stop_server(process: subprocess.Popen[bytes], *, hard: bool = False) -> None:
    """SIGTERM (Voilà shuts its kernels down) or SIGKILL; what it leaves behind is ended too."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.wait(timeout=0.1 if hard else 5)
        with contextlib.suppress(psutil.Error):
            child.kill()


def is_kernel(process: psutil.Process) -> bool:
    """Whether ``process`` is a kernel: started with a ``kernel-….json`` connection file, or
    forked by a learner server's fork server (named so: its command line is the fork server's).

    (Pages' kernels run ``somequiz.ui.kernel.main``, staff notebooks may run ``ipykernel``.)
    """
    return process.name() == KERNEL_NAME or any(
        arg.endswith(".json") and Path(arg).name.startswith("kernel-") for arg in process.cmdline()
    )


def kernel_processes(server_pid: int) -> list[psutil.Process]:
    """The kernel processes below a Voilà server."""
    try:
        children = psutil.Process(server_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if is_kernel(child):
                found.append(child)
        except psutil.Error:
            continue
    return found


def server_processes(server_pid: int) -> list[psutil.Process]:
    """A Voilà server and its helper processes (course services), without its kernels."""
    try:
        server = psutil.Process(server_pid)
        children = server.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    kernels = {k.pid for k in kernel_processes(server_pid)}
    return [server, *(child for child in children if child.pid not in kernels)]


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _run(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> list[str]:
    """Lines describing the machine: nproc, CPU, memory, load, software."""
    memory = _run("free", "-h").splitlines()
    one, five, fifteen = load_average()
    return [
        f"nproc: {os.cpu_count()} ({_run('nproc')} usable)",
        f"CPU: {cpu_model()}",
        f"memory: {memory[1] if len(memory) > 1 else '?'}",
        f"uptime: {_run('uptime')}",
        f"load average: {one:.2f} {five:.2f} {fifteen:.2f}",
        f"python: {platform.python_version()} on {platform.platform()}",
    ]


def wait_for_quiet(max_load: float, max_wait_s: float) -> float:
    """Wait until the 1-minute load is under ``max_load`` (at most ``max_wait_s``); the load."""
    deadline = time.monotonic() + max_wait_s
    while True:
        one = load_average()[0]
        if one < max_load or time.monotonic() >= deadline:
            if one >= max_load:
                print(f"# load {one:.2f} still >= {max_load} after waiting; measuring anyway")
            return one
        print(f"# load {one:.2f} >= {max_load}: waiting 30 s", flush=True)
        time.sleep(30)


def header(title: str) -> None:
    """Print the benchmark's title and the machine."""
    print(f"# {title}")
    for line in machine():
        print(f"# {line}")
    sys.stdout.flush()


def figure(
    name: str, value: float, unit: str, *, baseline: float | None = None, note: str = ""
) -> None:
    """One result line: ``FIGURE name value unit [ratio] [note]`` (the smoke test reads these)."""
    parts = [f"FIGURE {name:<44} {value:10.3f} {unit:<14}"]
    if baseline is not None and baseline > 0:
        parts.append(f"ratio {value / baseline:6.2f}x")
    if note:
        parts.append(note)
    print("  ".join(parts), flush=True)


def median(values: Sequence[float]) -> float:
    """The median (0 for none)."""
    return statistics.median(values) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), nearest rank with linear interpolation."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
