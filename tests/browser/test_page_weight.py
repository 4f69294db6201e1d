"""What a learner's phone downloads: compressed on the first visit, from the cache on the next;
the course at the root URL; a Finnish loading screen where the course will appear."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from browser_helpers import TIMEOUT, open_course
from playwright.sync_api import Browser, BrowserContext, Page, expect
from server_helpers import Server

from somequiz.i18n import FI
from somequiz.ui.server.page_scripts import chunk_url

LARGE = 10_000  # bytes of a script or stylesheet as the page uses it
PAGE_WEIGHT_GOAL = 1_500_000  # bytes on the wire, cold (issue 15)


@dataclass
class Traffic:
    """What Chromium's network layer saw, per request id (from the DevTools protocol)."""

    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    wire: dict[str, int] = field(default_factory=dict)
    body: dict[str, int] = field(default_factory=dict)
    cached: set[str] = field(default_factory=set)

    def assets(self) -> dict[str, dict[str, Any]]:
        """Scripts and stylesheets."""
        kinds = ("javascript", "css")
        return {
            rid: r for rid, r in self.responses.items() if any(k in r["mimeType"] for k in kinds)
        }


def _record(context: BrowserContext, page: Page) -> Traffic:
    traffic = Traffic()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on(
        "Network.responseReceived",
        lambda e: traffic.responses.update({e["requestId"]: e["response"]}),
    )
    cdp.on("Network.requestServedFromCache", lambda e: traffic.cached.add(e["requestId"]))
    cdp.on(
        "Network.dataReceived",
        lambda e: traffic.body.update(
            {e["requestId"]: traffic.body.get(e["requestId"], 0) + e["dataLength"]}
        ),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: traffic.wire.update({e["requestId"]: int(e["encodedDataLength"])}),
    )
    return traffic


