"""The learner page driven in-process: signing in – the start form, single sign-on, the
roster's names, a returning learner – and what a typed name may carry."""

from __future__ import annotations

import base64
import re
from datetime import date

from records_helpers import Records
from ui_helpers import (
    IDENTITY,
    XSS,
    App,
    answer,
    next_step,
    play,
    second_try_answered,
    sign_in,
)

from somequiz.content.folder import Content
from somequiz.records.rows import RosterEntry
from somequiz.ui.identity import configured_headers, sso_identity


def test_start_form_requires_name_employee_number_and_unit(make_app: App) -> None:
    app = make_app()
    app.dispatch({"action": "start", "fields": {"name": " ", "employee_number": "", "unit": "x"}})
    assert app.screen_name == "start"
    assert set(app.form_errors) == {"name", "employee_number", "unit"}
    assert 'aria-invalid="true"' in app.header.html
    assert app.course.learner is None


def test_units_are_a_radio_group_that_keeps_the_choice(make_app: App, ui_content: Content) -> None:
    # Radios, not a <select>: every unit visible at once, and a select's first layout cost
    # ~25 ms of the page's time-to-interactive in Chromium (bench/README.md).
    app = make_app()
    chosen = ui_content.course.unit_names[1]
    app.dispatch({"action": "start", "fields": {"name": "", "employee_number": "", "unit": chosen}})
    html = app.header.html
    assert "<select" not in html and "<legend>" in html.split('class="sq-field sq-radios"')[1]
    radios = re.findall(r'<input type="radio" name="unit" value="([^"]*)"[^>]*>', html)
    assert radios == ui_content.course.unit_names
    checked = re.findall(r'<input type="radio" name="unit" value="([^"]*)" required checked', html)
    assert checked == [chosen]
    app.dispatch({"action": "start", "fields": {"name": "A", "employee_number": "", "unit": ""}})
    described = re.findall(
        r'name="unit"[^>]*aria-invalid="true" aria-describedby="sq-unit-err"', app.header.html
    )
    assert len(described) == len(ui_content.course.units) and 'id="sq-unit-err"' in app.header.html


def test_learner_text_is_escaped(make_app: App) -> None:
    app = make_app()
    sign_in(app, name=XSS)
    assert app.screen_name == "overview"
    assert XSS not in app.header.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in app.header.html


def test_escaped_on_the_start_form_too(make_app: App) -> None:
    app = make_app()
    app.dispatch({"action": "start", "fields": {"name": XSS, "employee_number": "", "unit": ""}})
    assert app.screen_name == "start"
    assert XSS not in app.header.html


def test_single_sign_on_identity_is_not_typed(make_app: App, sqlite_store: Records) -> None:
    environ = {
        "SOMEQUIZ_IDENTITY_HEADER": "X-Remote-User",
        "SOMEQUIZ_IDENTITY_NAME_HEADER": "X-Remote-Name",
        "HTTP_X_REMOTE_USER": "maija.m",
        "HTTP_X_REMOTE_NAME": "Maija <b>Meikäläinen</b>",
    }
    app = make_app(sso=sso_identity(environ))
    assert 'id="sq-name"' not in app.header.html
    assert "Maija &lt;b&gt;Meikäläinen&lt;/b&gt;" in app.header.html
    app.dispatch({"action": "start", "fields": {"name": "Joku Muu", "unit": "Kotihoito"}})
    assert app.course.learner is not None and app.course.learner.key == "sso:maija.m"
    assert app.course.learner.name == "Maija <b>Meikäläinen</b>"
    assert sso_identity({"SOMEQUIZ_IDENTITY_HEADER": "X-Remote-User"}) is None
    assert configured_headers(environ) == ["X-Remote-User", "X-Remote-Name"]


def test_a_known_number_with_another_name_neither_continues_nor_renames(
    make_app: App, sqlite_store: Records
) -> None:
    owner = make_app()
    sign_in(owner)
    owner.dispatch({"action": "open", "arg": "ryhma-vaite"})
    answer(owner, 0)
    intruder = make_app()
    sign_in(intruder, name="Joku Muu")
    assert intruder.screen_name == "start" and intruder.course.learner is None
    assert "eivät vastaa tallennettuja tietoja" in intruder.header.html
    assert "Tällä henkilönumerolla on kurssilla eri nimi." in intruder.header.html
    found = sqlite_store.admin.find_learner(IDENTITY["employee_number"])
    assert found is not None and found.name == IDENTITY["name"]
    same = make_app()
    sign_in(same, name="  testi   OPPIJA ")  # case and spacing aside, the same name
    assert same.screen_name == "overview" and same.course.learner is not None
    assert same.course.learner.name == IDENTITY["name"]


