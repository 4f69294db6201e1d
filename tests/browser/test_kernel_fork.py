"""A learner page in a real browser runs in a kernel forked from the learner server's fork
server, bound to that browser, and freed when the page closes (issue 15, morning rush)."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from browser_helpers import TIMEOUT, kernel_id, open_course, page_socket, sign_in
from jupyter_client.blocking.client import BlockingKernelClient
from playwright.sync_api import Page, expect
from server_helpers import Server

from somequiz.ui.identity import BROWSER_ENV
from somequiz.ui.server.browser import COOKIE
from somequiz.ui.server.forkserver import KERNEL_NAME


def browser_id(page: Page) -> str:
    """The id in the page's signed browser cookie (tornado's ``2|…|length:base64|…`` format)."""
    signed = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)
    value = signed.split("|")[4].split(":", 1)[1]
    return base64.b64decode(value).decode("ascii")


def kernel_environment(connection_file: Path) -> str:
    """The page's browser id as its kernel's environment has it (asked as the server may)."""
    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    printed: list[str] = []

    def output(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            printed.append(str(message["content"]["text"]))

    try:
        code = f"import os; print(os.environ.get({BROWSER_ENV!r}))"
        client.execute_interactive(code, output_hook=output, timeout=60)
    finally:
        client.stop_channels()
    return "".join(printed).strip()


def test_a_page_runs_in_a_forked_kernel_bound_to_its_browser(page: Page, server: Server) -> None:
    before = {k.pid for k in server.kernels()}
    open_course(page, server.page_url())
    sign_in(page, "Haarukka Testi", employee="F100")
    expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)
    mine = [k for k in server.kernels() if k.pid not in before]
    assert len(mine) == 1
    kernel = mine[0]
    assert kernel.name() == KERNEL_NAME
    fork_server = kernel.parent()
    assert fork_server is not None
    assert "somequiz.ui.server.forkserver" in fork_server.cmdline()
    # The fork server's socket is in the server's connection folder, beside the page kernel's
    # connection file: ask the kernel itself (its environment was set after the fork).
    folder = Path(fork_server.cmdline()[-1]).parent
    assert kernel_environment(folder / f"kernel-{kernel_id(page)}.json") == browser_id(page)
    page_socket(page, server.url).close()  # the page's own browser is let in
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and kernel.is_running():
        time.sleep(0.2)
    assert not kernel.is_running(), "the closed page's kernel still runs"
    assert fork_server.is_running() and fork_server.children() == []