@pytest.fixture
def fresh(browser: Browser) -> Iterator[BrowserContext]:
    """A context with an empty HTTP cache, as on a learner's first visit (360 px: a phone)."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    yield context
    context.close()


def test_large_assets_arrive_compressed_and_the_next_visit_uses_the_cache(
    server: Server, fresh: BrowserContext
) -> None:
    page = fresh.new_page()
    first = _record(fresh, page)
    open_course(page, server.page_url())
    large = {rid: r for rid, r in first.assets().items() if first.body.get(rid, 0) >= LARGE}
    # The joined chunks, the stylesheets, Voilà's style script, the widget extensions' entries.
    assert len(large) >= 5
    assert any("/voila/somequiz/page-scripts-" in r["url"] for r in large.values())
    plain = [
        r["url"] for r in large.values() if _header(r, "content-encoding") not in ("gzip", "br")
    ]
    assert plain == []
    assert sum(first.wire.values()) <= PAGE_WEIGHT_GOAL
    # Every asset's URL names its version: kept a year without asking the server again.
    short = [
        r["url"] for r in first.assets().values() if "immutable" not in _header(r, "cache-control")
    ]
    assert short == []

    again = fresh.new_page()
    second = _record(fresh, again)
    open_course(again, server.page_url())
    assets = second.assets()
    fetched = [r["url"] for rid, r in assets.items() if not _from_cache(second, rid, r)]
    assert len(assets) >= len(large) and fetched == []
    assert sum(second.wire.values()) < sum(first.wire.values()) / 20


# The moment the start screen's widget has taken over the screen painted as HTML.
_LIVE = """
new MutationObserver((_, observer) => {
  if (document.querySelector(".sq-root .sq-lang")
      && !document.querySelector("[data-sq-first-paint]")) {
    window.__sqLive = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true, attributes: true });
"""
_SCRIPTS_BEFORE_LIVE = """
() => performance.getEntriesByType("resource")
  .filter((e) => e.initiatorType === "script" && e.startTime < window.__sqLive)
  .map((e) => new URL(e.name).pathname)
"""


def test_the_page_fetches_no_chunk_beyond_the_joined_file(
    server: Server, fresh: BrowserContext
) -> None:
    page = fresh.new_page()
    page.add_init_script(_LIVE)
    page.goto(server.page_url())
    page.wait_for_function("() => window.__sqLive !== undefined", timeout=TIMEOUT)
    fetched = page.evaluate(_SCRIPTS_BEFORE_LIVE)
    assert any(path.startswith("/voila/somequiz/page-scripts-") for path in fetched)
    alone = [path for path in fetched if chunk_url(path)]
    assert alone == [], (
        f"the course page fetched {len(alone)} scripts one by one that the joined file lacks "
        "(Voilà or a widget package changed?): record the list again with "
        "bench/record_page_scripts.py"
    )


def _header(response: dict[str, Any], name: str) -> str:
    headers = {k.lower(): v for k, v in response["headers"].items()}
    return str(headers.get(name, ""))


def _from_cache(traffic: Traffic, rid: str, response: dict[str, Any]) -> bool:
    return bool(
        rid in traffic.cached or response.get("fromDiskCache") or response.get("fromPrefetchCache")
    )


def test_root_url_leads_to_the_course(server: Server, page: Page) -> None:
    answer = requests.get(f"{server.url}/", allow_redirects=False, timeout=10)
    assert answer.status_code == 302  # not permanent: browsers would keep it for good
    open_course(page, f"{server.url}/")
    assert page.url == server.page_url()


# The loading card's place while it shows (the page has arrived, Voilà's scripts not yet run).
_LOADING_BOX = """
document.addEventListener("DOMContentLoaded", () => {
  const card = document.querySelector("#loading .sq-card");
  const box = card && card.getBoundingClientRect();
  window.__sqLoading = box && {x: box.x, y: box.y, width: box.width,
    text: document.getElementById("loading").innerText};
});
"""


def test_loading_screen_is_finnish_and_the_course_takes_its_place(
    server: Server, fresh: BrowserContext
) -> None:
    page = fresh.new_page()
    page.add_init_script(_LOADING_BOX)
    open_course(page, server.page_url())
    loading = page.evaluate("window.__sqLoading")
    assert loading is not None, "no loading screen"
    assert "Running" not in loading["text"] and "Executing" not in loading["text"]
    assert FI["loading_hint"] in loading["text"]
    card = page.locator("#rendered_cells .sq-card").first.bounding_box(timeout=TIMEOUT)
    assert card is not None
    for key in ("x", "y", "width"):
        assert abs(card[key] - loading[key]) <= 2, (key, card, loading)
    expect(page.locator("#loading")).to_have_count(0)


def test_the_loading_bar_moves_while_the_scripts_come_over_a_slow_link(
    server: Server, fresh: BrowserContext
) -> None:
    page = fresh.new_page()
    cdp = fresh.new_cdp_session(page)
    cdp.send("Network.enable")
    # Fast 3G: the file of scripts alone takes ~5 s to arrive.
    slow = {
        "offline": False,
        "latency": 150,
        "downloadThroughput": 200_000,
        "uploadThroughput": 93_750,
    }
    cdp.send("Network.emulateNetworkConditions", slow)
    page.goto(server.page_url(), wait_until="commit")
    bar = page.locator("#loading .sq-bar")
    expect(bar).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(1000)
    early = int(bar.get_attribute("aria-valuenow") or 0)
    page.wait_for_timeout(1500)
    later = int(bar.get_attribute("aria-valuenow") or 0)
    assert page.locator("#loading").count() == 1, "the course came before the check"
    assert 10 <= early < later < 95


def test_loading_screen_comes_with_the_first_bytes(server: Server) -> None:
    words = FI["loading_course"].encode()
    received = b""
    with requests.get(server.page_url(), stream=True, timeout=30) as answer:
        for chunk in answer.iter_content(chunk_size=None):
            received += chunk
            if words in received:
                break
    # Sent before the kernel has started, not with the cells (the page config comes then).
    assert words in received and b"jupyter-config-data" not in received
