"""A page left silent is ended (issue 16, item 2): the page says so in Finnish, and a reload
resumes the course where it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from browser_helpers import TIMEOUT, kernel_id, open_course, sign_in
from playwright.sync_api import Page, expect
from server_helpers import Server, start_server, stop_server

from somequiz.i18n import Messages

IDLE_S = 10.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A learner server that ends pages silent for ``IDLE_S`` seconds."""
    started = start_server(
        tmp_path_factory.mktemp("gone"),
        env_extra={
            "SOMEQUIZ_IDLE_PAGE_MINUTES": str(IDLE_S / 60),
            "SOMEQUIZ_KERNEL_CULL_INTERVAL": "1",
        },
    )
    yield started
    stop_server(started.process)


def test_an_ended_page_says_so_and_a_reload_resumes(server: Server, page: Page) -> None:
    open_course(page, server.page_url())
    sign_in(page, "Hiljainen Lukija", employee="G100")
    expect(page.locator(".sq-who")).to_be_visible(timeout=TIMEOUT)
    notice = page.locator("[data-sq-gone]")
    expect(notice).to_be_hidden()
    ended = f"{server.url}/api/kernels/{kernel_id(page)}"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    page.wait_for_timeout(IDLE_S * 1000)
    for _ in range(30):  # the learner reads on and touches nothing
        if requests.get(ended, cookies=cookies, timeout=10).status_code == 404:
            break
        page.wait_for_timeout(500)
    # The page checks when it is shown again (and every 30 s).
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(notice).to_be_visible(timeout=TIMEOUT)
    expect(notice).to_have_attribute("role", "alert")
    expect(notice).to_have_text(Messages("fi")("page_gone"))
    expect(page.locator(".sq-root button").first).to_be_disabled()
    page.reload()
    expect(page.locator(".sq-who")).to_contain_text("Hiljainen Lukija", timeout=TIMEOUT)
    expect(page.locator("[data-sq-gone]")).to_be_hidden()
