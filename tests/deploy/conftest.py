"""Fixtures: the shipped nginx config in front of two learner processes over PostgreSQL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from nginx_cluster import UI_COURSE, Cluster, ServerProcess, free_port, load, nginx_config


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """nginx from the Debian package; a skip locally without it, a failure in CI."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        reason = "nginx is not installed (apt-get install nginx-light; `make system-packages`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires nginx: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture
def cluster(nginx_binary: str, pg_database: str, tmp_path: Path) -> Iterator[Cluster]:
    """Two ``somequiz serve`` processes over a fresh PostgreSQL database, nginx in front."""
    env = {
        # One signing key for all processes, as /etc/somequiz/somequiz.env sets it.
        "SOMEQUIZ_SECRET_KEY": "0" * 64,
    }
    servers: list[ServerProcess] = []
    nginx: subprocess.Popen[bytes] | None = None
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(
                    load.start_server,
                    tmp_path / f"learner{n}",
                    UI_COURSE,
                    db_url=pg_database,
                    env=env,
                )
                for n in (1, 2)
            ]
            failures = [f.exception() for f in futures if f.exception() is not None]
            servers += [f.result() for f in futures if f.exception() is None]
        if failures:
            raise failures[0]
        port = free_port()
        folder = tmp_path / "nginx"
        config = nginx_config(folder, port, [s.port for s in servers])
        command = [
            nginx_binary,
            "-c",
            str(config),
            "-p",
            str(folder),
            "-e",
            str(folder / "error.log"),
        ]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        nginx = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(f"{url}/voila/tree", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or nginx.poll() is not None:
                    raise RuntimeError((folder / "error.log").read_text()) from None
                time.sleep(0.1)
        yield Cluster(url, pg_database, servers, folder / "access.log")
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGTERM)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()
        for server in servers:
            load.stop_server(server.process)
