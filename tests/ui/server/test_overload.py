"""Overload protection on a real learner server: plain HTTP page loads (no browser, no kernel
websocket, no shutdown beacon) cannot start more kernels than the cap or grow memory past it;
over the cap and over the per-address rate the visitor gets the friendly page."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests
from browser.server_helpers import ROOT, Server, start_server, stop_server

FULL = "Kurssi on juuri nyt täynnä – yritä hetken päästä uudelleen."
RATE = "Sivua on ladattu liian monta kertaa lyhyessä ajassa"
CAP = 3
PER_MINUTE = 4
MiB = 1024 * 1024


def _tree_rss(server: Server) -> int:
    """RSS of the server and all its kernels, in bytes."""
    total = 0
    try:
        root = psutil.Process(server.process.pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def _load(server: Server, address: str) -> requests.Response:
    """A page load as a plain GET, from ``address`` as the trusted local proxy forwards it."""
    return requests.get(server.page_url(), headers={"X-Forwarded-For": address}, timeout=120)


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A learner server with a cap of three kernels and four page loads a minute per address."""
    server = start_server(
        tmp_path_factory.mktemp("capped"),
        env_extra={
            "SOMEQUIZ_MAX_KERNELS": str(CAP),
            "SOMEQUIZ_PAGE_LOADS_PER_MINUTE": str(PER_MINUTE),
        },
    )
    yield server
    stop_server(server.process)


@pytest.fixture(scope="module")
def first_loads(capped: Server) -> list[requests.Response]:
    """Ten visitors at once, each from its own address (the rate limit is not what stops them)."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(lambda n: _load(capped, f"10.1.0.{n}"), range(10)))


def test_page_loads_without_a_browser_stop_at_the_kernel_cap(
    capped: Server, first_loads: list[requests.Response]
) -> None:
    answers = first_loads
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * CAP + [503] * (10 - CAP), statuses
    assert len(capped.kernels()) == CAP
    refused = next(r for r in answers if r.status_code == 503)
    assert FULL in refused.text and 'lang="fi"' in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["Content-Type"].startswith("text/html")
    assert "kernel" not in refused.text.lower()


def test_more_page_loads_at_the_cap_grow_neither_kernels_nor_memory(capped: Server) -> None:
    kernels_before = {k.pid for k in capped.kernels()}
    assert len(kernels_before) == CAP
    before = _tree_rss(capped)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: _load(capped, f"10.2.0.{n}"), range(24)))
    assert {r.status_code for r in answers} == {503}
    assert {k.pid for k in capped.kernels()} == kernels_before
    grown = _tree_rss(capped) - before
    assert grown < 20 * MiB, f"grew {grown / MiB:.1f} MiB with no new kernel"
    # What the cap bounds: server plus CAP kernels, each well under 150 MiB RSS.
    assert _tree_rss(capped) < (200 + CAP * 150) * MiB


def test_rate_limit_answers_429_with_the_friendly_page(capped: Server) -> None:
    # The cap is full, so allowed loads get 503; the rate limit is checked first.
    statuses = [_load(capped, "10.3.0.1").status_code for _ in range(PER_MINUTE)]
    assert statuses == [503] * PER_MINUTE
    limited = _load(capped, "10.3.0.1")
    assert limited.status_code == 429
    assert RATE in limited.text and "Ett ögonblick" in limited.text
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # Another address is not affected.
    assert _load(capped, "10.3.0.2").status_code == 503


def test_culling_frees_the_slots_of_pages_nobody_opened(tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "culled",
        env_extra={
            "SOMEQUIZ_MAX_KERNELS": "1",
            "SOMEQUIZ_PAGE_LOADS_PER_MINUTE": "0",
            "SOMEQUIZ_KERNEL_IDLE_TIMEOUT": "2",
            "SOMEQUIZ_KERNEL_CULL_INTERVAL": "1",
        },
    )
    try:
        assert _load(server, "10.4.0.1").status_code == 200
        assert _load(server, "10.4.0.2").status_code == 503
        # Nobody connects to the kernel: idle, it is culled and its slot is free again.
        first = {k.pid for k in server.kernels()}
        deadline = time.monotonic() + 30
        again = _load(server, "10.4.0.3")
        while again.status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.5)
            again = _load(server, "10.4.0.3")
        assert again.status_code == 200, "the idle kernel was not culled"
        assert first and {k.pid for k in server.kernels()}.isdisjoint(first)
    finally:
        stop_server(server.process)


def test_kernel_websocket_refuses_code_execution(
    capped: Server, first_loads: list[requests.Response], tmp_path: Path
) -> None:
    """Standalone Voilà drops ``execute_request`` from the browser: a visitor who takes the
    kernel id from the page and opens its websocket still cannot run code."""
    sys.path.insert(0, str(ROOT / "bench"))
    from kernel_ws import KernelSocket

    page = next(r for r in first_loads if r.status_code == 200)
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.text)
    assert found, "no kernel id in the page"
    marker = tmp_path / "pwned"
    socket = KernelSocket(capped.url, found.group(1), cookies=page.cookies.get_dict())
    try:
        info = socket.send("kernel_info_request", {})
        code = f"open({str(marker)!r}, 'w').write('x')"
        run = socket.send("execute_request", {"code": code, "silent": False})
        replies = socket.drain(3)
    finally:
        socket.close()
    assert any(m.parent_id == info and m.msg_type == "kernel_info_reply" for m in replies)
    assert not [m for m in replies if m.parent_id == run]
    assert not marker.exists()


def test_one_address_cannot_fill_the_server(tmp_path: Path) -> None:
    """The per-address cap on live pages: one address gets its share, others still get in."""
    server = start_server(
        tmp_path / "per-address",
        env_extra={
            "SOMEQUIZ_MAX_KERNELS": "10",
            "SOMEQUIZ_PAGE_LOADS_PER_MINUTE": "0",
            "SOMEQUIZ_MAX_KERNELS_PER_ADDRESS": "2",
        },
    )
    try:
        statuses = [_load(server, "10.5.0.1").status_code for _ in range(4)]
        assert statuses == [200, 200, 429, 429]
        assert _load(server, "10.5.0.2").status_code == 200
        assert len(server.kernels()) == 3
    finally:
        stop_server(server.process)
