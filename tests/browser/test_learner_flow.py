"""The learner course in a real Voilà and Chromium: the whole course, resume, XSS,
keyboard, phone width, axe-core on every screen, screenshots under test-artifacts/."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from browser_helpers import (
    TIMEOUT,
    answer,
    assert_accessible,
    next_step,
    open_course,
    open_scenario,
    shot,
    sign_in,
)
from playwright.sync_api import Dialog, Page, WebSocketRoute, expect
from server_helpers import Server

XSS = "<img src=x onerror=alert(1)>"


def _first_scenario_best_answers(page: Page, artifacts: Path) -> None:
    """Play the first scenario (a single and a multiple choice step) to its summary."""
    open_scenario(page, "Väite Facebook-ryhmässä")
    shot(page, artifacts, "04-step-single")
    assert_accessible(page, "step")
    answer(page, "Kerron esimiehelleni.")
    expect(page.locator(".sq-feedback")).to_be_focused()
    expect(page.locator(".sq-verdict-title")).to_have_text("Paras ratkaisu")
    shot(page, artifacts, "05-feedback")
    assert_accessible(page, "feedback")
    next_step(page)
    expect(page.locator(".sq-step legend")).to_have_text("Mitkä pitävät paikkansa?")
    expect(page.locator(".sq-step input[type=checkbox]")).to_have_count(3)
    shot(page, artifacts, "06-step-multi")
    answer(page, "Kirjoitan omalla nimelläni.", "Viesti voi levitä laajalle.")
    next_step(page)
    expect(page.locator("h1", has_text="Yhteenveto")).to_be_visible(timeout=TIMEOUT)
    shot(page, artifacts, "07-summary")
    assert_accessible(page, "summary")


def _certificate_downloads_carry_the_code(page: Page) -> None:
    """The HTML and PDF certificates carry the code on screen, and the name as text."""
    code = page.locator(".sq-code").inner_text()
    assert len(code) == 14
    with page.expect_download() as download:
        page.locator("a[download$='.html']").click()
    certificate = Path(download.value.path()).read_text(encoding="utf-8")
    assert code in certificate and "&lt;img src=x" in certificate and XSS not in certificate
    with page.expect_download() as download:
        page.locator("a[download$='.pdf']").click()
    pdf = subprocess.run(
        ["pdftotext", download.value.path(), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert code in pdf and "<img src=x" in pdf


def test_complete_course_and_pass(page: Page, server: Server, artifacts: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 1600})
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    open_course(page, server.page_url())
    shot(page, artifacts, "01-start")
    assert_accessible(page, "start")
    page.click("form[data-action=start] button[type=submit]")  # empty form
    expect(page.locator(".sq-alert")).to_be_visible()
    shot(page, artifacts, "02-start-errors")
    assert_accessible(page, "start with errors")

    sign_in(page, XSS, employee="P200")
    expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".sq-who")).to_have_text(f"Hei, {XSS}!")
    assert page.locator("img[src=x]").count() == 0
    shot(page, artifacts, "03-overview")
    assert_accessible(page, "overview")

    _first_scenario_best_answers(page, artifacts)

    page.locator("button", has_text="Seuraava tilanne").click()
    expect(page.locator(".sq-mail-head")).to_be_visible(timeout=TIMEOUT)
    shot(page, artifacts, "08-email-scenario")
    answer(page, "Ohjaan asiakkaan turvalliseen asiointikanavaan.")
    next_step(page)
    page.locator("button", has_text="Katso kurssin tulos").click()
    expect(page.locator(".sq-certificate")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".sq-verdict-title")).to_have_text("Hyväksytty")
    _certificate_downloads_carry_the_code(page)
    shot(page, artifacts, "09-result-passed")
    assert_accessible(page, "result")
    assert dialogs == []


def test_reload_mid_scenario_resumes(page: Page, server: Server, artifacts: Path) -> None:
    open_course(page, server.page_url())
    sign_in(page, "Reload Oppija", employee="R300")
    open_scenario(page, "Väite Facebook-ryhmässä")
    answer(page, "Väittelen ryhmässä.")
    expect(page.locator(".sq-consequence")).to_have_text("Keskustelu kiihtyy.")
    page.reload()
    # The browser signed in: the reload needs no form, and offers "not me".
    expect(page.locator(".sq-info")).to_contain_text("Tervetuloa takaisin", timeout=TIMEOUT)
    expect(page.locator("button[data-action=switch]")).to_have_text(
        "Et ole Reload Oppija? Vaihda käyttäjää"
    )
    expect(page.locator(".sq-badge-in_progress")).to_have_count(1)
    page.locator("button", has_text="Jatka").click()
    expect(page.locator(".sq-step legend")).to_have_text("Mitä teet nyt?", timeout=TIMEOUT)
    expect(page.locator(".sq-step-label")).to_have_text("Kohta 2")
    shot(page, artifacts, "10-resumed")


def test_fail_and_retry(page: Page, server: Server, artifacts: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 1400})
    open_course(page, server.page_url())
    sign_in(page, "Retry Oppija", employee="F400", unit="Kotihoito")
    open_scenario(page, "Asiakkaan viesti")
    answer(page, "Vastaan julkisesti Facebookissa.")
    expect(page.locator(".sq-verdict-title")).to_have_text("Haitallinen")
    shot(page, artifacts, "11-feedback-harmful")
    next_step(page)
    expect(page.locator("h1", has_text="Yhteenveto")).to_be_visible(timeout=TIMEOUT)
    page.locator("button", has_text="Takaisin tilanteisiin").click()
    expect(page.locator(".sq-badge-failed")).to_have_count(1, timeout=TIMEOUT)
    shot(page, artifacts, "12-overview-failed")
    page.locator(".sq-scenario", has_text="Asiakkaan viesti").locator("button").click()
    answer(page, "Ohjaan asiakkaan turvalliseen asiointikanavaan.")
    next_step(page)
    expect(page.locator(".sq-verdict-title", has_text="hyväksytty")).to_be_visible()


def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element matching ``selector`` has focus."""
    for _ in range(30):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _sign_in_by_keyboard(page: Page) -> None:
    """Fill and send the start form with the keyboard only."""
    _tab_to(page, "#sq-name")
    page.keyboard.type("Näppäimistö Oppija")
    page.keyboard.press("Tab")
    page.keyboard.type("K500")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # Tab reached the units' radio group: check the first
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")


