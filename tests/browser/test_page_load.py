"""The course page's script is fetched while the server still waits for the page's kernel."""

from __future__ import annotations

from browser_helpers import open_course
from playwright.sync_api import Page
from server_helpers import Server

TIMINGS = r"""() => {
  const VOILA_JS = /^\/voila\/static\/(v-[0-9a-f]+\/)?voila\.js$/;  // versioned prefix
  const page = performance.getEntriesByType("navigation")[0];
  const scripts = performance.getEntriesByType("resource")
    .filter((entry) => VOILA_JS.test(new URL(entry.name).pathname));
  return {responseEnd: page.responseEnd, starts: scripts.map((entry) => entry.startTime)};
}"""


def test_voila_script_is_fetched_before_the_page_has_arrived(server: Server, page: Page) -> None:
    open_course(page, server.page_url())
    timings = page.evaluate(TIMINGS)
    # Once (the preload in the page head is used, not fetched twice), and before the page's
    # last byte: the server sends the head at once, the cells only after the kernel's start.
    assert len(timings["starts"]) == 1
    assert timings["starts"][0] < timings["responseEnd"]
