"""One page's kernel websocket on a real learner server, used by a client that has the page's
cookies (issue 16): what it may send, open, leave unread and make its kernel build is bounded,
and the page's kernel has a memory ceiling far above what a page uses."""

from __future__ import annotations

import contextlib
import functools
import re
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from browser.server_helpers import Server, start_server, stop_server
from kernel_ws import KernelSocket

from somequiz.ui.kernel.main import MEMORY_CEILING
from somequiz.ui.server.browser import MAX_MESSAGE_BYTES, MAX_SOCKETS_PER_KERNEL

MiB = 1024 * 1024
CONTROL = "jupyter.widget.control"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A learner server without the page-load rate limit (each test loads its own page)."""
    started = start_server(
        tmp_path_factory.mktemp("sockets"), env_extra={"SOMEQUIZ_PAGE_LOADS_PER_MINUTE": "0"}
    )
    yield started
    stop_server(started.process)


@dataclass
class Page:
    """A page loaded without a browser: its kernel, and the browser's cookies."""

    server: Server
    kernel_id: str
    cookies: dict[str, str]

    def socket(self, **options: Any) -> KernelSocket:
        """A websocket to the page's kernel, as the page's browser opens it."""
        return KernelSocket(self.server.url, self.kernel_id, cookies=self.cookies, **options)


@pytest.fixture
def learner_page(server: Server) -> Iterator[Page]:
    """A fresh page (its own kernel); the kernel is shut down afterwards."""
    session = requests.Session()
    loaded = session.get(server.page_url(), timeout=120)
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', loaded.text)
    assert loaded.status_code == 200 and found, loaded.status_code
    yield Page(server, found.group(1), session.cookies.get_dict())
    xsrf = {"X-XSRFToken": session.cookies.get("_xsrf", "")}
    session.delete(f"{server.url}/api/kernels/{found.group(1)}", headers=xsrf, timeout=10)


def ended(kernel: KernelSocket, seconds: float = 15) -> int | None:
    """Read until the server ends the connection: its close code (0 if it sent none), or
    None if the connection is still open after ``seconds`` without a message."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        kernel.ws.settimeout(1)
        try:
            opcode, frame = kernel.ws.recv_data_frame(control_frame=True)
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, OSError):
            return 0
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else 0
        deadline = time.monotonic() + seconds
    return None


def open_control(kernel: KernelSocket) -> str:
    """A new widget control comm, as the page's widget manager opens one."""
    comm_id = uuid.uuid4().hex
    kernel.send(
        "comm_open",
        {"comm_id": comm_id, "target_name": CONTROL, "data": {}},
        {"version": "1.0.0"},
    )
    return comm_id


def screen_model(states: dict[str, Any]) -> str:
    """The id of the page's screen widget (the one with the ``html`` trait)."""
    return next(model for model, value in states.items() if "html" in value["state"])


def test_messages_larger_than_the_page_ever_sends_close_the_socket(learner_page: Page) -> None:
    kernel = learner_page.socket()
    try:
        screen = screen_model(kernel.widget_states())
        # The page's largest message, an "unclear" note of 2,000 characters JSON escapes
        # (12.4 KB), passes: the kernel still answers after it.
        kernel.custom(screen, {"action": "flag", "fields": {"comment": "\x01" * 2000}})
        asked = kernel.send("kernel_info_request", {})
        replies = kernel.drain(3)
        assert any(m.parent_id == asked for m in replies)
        kernel.custom(screen, {"action": "flag", "fields": {"comment": "x" * MAX_MESSAGE_BYTES}})
        assert ended(kernel) in {1009, 0}
    finally:
        kernel.close()


def test_the_kernel_echoes_no_state_update(learner_page: Page) -> None:
    kernel = learner_page.socket()
    try:
        screen = screen_model(kernel.widget_states())
        update = {"method": "update", "state": {"title": "x" * 1000}, "buffer_paths": []}
        kernel.comm(screen, update)
        methods = [m.content.get("data", {}).get("method") for m in kernel.drain(3)]
    finally:
        kernel.close()
    assert "echo_update" not in methods


