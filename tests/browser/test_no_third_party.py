"""The learner's pages load from the course server only: no public CDN is asked for anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from browser_helpers import TIMEOUT, open_course
from playwright.sync_api import Browser, BrowserContext, Page
from server_helpers import Server

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# src/href attributes and JavaScript imports that name another host.
_OFF_MACHINE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|import\(\s*["']https?://""")


@pytest.fixture
def recorded(browser: Browser) -> Iterator[tuple[BrowserContext, list[str]]]:
    """A context that lets every request through (unlike conftest's ``context``) and logs it."""
    context = browser.new_context()
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    yield context, urls
    context.close()


def _off_machine(urls: list[str]) -> list[str]:
    """The URLs that would leave this machine (blob: and data: URLs never do)."""
    outside = []
    for url in urls:
        if url.startswith(("data:", "about:")):
            continue
        if urlsplit(url.removeprefix("blob:")).hostname not in LOCAL_HOSTS:
            outside.append(url)
    return outside


def _open(context: BrowserContext, sockets: list[str]) -> Page:
    page = context.new_page()
    page.on("websocket", lambda socket: sockets.append(socket.url))
    return page


def test_course_page_asks_only_this_server(
    server: Server, recorded: tuple[BrowserContext, list[str]]
) -> None:
    context, urls = recorded
    sockets: list[str] = []
    page = _open(context, sockets)
    open_course(page, server.page_url())  # the start form is visible and interactive
    page.fill("#sq-name", "Testi Henkilö")
    page.wait_for_load_state("networkidle", timeout=TIMEOUT)
    # The page loaded: Voilà's script, the joined chunks, the widget extensions' entries.
    assert any("/voila/static/" in u for u in urls)
    assert any("/voila/somequiz/page-scripts-" in u for u in urls)
    assert any("/voila/labextensions/" in u for u in urls)
    assert sockets and _off_machine(sockets) == []
    assert _off_machine(urls) == []


def test_icons_still_come_from_voilas_own_bundle(
    server: Server, recorded: tuple[BrowserContext, list[str]]
) -> None:
    """Font Awesome (ipywidgets' button icons, v4 names too) is in Voilà's voila-style.js."""
    context, urls = recorded
    page = _open(context, [])
    open_course(page, server.page_url())
    family, loaded = page.evaluate(
        """async () => {
            const icon = document.createElement("i");
            icon.className = "fa fa-refresh";
            document.body.appendChild(icon);
            const family = getComputedStyle(icon, "::before").fontFamily;
            await document.fonts.load('900 16px "Font Awesome 5 Free"');
            return [family, document.fonts.check('900 16px "Font Awesome 5 Free"')];
        }"""
    )
    assert "Font Awesome" in family and loaded
    assert _off_machine(urls) == []


@pytest.mark.parametrize("path", ["/voila/tree", "/voila/render/ei-ole.ipynb"])
def test_listing_and_error_pages_ask_only_this_server(
    server: Server, recorded: tuple[BrowserContext, list[str]], path: str
) -> None:
    context, urls = recorded
    page = context.new_page()
    page.goto(server.url + path)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT)
    assert urls and _off_machine(urls) == []


@pytest.mark.parametrize(
    "path", ["/voila/render/kurssi.ipynb", "/voila/tree", "/voila/render/ei-ole.ipynb"]
)
def test_html_names_no_other_host(server: Server, path: str) -> None:
    html = requests.get(server.url + path, timeout=60).text
    assert "cdn." not in html and "cdnjs" not in html
    assert _OFF_MACHINE.findall(html) == []


def test_course_styles_come_with_the_page(server: Server, page: Page) -> None:
    """somequiz.css is linked from the template's head, so the first screen painted as HTML
    is styled before its widget (which carries the same file) arrives."""
    responses: list[tuple[str, int]] = []
    page.on("response", lambda r: responses.append((r.url, r.status)))
    open_course(page, server.page_url())
    assert any("/somequiz/static/somequiz.css" in url and code == 200 for url, code in responses)
    rules = page.evaluate(
        """() => {
            const link = document.head.querySelector('link[href*="somequiz/static/somequiz.css"]');
            return link && link.sheet ? link.sheet.cssRules.length : 0;
        }"""
    )
    assert rules > 50
