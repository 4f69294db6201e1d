"""A crashed server loses nothing: kill -9 mid-course, restart, resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import TIMEOUT, answer, next_step, open_course, open_scenario, shot, sign_in
from playwright.sync_api import Page, expect
from server_helpers import start_server, stop_server


def test_kill_server_mid_course_and_resume(
    page: Page, tmp_path_factory: pytest.TempPathFactory, artifacts: Path
) -> None:
    results = tmp_path_factory.mktemp("restart")
    first = start_server(results)
    try:
        open_course(page, first.page_url())
        sign_in(page, "Kaatuja Oppija", employee="C900")
        open_scenario(page, "Väite Facebook-ryhmässä")
        answer(page, "Kerron esimiehelleni.")
        next_step(page)
        expect(page.locator(".sq-step legend")).to_have_text(
            "Mitkä pitävät paikkansa?", timeout=TIMEOUT
        )
        before = page.locator(".sq-step label").all_inner_texts()
    finally:
        stop_server(first.process, hard=True)
    second = start_server(results)
    try:
        # The browser's signed cookie and the stored session survive the crash: no form.
        page.goto(second.page_url())
        page.locator("button", has_text="Jatka").click(timeout=TIMEOUT)
        expect(page.locator(".sq-step legend")).to_have_text(
            "Mitkä pitävät paikkansa?", timeout=TIMEOUT
        )
        # The attempt's own order of choices, the same after the restart and a reload.
        assert page.locator(".sq-step label").all_inner_texts() == before
        page.reload()
        page.locator("button", has_text="Jatka").click(timeout=TIMEOUT)
        expect(page.locator(".sq-step legend")).to_have_text(
            "Mitkä pitävät paikkansa?", timeout=TIMEOUT
        )
        assert page.locator(".sq-step label").all_inner_texts() == before
        shot(page, artifacts, "14-resumed-after-crash")
    finally:
        stop_server(second.process)