def test_a_browser_that_reads_nothing_is_closed(
    learner_page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ``request_states`` makes the kernel send every widget's state: a client asking
    for them and reading nothing would have the server hold all of them."""
    # A client that reads nothing keeps a small receive window (the OS buffers less).
    small = ((socket.SOL_SOCKET, socket.SO_RCVBUF, 16384),)
    connect = functools.partial(websocket.create_connection, sockopt=small)
    monkeypatch.setattr(websocket, "create_connection", connect)
    kernel = learner_page.socket()
    try:
        screen = screen_model(kernel.widget_states())
        # 2 × 60 KB in a widget's state (messages of legal size): each answer is ~145 KB.
        for trait in ("html", "title"):
            kernel.comm(screen, {"method": "update", "state": {trait: "x" * 60000}})
        control = open_control(kernel)
        for _ in range(150):  # ~22 MB of answers, within the page's message allowance
            kernel.comm(control, {"method": "request_states"})
        time.sleep(3)
        assert ended(kernel) is not None, "the server kept writing to a client that reads nothing"
    finally:
        kernel.close()


def test_a_page_sends_at_most_its_allowance_of_messages(learner_page: Page) -> None:
    kernel = learner_page.socket()
    try:
        with contextlib.suppress(OSError, websocket.WebSocketException):
            for _ in range(300):
                kernel.send("kernel_info_request", {})
        assert ended(kernel) == 1008
    finally:
        kernel.close()
    # A new connection to the same kernel gets no new allowance.
    again = learner_page.socket()
    try:
        with contextlib.suppress(OSError, websocket.WebSocketException):
            for _ in range(30):
                again.send("kernel_info_request", {})
        assert ended(again) == 1008
    finally:
        again.close()


def test_a_kernel_takes_only_a_few_websockets(learner_page: Page) -> None:
    sockets = [learner_page.socket() for _ in range(MAX_SOCKETS_PER_KERNEL)]
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            sockets.append(learner_page.socket())
        assert refused.value.status_code == 429
        sockets.pop().close()
        deadline = time.monotonic() + 10
        while True:  # the server forgets the closed one at once, or nearly
            try:
                sockets.append(learner_page.socket())
                break
            except websocket.WebSocketBadStatusException:
                assert time.monotonic() < deadline, "a closed websocket kept its place"
                time.sleep(0.2)
    finally:
        for kernel in sockets:
            kernel.close()


def test_a_page_cannot_create_widgets_in_its_kernel(learner_page: Page) -> None:
    kernel = learner_page.socket()
    try:
        before = kernel.widget_states()  # opens the connection's first control comm
        forged = uuid.uuid4().hex
        module = "@jupyter-widgets/controls"
        state = {
            "_model_module": module,
            "_model_module_version": "2.0.0",
            "_model_name": "TextModel",
            "_view_module": module,
            "_view_module_version": "2.0.0",
            "_view_name": "TextView",
            "value": "x" * 50000,
        }
        kernel.send(
            "comm_open",
            {"comm_id": forged, "target_name": "jupyter.widget", "data": {"state": state}},
            {"version": "2.1.0"},
        )
        kernel.drain(1)
        after = kernel.widget_states()  # the second control comm
        assert forged not in after and set(after) == set(before)
        # Two more control comms are within the connection's four; a fifth is ignored.
        controls = [open_control(kernel) for _ in range(3)]
        kernel.comm(controls[-1], {"method": "request_states"})
        answers = [m.content.get("data", {}).get("method") for m in kernel.drain(3)]
        assert answers.count("update_states") == 0
        kernel.comm(controls[-2], {"method": "request_states"})
        answers = [m.content.get("data", {}).get("method") for m in kernel.drain(3)]
        assert answers.count("update_states") == 1
    finally:
        kernel.close()


def test_malformed_or_legacy_frames_close_the_socket(learner_page: Page) -> None:
    kernel = learner_page.socket()
    try:
        # 64 bytes that claim 10⁶ offsets: jupyter_server would build lists that long.
        kernel.ws.send_binary((10**6).to_bytes(8, "little") + b"\0" * 56)
        assert ended(kernel) == 1007
    finally:
        kernel.close()
    legacy = learner_page.socket(protocol="")
    try:
        assert not legacy.v1
        legacy.send("kernel_info_request", {})
        assert ended(legacy) == 1007
    finally:
        legacy.close()
    # The page's own framing still works.
    kernel = learner_page.socket()
    try:
        assert kernel.widget_states()
    finally:
        kernel.close()


def test_page_kernels_have_a_memory_ceiling_far_above_a_page(
    server: Server, learner_page: Page
) -> None:
    kernel = learner_page.socket()
    try:
        kernel.widget_states()
    finally:
        kernel.close()
    process = server.kernel(learner_page.kernel_id)
    limits = Path(f"/proc/{process.pid}/limits").read_text()
    assert re.search(rf"Max data size\s+{MEMORY_CEILING}\s+{MEMORY_CEILING}\s", limits)
    # A page's kernel holds ~130 MiB of data memory (47 MiB resident), a whole course too.
    status = Path(f"/proc/{process.pid}/status").read_text()
    found = re.search(r"VmData:\s+(\d+) kB", status)
    assert found and int(found.group(1)) * 1024 < MEMORY_CEILING / 2


def test_a_page_gets_no_traceback_and_no_versions(learner_page: Page) -> None:
    """Malformed messages from the browser are logged in the server's log; the page gets
    neither the kernel's traceback nor a stderr line, and the kernel's info names no
    Python or library version."""
    kernel = learner_page.socket()
    try:
        screen = screen_model(kernel.widget_states())
        kernel.comm(screen, {"method": "update", "state": {"html": 5}})  # a TraitError
        kernel.comm("no-such-comm", {"method": "custom", "content": {}})
        kernel.send("comm_msg", {"data": {}})  # no comm id at all
        kernel.send("kernel_info_request", {})
        received = kernel.drain(4)
        deadline = time.monotonic() + 30  # a busy machine may take longer to answer
        while time.monotonic() < deadline and not any(
            m.msg_type == "kernel_info_reply" for m in received
        ):
            received += kernel.drain(1)
    finally:
        kernel.close()
    assert [m.msg_type for m in received if m.msg_type in {"error", "stream"}] == []
    info = next(m.content for m in received if m.msg_type == "kernel_info_reply")
    assert info["language_info"]["name"] == "python"
    sent = repr([m.content for m in received])
    for leak in ("Traceback", "site-packages", "TraitError", sys.version.split()[0], "IPython"):
        assert leak not in sent
    assert "TraitError" in learner_page.server.log.read_text()
