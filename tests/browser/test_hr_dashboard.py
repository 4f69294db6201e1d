"""The HR dashboard in a browser: sign-in, figures against the store, a table HR can search,
sort and page, one-click downloads, screenshots, accessibility, and the offline report."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from browser_helpers import assert_accessible
from playwright.sync_api import Browser, Page, expect
from server_helpers import ROOT, Server, start_server, stop_server

from somequiz.config import settings
from somequiz.content.folder import load_content
from somequiz.course.demo import generate
from somequiz.records.database import Database
from somequiz.records.reports import Reports
from somequiz.reports.export import Filters, Tables
from somequiz.reports.roster import STATUS_LABELS

TOKEN = "test-token-hr-5f1c-pitka-henkilostotunnus"
LEARNERS = 40
SEED = 1  # every status occurs among these learners
TIMEOUT = 120_000  # the page's kernel reads the whole store before the first figure
# Demo learners and a Voilà server to set up: more than pytest's default on a busy machine.
pytestmark = pytest.mark.timeout(900)


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Environment variables set for a while (and the cached settings read again)."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    settings.cache_clear()
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        settings.cache_clear()


@pytest.fixture(scope="module")
def hr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An HR server on a store of LEARNERS demo learners."""
    results = tmp_path_factory.mktemp("hr")
    # The server's results folder, also here: completions are signed with its secret key.
    with _environ(SOMEQUIZ_RESULTS=str(results)):
        url = f"sqlite:///{results / 'somequiz.db'}"
        with Database(url, results=results) as db:
            generate(db, load_content(ROOT / "scenarios"), learners=LEARNERS, seed=SEED)
    started = start_server(
        results,
        ROOT / "scenarios",
        command="hr",
        env_extra={"SOMEQUIZ_HR_TOKEN": TOKEN},
        query=f"?token={TOKEN}",
    )
    yield started
    stop_server(started.process)


def _status(server: Server) -> pd.DataFrame:
    """Everyone's status row, computed here from the server's store."""
    with Database(server.database(), results=server.results) as db:
        return Tables(Reports(db), load_content(ROOT / "scenarios"), Filters()).status


def _open(page: Page, server: Server, width: int = 1280) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server.url}/voila/render/dashboard.ipynb?token={TOKEN}", timeout=TIMEOUT)
    expect(page.locator(".sq-hr-downloads a").first).to_be_visible(timeout=TIMEOUT)


def _figure(page: Page, kind: str) -> int:
    text = page.locator(f".sq-hr-figure-{kind} .sq-hr-figure-value").inner_text()
    return int(re.sub(r"\D", "", text))


def test_without_the_token_a_finnish_sign_in_page(hr: Server, page: Page) -> None:
    page.goto(f"{hr.url}/voila/render/dashboard.ipynb")
    expect(page.get_by_role("heading", name="Kirjaudu sisään")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "fi"
    page.get_by_label("Tunnus").fill("väärä")
    page.get_by_role("button", name="Kirjaudu").click()
    expect(page.get_by_role("alert")).to_contain_text("Tunnus ei kelpaa")
    page.get_by_label("Tunnus").fill(TOKEN)
    page.get_by_role("button", name="Kirjaudu").click()
    expect(page.locator(".sq-hr-figure").first).to_be_visible(timeout=TIMEOUT)


def test_figures_match_the_store_and_the_table_searches_sorts_and_pages(
    hr: Server, page: Page
) -> None:
    status = _status(hr)["status"]
    assert status.nunique() == len(STATUS_LABELS)  # no figure is compared as 0 == 0
    _open(page, hr)
    assert _figure(page, "people") == len(status) == LEARNERS
    assert _figure(page, "overdue") == (status == "overdue").sum()
    assert _figure(page, "passed") == (status == "passed").sum()
    assert _figure(page, "failed") == (status == "failed_final").sum()
    assert _figure(page, "recertify") == (status == "recertify").sum()
    assert _figure(page, "todo") == status.isin(["not_started", "in_progress"]).sum()
    people = page.locator(".sq-hr-paged").first
    rows = people.locator("tbody tr")
    expect(rows).to_have_count(25)
    expect(people.locator(".sq-hr-position")).to_contain_text(f"Sivu 1 / 2 · {LEARNERS} riviä")
    people.get_by_role("button", name="Seuraava sivu").click()
    expect(people.locator(".sq-hr-position")).to_contain_text("Sivu 2 / 2")
    people.get_by_label("Järjestä").select_option(label="Henkilönumero")
    people.get_by_label("Suunta").select_option(index=1)
    expect(people.locator(".sq-hr-position")).to_contain_text("Sivu 1 / 2")
    expect(rows.first.locator("td").nth(1)).to_have_text(f"D001{LEARNERS:05d}")
    people.get_by_label("Hae").fill("d00100012")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(1)).to_have_text("D00100012")
    people.get_by_label("Hae").fill("")
    late = int((status == "overdue").sum())
    people.get_by_label("Tila").select_option(label=STATUS_LABELS["overdue"])
    expect(people.locator(".sq-hr-position")).to_contain_text(f"· {late} riviä")


