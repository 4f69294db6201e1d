"""The trainer studio in a browser: broken files, reload, the learner preview, coverage, a11y."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import assert_accessible
from playwright.sync_api import Page, expect
from server_helpers import ROOT, Server, start_server, stop_server

TOKEN = "test-token-7d2e-kouluttajan-studio-tunnus"
BROKEN = "kerro-omasta-tyosta.yaml"
TIMEOUT = 90_000


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped content; the tests break and mend one file in it."""
    target = tmp_path_factory.mktemp("content") / "scenarios"
    shutil.copytree(ROOT / "scenarios", target)
    return target


@pytest.fixture(scope="module")
def trainer(tmp_path_factory: pytest.TempPathFactory, folder: Path) -> Iterator[Server]:
    started = start_server(
        tmp_path_factory.mktemp("trainer"),
        folder,
        command="trainer",
        env_extra={"SOMEQUIZ_TRAINER_TOKEN": TOKEN},
        query=f"?token={TOKEN}",
    )
    yield started
    stop_server(started.process)


def _break(folder: Path) -> None:
    """The typical slip: a key indented six spaces instead of eight (line 60)."""
    text = (ROOT / "scenarios" / BROKEN).read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[59] == "        severity: acceptable"
    lines[59] = "      severity: acceptable"
    (folder / BROKEN).write_text("\n".join(lines), encoding="utf-8")


def _mend(folder: Path) -> None:
    shutil.copy(ROOT / "scenarios" / BROKEN, folder / BROKEN)


def _open(page: Page, trainer: Server, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{trainer.url}/voila/render/studio.ipynb?token={TOKEN}", timeout=TIMEOUT)
    expect(page.locator(".sq-studio-status .sq-note")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".sq-preview .sq-situation")).to_be_visible(timeout=TIMEOUT)


def _reload(page: Page) -> None:
    before = page.locator(".sq-studio-status").inner_text()
    page.get_by_role("button", name="Lataa uudelleen").click()
    expect(page.locator(".sq-studio-status")).not_to_have_text(before, timeout=TIMEOUT)


def test_studio_opens_broken_files_and_names_the_version_after_reload(
    trainer: Server, folder: Path, page: Page, artifacts: Path
) -> None:
    _break(folder)
    _open(page, trainer, 1280)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Tiedostoissa on 1 virhe.")
    expect(alert).to_contain_text(
        f"{BROKEN}:60: rivi 60 on sisennetty 6 välilyönnillä, odotettiin 8 (kuten rivillä 51)"
    )
    status = page.get_by_role("status").filter(has_text="Näytetään")
    expect(status).to_contain_text("kurssin skenaariota: ne, joissa ei ole virheitä")
    # The learner's screen with the best answer marked, and the graph, readable at full size.
    expect(page.locator(".sq-preview-key-tag").first).to_have_text("Paras vastaus")
    expect(page.get_by_text("Paras polku:")).to_be_visible()
    expect(page.locator(".sq-studio-graph svg .node").first).to_be_visible()
    assert_accessible(page, "studio with a broken file, 1280 px")
    page.screenshot(path=str(artifacts / "studio-broken-1280.png"), full_page=True)

    _mend(folder)
    _reload(page)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(status).to_contain_text("Näytetään tiedostot sellaisina kuin ne luettiin klo")

    _break(folder)
    _reload(page)
    expect(page.get_by_role("alert")).to_contain_text("rivi 60 on sisennetty 6 välilyönnillä")
    expect(status).to_contain_text("Näytetään viimeisin toimiva versio, joka luettiin klo")
    page.screenshot(path=str(artifacts / "studio-reloaded-broken-1280.png"), full_page=False)
    _mend(folder)


def test_coverage_is_in_course_order_with_titles(
    trainer: Server, page: Page, artifacts: Path
) -> None:
    _open(page, trainer, 1280)
    page.get_by_role("tab", name="Kattavuus").click()
    legend = page.locator(".sq-studio-legend li")
    expect(legend.first).to_have_text("Toimittaja soittaa päivityksestäsi")
    expect(page.get_by_role("region", name="Sääntöjen kattavuus skenaarioittain")).to_be_visible()
    assert_accessible(page, "studio coverage tab")
    page.screenshot(path=str(artifacts / "studio-coverage-1280.png"), full_page=False)


def test_studio_on_a_phone(trainer: Server, folder: Path, page: Page, artifacts: Path) -> None:
    _break(folder)
    try:
        _open(page, trainer, 360)
        expect(page.get_by_role("alert")).to_contain_text("Tiedostoissa on 1 virhe.")
        # Wide things (graph, tables) scroll in their own regions; the page does not.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width
        assert_accessible(page, "studio with a broken file, 360 px")
        page.screenshot(path=str(artifacts / "studio-broken-360.png"), full_page=True)
    finally:
        _mend(folder)
