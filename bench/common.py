"""Shared helpers of the benchmarks: the machine they run on, load waiting, figure lines."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def kernel_processes(server_pid: int) -> list[psutil.Process]:
    """The ipykernel processes below a Voilà server."""
    try:
        children = psutil.Process(server_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if "ipykernel" in " ".join(child.cmdline()):
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