def test_the_roster_name_is_the_one_that_signs_in(make_app: App, sqlite_store: Records) -> None:
    sqlite_store.admin.import_roster(
        [RosterEntry("T100", "Testi Oppija-Virta", "Hallinto", date(2026, 1, 5))]
    )
    wrong = make_app()
    sign_in(wrong)  # the name typed before HR changed it
    assert wrong.course.learner is None
    right = make_app()
    sign_in(right, name="testi oppija-virta")
    assert right.course.learner is not None and right.course.learner.name == "Testi Oppija-Virta"


def test_spent_tries_are_not_renewed_by_signing_in_again(make_app: App) -> None:
    app = make_app()
    second_try_answered(app)
    next_step(app)
    app.dispatch({"action": "result"})
    assert app.course.completion is not None and not app.course.completion.passed
    again = make_app()
    sign_in(again)
    assert again.screen_name == "returned" and again.course.attempt is None
    assert "Yrityskerrat on käytetty" in again.header.html
    assert 'data-action="again"' not in again.header.html
    again.dispatch({"action": "again"})  # forged: nothing to start
    again.dispatch({"action": "open", "arg": "ryhma-vaite"})
    assert again.course.attempt is None and again.screen_name == "returned"


def test_a_typed_identity_is_marked_on_the_certificate(make_app: App) -> None:
    app = make_app()
    sign_in(app)
    play(app, "ryhma-vaite")
    play(app, "asiakas-viesti")
    app.dispatch({"action": "result"})
    found = re.search(r'href="data:text/html;charset=utf-8;base64,([^"]+)"', app.header.html)
    assert found is not None
    certificate = base64.b64decode(found.group(1)).decode("utf-8")
    assert "ilmoitettu itse" in certificate


def test_a_reload_in_the_same_browser_needs_no_sign_in(make_app: App) -> None:
    first = make_app(browser="selain-1")
    sign_in(first)
    first.dispatch({"action": "open", "arg": "ryhma-vaite"})
    answer(first, 0)
    reloaded = make_app(browser="selain-1")
    assert reloaded.screen_name == "overview" and reloaded.course.learner is not None
    assert reloaded.course.learner.name == IDENTITY["name"]
    assert "Et ole Testi Oppija? Vaihda käyttäjää" in reloaded.header.html
    assert "Jatka" in reloaded.header.html  # the scenario begun in the first page
    assert "Tervetuloa takaisin" in reloaded.header.html
    elsewhere = make_app(browser="selain-2")
    assert elsewhere.screen_name == "start" and elsewhere.course.learner is None
    reloaded.dispatch({"action": "switch"})
    assert reloaded.screen_name == "start" and reloaded.course.learner is None
    assert 'value="Testi Oppija"' not in reloaded.header.html
    again = make_app(browser="selain-1")
    assert again.screen_name == "start"  # "not me" forgot the browser


def test_only_languages_the_course_has_are_offered_and_units_are_translated(
    make_app: App, content: Content
) -> None:
    app = make_app(content)
    assert 'data-arg="en"' in app.header.html and 'data-arg="sv"' not in app.header.html
    app.dispatch({"action": "lang", "arg": "sv"})  # not offered: ignored
    assert app.lang == "fi"
    app.dispatch({"action": "lang", "arg": "en"})
    # mypy keeps app.lang narrowed to "fi" across the dispatch that changes it.
    assert app.lang == "en"  # type: ignore[comparison-overlap]
    assert "Early childhood education</label>" in app.header.html
    assert 'value="Varhaiskasvatus"' in app.header.html  # stored by its Finnish name


def test_invisible_controls_are_removed_from_typed_names(make_app: App) -> None:
    app = make_app()
    # A right-to-left override and zero-width joiners would make "Testi Oppija" look different.
    sign_in(app, name="Te\u200dsti\u202e Op\u200bpija", employee_number="Z900")
    assert app.course.learner is not None and app.course.learner.name == "Testi Oppija"
