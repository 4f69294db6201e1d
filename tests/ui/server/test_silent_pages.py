"""A page whose browser is connected but silent is ended (issue 16, item 2); a page in use
is not. Run with a short ``SOMEQUIZ_IDLE_PAGE_MINUTES``."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from browser.server_helpers import Server, start_server, stop_server
from kernel_ws import KernelSocket

from somequiz.ui.server.culling import SilentPages

IDLE_S = 6.0


def test_pages_are_silent_only_after_the_whole_idle_time() -> None:
    now = [0.0]
    pages = SilentPages(60, clock=lambda: now[0])
    pages.heard("a")
    pages.heard("b")
    now[0] = 50
    pages.heard("b")
    assert pages.silent() == []
    now[0] = 61
    assert pages.silent() == ["a"]
    pages.forget("a")
    now[0] = 200
    assert pages.silent() == ["b"]
    assert SilentPages(0, clock=lambda: now[0]).silent() == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A learner server that ends pages silent for ``IDLE_S`` seconds (unconnected kernels
    only after 20 minutes, as by default)."""
    started = start_server(
        tmp_path_factory.mktemp("silent"),
        env_extra={
            "SOMEQUIZ_PAGE_LOADS_PER_MINUTE": "0",
            "SOMEQUIZ_IDLE_PAGE_MINUTES": str(IDLE_S / 60),
            "SOMEQUIZ_KERNEL_CULL_INTERVAL": "1",
        },
    )
    yield started
    stop_server(started.process)


def _open_page(server: Server) -> tuple[requests.Session, str, KernelSocket]:
    """A page loaded and connected to as the browser does (its widgets loaded)."""
    session = requests.Session()
    loaded = session.get(server.page_url(), timeout=120)
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', loaded.text)
    assert loaded.status_code == 200 and found
    kernel = KernelSocket(server.url, found.group(1), cookies=session.cookies.get_dict())
    kernel.widget_states()
    return session, found.group(1), kernel


def _alive(server: Server, session: requests.Session, kernel_id: str) -> bool:
    answer = session.get(f"{server.url}/api/kernels/{kernel_id}", timeout=10)
    assert answer.status_code in {200, 404}, answer.status_code
    return answer.status_code == 200


def test_a_connected_but_silent_page_is_ended_and_a_page_in_use_is_not(server: Server) -> None:
    silent_session, silent_id, silent = _open_page(server)
    busy_session, busy_id, busy = _open_page(server)
    screen = next(m for m, v in busy.widget_states().items() if "html" in v["state"])
    try:
        deadline = time.monotonic() + 3 * IDLE_S
        while time.monotonic() < deadline and _alive(server, silent_session, silent_id):
            # The learner in use presses something now and then (a form sent half empty).
            busy.custom(screen, {"action": "start", "fields": {}})
            busy.drain(1)
            silent.ws.ping()  # the silent one's connection stays open
        assert not _alive(server, silent_session, silent_id), "the silent page was not ended"
        assert _alive(server, busy_session, busy_id), "a page in use was ended"
        assert len(server.kernels()) == 1
        assert "its page has been silent, culled" in Path(server.log).read_text()
    finally:
        silent.close()
        busy.close()
