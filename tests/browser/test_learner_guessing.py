"""A content-blind learner fails the shipped course in the browser: choices are shuffled per
attempt, and "always the first option" no longer finds the best answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import TIMEOUT, next_step, open_course, shot, sign_in
from playwright.sync_api import Page, expect
from server_helpers import ROOT, Server, start_server, stop_server

from somequiz.content.folder import load_content

SHIPPED = ROOT / "scenarios"


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A learner server on the real course content."""
    started = start_server(tmp_path_factory.mktemp("results"), SHIPPED)
    yield started
    stop_server(started.process)


def _play_first_options(page: Page) -> int:
    """Answer every step of the open scenario with the first option shown; steps answered."""
    steps = 0
    while page.locator(".sq-step legend").count():
        page.locator(".sq-step label").first.click()
        page.locator(".sq-step button[type=submit]").click()
        expect(page.locator(".sq-feedback .sq-verdict")).to_be_visible(timeout=TIMEOUT)
        steps += 1
        next_step(page)
        expect(page.locator(".sq-feedback .sq-verdict")).to_have_count(0, timeout=TIMEOUT)
    return steps


def test_always_the_first_option_fails_the_whole_course(
    page: Page, shipped_server: Server, artifacts: Path
) -> None:
    page.set_viewport_size({"width": 1280, "height": 1400})
    content = load_content(SHIPPED)
    open_course(page, shipped_server.page_url())
    sign_in(page, "Arvaaja Ensimmäinen", employee="G100", unit=content.course.unit_names[0])
    expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)
    steps = 0
    for _ in content.course.scenarios:
        page.locator(".sq-scenario button.sq-primary").click()
        expect(page.locator(".sq-step legend")).to_be_visible(timeout=TIMEOUT)
        steps += _play_first_options(page)
        expect(page.locator("h1", has_text="Yhteenveto")).to_be_visible(timeout=TIMEOUT)
        page.locator("button[data-action=overview]").first.click()
        expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)
    assert steps >= 3 * len(content.course.scenarios)
    page.locator("button[data-action=result]").click()
    expect(page.locator(".sq-verdict-title").first).to_have_text("Ei vielä hyväksytty")
    expect(page.locator(".sq-certificate")).to_have_count(0)
    shot(page, artifacts, "guess-first-option-result")
