"""HR and trainer servers: separate Voilà instances that refuse anyone without the token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect
from server_helpers import ROOT, Server, start_server, stop_server

TOKEN = "test-token-5f1c-kouluttajan-pitka-tunnus"


@pytest.fixture(scope="module")
def trainer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_server(
        tmp_path_factory.mktemp("trainer"),
        ROOT / "scenarios",
        command="trainer",
        env_extra={"SOMEQUIZ_TRAINER_TOKEN": TOKEN},
        query=f"?token={TOKEN}",
    )
    yield started
    stop_server(started.process)


def test_trainer_server_needs_the_token(trainer: Server) -> None:
    page = f"{trainer.url}/voila/render/studio.ipynb"
    anonymous = requests.get(page, timeout=30, allow_redirects=False)
    assert anonymous.status_code in {302, 403}
    assert "Kouluttajan" not in anonymous.text
    wrong = requests.get(f"{page}?token=wrong", timeout=30, allow_redirects=False)
    assert wrong.status_code in {302, 403}
    for private in ("../hr/dashboard.ipynb", "../learner/kurssi.ipynb"):
        response = requests.get(f"{trainer.url}/voila/render/{private}?token={TOKEN}", timeout=30)
        assert response.status_code == 404


def test_trainer_sees_graph_and_coverage(trainer: Server, page: Page, artifacts: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{trainer.url}/voila/render/studio.ipynb?token={TOKEN}", timeout=90_000)
    expect(page.locator("svg .node").first).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Paras polku:")).to_be_visible()
    page.get_by_role("tab", name="Kattavuus").click()
    expect(page.get_by_text("rooli-tiedosta").first).to_be_visible()
    page.screenshot(path=str(artifacts / "30-trainer-studio.png"), full_page=True)


def test_studio_page_loads_every_time(trainer: Server, browser: Browser) -> None:
    # Voilà's wait for the studio cell's reply sometimes never ended (a missed wake-up of
    # its socket: somequiz.ui.server.kernel_client.PatientChannel); 1 to 4 of 25-30 loads hung.
    for _ in range(8):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{trainer.url}/voila/render/studio.ipynb?token={TOKEN}", timeout=30_000)
            expect(page.locator("svg .node").first).to_be_visible(timeout=30_000)
            page.close(run_before_unload=True)  # the beacon frees the page's kernel
            if not page.is_closed():
                page.wait_for_event("close")
        finally:
            context.close()
