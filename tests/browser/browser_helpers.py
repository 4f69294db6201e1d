"""Playwright steps shared by the browser tests."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

# The kernel websocket client is shared with the load simulator in bench/.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from kernel_ws import KernelSocket

__all__ = ["KernelSocket"]

TIMEOUT = 30_000
_AXE = Axe()


def open_course(page: Page, url: str) -> None:
    """Load a course page and wait until the start form is interactive."""
    page.goto(url)
    expect(page.locator("#sq-name")).to_be_visible(timeout=TIMEOUT)


def sign_in(page: Page, name: str, employee: str = "B100", unit: str = "Hallinto") -> None:
    """Fill the start form and send it."""
    page.fill("#sq-name", name)
    page.fill("#sq-employee", employee)
    page.get_by_role("radio", name=unit, exact=True).check()
    page.click("form[data-action=start] button[type=submit]")


def open_scenario(page: Page, title: str) -> None:
    """Press the overview button of the scenario with ``title``."""
    page.locator(".sq-scenario", has_text=title).locator("button").click()
    expect(page.locator(".sq-step legend")).to_be_visible(timeout=TIMEOUT)


def answer(page: Page, *labels: str) -> None:
    """Pick the options with these texts and submit; waits for the feedback."""
    for label in labels:
        page.locator(".sq-step label", has_text=label).click()
    page.locator(".sq-step button[type=submit]").click()
    expect(page.locator(".sq-feedback .sq-verdict")).to_be_visible(timeout=TIMEOUT)


def next_step(page: Page) -> None:
    """Press the button under the feedback."""
    page.locator(".sq-feedback button[data-action=next]").click()


def shot(page: Page, folder: Path, name: str) -> None:
    """Save a screenshot of the whole course area."""
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def assert_accessible(page: Page, screen: str) -> None:
    """axe-core finds no serious or critical violation on the page."""
    results = _AXE.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert not bad, f"{screen}: {bad}"


def page_socket(page: Page, base_url: str) -> KernelSocket:
    """A raw websocket to the page's kernel, sent with the page's own cookies (its browser)."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return KernelSocket(base_url, kernel_id(page), cookies=cookies)


def kernel_id(page: Page) -> str:
    """The page's kernel id, from the page config Voilà writes into the HTML."""
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.content())
    assert found, "no kernel id in the page"
    return found.group(1)
