"""nginx with the shipped site config in front of several learner processes over one database:
the deployment of ``deploy/``, started on this machine for the load benchmark and the deploy
tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from common import ROOT, ServerProcess, free_port, start_somequiz, stop_server

SITE = ROOT / "deploy" / "nginx-somequiz.conf"
COMPRESSION = ROOT / "deploy" / "nginx-snippets" / "somequiz-compression.conf"
# Access log with the upstream that served each request and the learner's route cookie.
LOG_FORMAT = "'$upstream_addr $somequiz_route $status $request_method $uri'"


@dataclass
class Nginx:
    """nginx on ``url`` in front of ``servers``; ``access_log`` in LOG_FORMAT."""

    url: str
    servers: list[ServerProcess]
    access_log: Path


def nginx_binary() -> str | None:
    """nginx from the Debian package, if installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


def nginx_config(folder: Path, port: int, upstreams: list[int]) -> Path:
    """The shipped site file unchanged, with local snippets and a minimal main config."""
    (folder / "snippets").mkdir(parents=True)
    (folder / "snippets" / "somequiz-learners.conf").write_text(
        "".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in upstreams)
    )
    (folder / "snippets" / "somequiz-listen.conf").write_text(f"listen 127.0.0.1:{port};\n")
    # Site-independent: used as shipped.
    shutil.copy(COMPRESSION, folder / "snippets" / COMPRESSION.name)
    shutil.copy(SITE, folder / "somequiz.conf")
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = folder / "nginx.conf"
    config.write_text(
        f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 4096; }}
http {{
    log_format somequiz {LOG_FORMAT};
    access_log {folder}/access.log somequiz;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include somequiz.conf;
}}
"""
    )
    return config


@contextmanager
def cluster(
    folder: Path, scenarios: Path, processes: int, db_url: str, nginx: str
) -> Iterator[Nginx]:
    """``processes`` learner servers over ``db_url`` (one signing key) behind nginx."""
    env = {"SOMEQUIZ_DB_URL": db_url, "SOMEQUIZ_SECRET_KEY": "0" * 64}
    servers: list[ServerProcess] = []
    running: subprocess.Popen[bytes] | None = None
    try:
        with ThreadPoolExecutor(processes) as pool:
            futures = [
                pool.submit(start_somequiz, "serve", folder / f"learner{n}", scenarios, env=env)
                for n in range(1, processes + 1)
            ]
            failures = [f.exception() for f in futures if f.exception() is not None]
            servers += [f.result() for f in futures if f.exception() is None]
        if failures:
            raise failures[0]  # type: ignore[misc]
        port = free_port()
        config = nginx_config(folder / "nginx", port, [s.port for s in servers])
        prefix = config.parent
        command = [nginx, "-c", str(config), "-p", str(prefix), "-e", str(prefix / "error.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(checked.stderr)
        running = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(f"{url}/voila/tree", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or running.poll() is not None:
                    raise RuntimeError((prefix / "error.log").read_text()) from None
                time.sleep(0.1)
        yield Nginx(url, servers, prefix / "access.log")
    finally:
        if running is not None and running.poll() is None:
            running.send_signal(signal.SIGTERM)
            try:
                running.wait(timeout=10)
            except subprocess.TimeoutExpired:
                running.kill()
                running.wait()
        for server in servers:
            stop_server(server.process)