def test_certificate_lookup(hr: Server, page: Page) -> None:
    people = _status(hr).dropna(subset=["certificate_code"]).iloc[0]
    _open(page, hr)
    page.get_by_label("Todistuksen tarkistuskoodi").fill(people["certificate_code"])
    page.get_by_role("button", name="Tarkista").click()
    expect(page.get_by_role("status").filter(has_text="on aito")).to_contain_text(people["name"])


def test_downloads_take_one_click_and_open(hr: Server, page: Page, tmp_path: Path) -> None:
    _open(page, hr)
    link = page.locator(".sq-hr-downloads a", has_text="Excel")
    expect(link).to_contain_text(re.compile(r"\(\d+\s?kt\)"))
    with page.expect_download() as made:
        link.click()
    target = tmp_path / made.value.suggested_filename
    made.value.save_as(target)
    assert target.name == "suoritukset.xlsx"
    sheets = pd.read_excel(target, sheet_name=None)
    assert len(sheets["Suoritukset"]) == LEARNERS
    with page.expect_download() as made:
        page.locator(".sq-hr-downloads a", has_text="CSV").click()
    data = Path(made.value.path()).read_bytes()
    table = pd.read_csv(io.BytesIO(data), sep=";", encoding="utf-8-sig")
    assert len(table) == LEARNERS and "Nimi" in table


@pytest.mark.parametrize("width", [1280, 360])
def test_screens_are_accessible(hr: Server, page: Page, artifacts: Path, width: int) -> None:
    _open(page, hr, width)
    assert_accessible(page, f"hr dashboard {width}")
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": width, "height": int(height)})
    page.screenshot(path=str(artifacts / f"40-hr-dashboard-{width}.png"), full_page=True)
    # Nothing sticks out of the page sideways (wide tables scroll in their own box).
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_report_asks_nobody(hr: Server, browser: Browser, tmp_path: Path) -> None:
    from somequiz.reports.dashboard import render_report

    output = tmp_path / "raportti.html"
    with _environ(SOMEQUIZ_DB_URL=hr.database(), SOMEQUIZ_SCENARIOS=str(ROOT / "scenarios")):
        render_report(output)
    context = browser.new_context()
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    try:
        page = context.new_page()
        page.goto(output.as_uri())
        page.wait_for_load_state("networkidle")
        expect(page).to_have_title("SoMe-koulutus – HR-raportti")
        expect(page.get_by_text(re.compile(r"^Laadittu \d{1,2}\.\d{1,2}\.\d{4}$"))).to_be_visible()
        assert [u for u in urls if not u.startswith(("file:", "data:"))] == []
    finally:
        context.close()