def test_keyboard_only_scenario(page: Page, server: Server, artifacts: Path) -> None:
    open_course(page, server.page_url())
    _sign_in_by_keyboard(page)
    expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)
    # The heading has focus; Tab reaches the first scenario's button.
    page.keyboard.press("Tab")
    expect(page.locator("button[data-arg=ryhma-vaite]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".sq-step legend")).to_be_visible(timeout=TIMEOUT)
    _tab_to(page, ".sq-step input[type=radio]")
    page.keyboard.press("Space")  # select the focused (first) radio
    # Arrow keys move within the group, to "Kerron esimiehelleni." wherever this
    # attempt's order put it.
    wanted = page.locator(".sq-step label").all_inner_texts().index("Kerron esimiehelleni.")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    for _ in range(wanted):
        page.keyboard.press("ArrowDown")
    expect(page.locator(".sq-step input[type=radio]").nth(wanted)).to_be_checked()
    page.keyboard.press("Tab")  # one tab stop for the whole group: on to the button
    expect(page.locator(".sq-step button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".sq-feedback")).to_be_focused(timeout=TIMEOUT)
    _tab_to(page, ".sq-feedback button[data-action=next]")
    page.keyboard.press("Enter")
    expect(page.locator(".sq-step input[type=checkbox]")).to_have_count(3, timeout=TIMEOUT)
    _tab_to(page, ".sq-step input[type=checkbox]")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    _tab_to(page, ".sq-step button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".sq-feedback")).to_be_focused(timeout=TIMEOUT)
    shot(page, artifacts, "13-keyboard-feedback")
    _tab_to(page, ".sq-feedback button[data-action=next]")
    page.keyboard.press("Enter")
    expect(page.locator("h1", has_text="Yhteenveto")).to_be_focused(timeout=TIMEOUT)


def test_language_choice(page: Page, server: Server, artifacts: Path) -> None:
    open_course(page, server.page_url())
    page.locator("button[data-action=lang][data-arg=en]").click()
    expect(page.locator("form[data-action=start] button[type=submit]")).to_have_text(
        "Start the course", timeout=TIMEOUT
    )
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.locator("button[data-arg=en]")).to_have_attribute("aria-pressed", "true")
    shot(page, artifacts, "15-start-english")
    assert_accessible(page, "start in English")
    sign_in(page, "English Learner", employee="E100")
    open_scenario(page, "Väite Facebook-ryhmässä")
    expect(page.locator(".sq-note")).to_contain_text("shown in Finnish")
    expect(page.locator(".sq-step button[type=submit]")).to_have_text("Answer")


def test_phone_width(page: Page, server: Server, artifacts: Path) -> None:
    page.set_viewport_size({"width": 360, "height": 780})
    open_course(page, server.page_url())

    def no_horizontal_scroll(screen: str) -> None:
        wide = page.evaluate(
            "() => [...document.querySelectorAll('.sq-root *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".map(e => e.className || e.tagName).slice(0, 5)"
        )
        assert wide == [], f"{screen}: wider than 360 px: {wide}"

    no_horizontal_scroll("start")
    shot(page, artifacts, "20-phone-start")
    sign_in(page, "Puhelin Oppija", employee="M600")
    expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)
    no_horizontal_scroll("overview")
    shot(page, artifacts, "21-phone-overview")
    open_scenario(page, "Väite Facebook-ryhmässä")
    no_horizontal_scroll("step")
    shot(page, artifacts, "22-phone-step")
    answer(page, "Väittelen ryhmässä.")
    no_horizontal_scroll("feedback")
    shot(page, artifacts, "23-phone-feedback")
    assert_accessible(page, "phone feedback")


def test_closed_page_frees_its_kernel(page: Page, server: Server) -> None:
    # Opened directly (no /voila/tree first): the case of voila#1458.
    time.sleep(0.5)
    before = {k.pid for k in server.kernels()}
    open_course(page, server.page_url())
    mine = {k.pid for k in server.kernels()} - before
    assert len(mine) == 1
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and mine & {k.pid for k in server.kernels()}:
        time.sleep(0.2)
    assert not mine & {k.pid for k in server.kernels()}, "the closed page's kernel still runs"


def test_first_screen_works_before_the_widgets_arrive(page: Page, server: Server) -> None:
    """The start screen is drawn as HTML before the page hears from its kernel; what the
    learner types and presses meanwhile is kept, and sent once the widget takes over."""
    held: list[str | bytes] = []
    routes: list[WebSocketRoute] = []
    released = False

    def to_page(message: str | bytes) -> None:
        if released:
            routes[0].send(message)
        else:
            held.append(message)

    def hold_kernel_replies(route: WebSocketRoute) -> None:
        routes.append(route)
        route.connect_to_server().on_message(to_page)

    page.route_web_socket(re.compile(r"/api/kernels/[^/]+/channels"), hold_kernel_replies)
    page.goto(server.page_url())
    expect(page.locator("#sq-name")).to_be_visible(timeout=TIMEOUT)
    page.fill("#sq-name", "Ennen Yhteyttä")
    page.fill("#sq-employee", "E900")
    page.get_by_role("radio", name="Hallinto", exact=True).check()
    address = page.url
    page.click("form[data-action=start] button[type=submit]")
    page.wait_for_timeout(1000)
    # The page has had no word from its kernel: still the painted screen, no page load.
    assert len(routes) == 1 and held, "the kernel's replies were not held"
    expect(page.locator("[data-sq-first-paint]")).to_have_count(1)
    assert page.url == address
    expect(page.locator("#sq-name")).to_have_value("Ennen Yhteyttä")

    released = True
    for message in held:
        routes[0].send(message)
    expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".sq-who")).to_have_text("Hei, Ennen Yhteyttä!")
    # Redrawn in the widget's own place, the painted copy gone.
    expect(page.locator(".sq-root")).to_have_count(1)
    expect(page.locator(".sq-page .sq-root")).to_have_count(1)
