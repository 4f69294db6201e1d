"""The learner page driven in-process: flow, resume, integrity and errors."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from records_helpers import Records
from ui_helpers import (
    IDENTITY,
    answer,
    best_indices,
    index_of,
    next_step,
    play,
    retry,
    sign_in,
    worst_indices,
)

from somequiz.content.folder import Content
from somequiz.errors import StoreError
from somequiz.records.rows import RosterEntry
from somequiz.ui.identity import configured_headers, sso_identity
from somequiz.ui.service.session import LearnerSession

App = Callable[..., LearnerSession]
XSS = "<img src=x onerror=alert(1)>"


def _stored(store: Records, content: Content) -> list[tuple[str, str, tuple[str, ...]]]:
    learner = store.course.learner(
        name=IDENTITY["name"], employee_number=IDENTITY["employee_number"], unit="Hallinto"
    )
    attempt = store.course.open_attempt(learner.id, content.course.id)
    assert attempt is not None
    return [(a.scenario_id, a.step_id, a.chosen) for a in store.course.answers(attempt.id)]


def _secrets(content: Content) -> list[str]:
    """Strings that must not reach the browser before an answer: feedback, ids, rules."""
    found = []
    for scenario in content.scenarios.values():
        for step in scenario.steps:
            for choice in step.choices:
                found += [choice.feedback.fi, f'"{choice.id}"']
                if choice.consequence:
                    found.append(choice.consequence.fi)
        found += [e.text.fi for e in scenario.endings]
    return found


def _all_state(app: LearnerSession) -> str:
    """Everything the service sends to the page's kernel (and so to the browser)."""
    return json.dumps(app.snapshot(), ensure_ascii=False)


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


def test_complete_course_and_pass(
    make_app: App, sqlite_store: Records, ui_content: Content
) -> None:
    app = make_app()
    sign_in(app)
    for sid in ui_content.course.scenarios:
        play(app, sid)
        assert app.screen_name == "summary"
    app.dispatch({"action": "result"})
    assert app.screen_name == "result"
    assert app.course.completion is not None and app.course.completion.passed
    code = app.course.completion.certificate_code
    assert code is not None and code in app.header.html
    assert "data:text/html;charset=utf-8;base64," in app.header.html
    pdf = re.search(r'href="data:application/pdf;base64,([^"]+)"', app.header.html)
    assert pdf is not None
    assert base64.b64decode(pdf.group(1)).startswith(b"%PDF")
    assert sqlite_store.course.completion(app.course.completion.attempt_id) is not None


def test_answer_is_stored_before_feedback(
    make_app: App, sqlite_store: Records, ui_content: Content
) -> None:
    app = make_app()
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    assert app.step.feedback_html == ""
    answer(app, *index_of(app, "kerro-esimiehelle"))
    assert app.step.feedback_html
    assert _stored(sqlite_store, ui_content) == [
        ("ryhma-vaite", "ensimmainen", ("kerro-esimiehelle",))
    ]


def test_store_failure_keeps_progress_and_shows_a_code(
    make_app: App,
    sqlite_store: Records,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})

    def broken(**_: object) -> None:
        raise StoreError("levy täynnä")

    monkeypatch.setattr(sqlite_store.course, "record_answer", broken)
    with caplog.at_level(logging.ERROR, logger="somequiz.ui"):
        answer(app, 0)
    assert not app.step.answered and app.step.feedback_html == ""
    assert "Virhekoodi" in app.step.error
    code = app.step.error.rsplit(" ", 1)[-1]
    assert any(code in r.getMessage() and r.exc_info for r in caplog.records)
    assert app.course.run is not None and not app.course.run.runs["ryhma-vaite"].feedback
    monkeypatch.undo()
    answer(app, 0)  # the same step can be answered once the store is back
    assert app.step.answered


def test_unexpected_error_in_a_callback_is_caught(
    make_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    sign_in(app)

    def boom(_sid: str) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(app.course, "open", boom)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    assert "Virhekoodi" in app.header.html and 'role="alert"' in app.header.html
    assert app.screen_name == "overview"


def test_reload_resumes_at_the_next_step(make_app: App, ui_content: Content) -> None:
    first = make_app()
    sign_in(first)
    first.dispatch({"action": "open", "arg": "ryhma-vaite"})
    answer(first, *index_of(first, "vaittele"))  # the harmful choice branches to "korjaus"
    second = make_app()  # a reload: a new kernel, same store
    sign_in(second)
    assert "Jatka" in second.header.html
    second.dispatch({"action": "open", "arg": "ryhma-vaite"})
    assert second.ref is not None and second.ref.step_id == "korjaus"
    assert second.step.prompt == "Mitä teet nyt?"


def test_fail_then_retry_then_pass(make_app: App, sqlite_store: Records) -> None:
    app = make_app()
    sign_in(app)
    play(app, "ryhma-vaite")
    play(app, "asiakas-viesti", best=False)
    app.dispatch({"action": "result"})
    assert app.course.completion is None  # a retry is still possible
    assert 'data-action="retry"' in app.header.html
    retry(app, "asiakas-viesti")
    assert app.screen_name == "scenario" and app.ref is not None and app.ref.scenario_try == 2
    answer(app, *best_indices(app, app.content.scenarios["asiakas-viesti"]))
    next_step(app)
    app.dispatch({"action": "result"})
    completion = app.course.completion
    assert completion is not None and completion.passed
    again = make_app()
    sign_in(again)  # passed before: the result is shown, a new attempt only on request
    assert again.screen_name == "returned" and again.course.attempt is None
    day = completion.completed_at
    assert f"Suoritit kurssin {day.day}.{day.month}.{day.year}" in again.header.html
    assert completion.certificate_code and completion.certificate_code in again.header.html
    again.dispatch({"action": "again"})
    assert again.screen_name == "overview" and again.course.attempt is not None
    assert again.course.attempt.id != completion.attempt_id


def _second_try_answered(app: LearnerSession) -> None:
    """Sign in, pass one scenario, fail the other and answer its second (last) try."""
    sign_in(app)
    play(app, "ryhma-vaite")
    play(app, "asiakas-viesti", best=False)
    retry(app, "asiakas-viesti")
    answer(app, *worst_indices(app, app.content.scenarios["asiakas-viesti"]))


def test_attempts_used_up_records_a_failed_completion(make_app: App) -> None:
    app = make_app()
    _second_try_answered(app)
    next_step(app)
    retry(app, "asiakas-viesti")  # max_attempts is 2: refused
    assert app.screen_name == "summary"
    app.dispatch({"action": "result"})
    completion = app.course.completion
    assert completion is not None and not completion.passed
    assert completion.certificate_code is None and "Tarkistuskoodi" not in app.header.html
    assert "Tilanne ”Asiakkaan viesti” on läpäistävä" in app.header.html
    assert "Yrityskerrat on käytetty" in app.header.html


def test_retries_survive_a_reload(make_app: App) -> None:
    _second_try_answered(make_app())
    reloaded = make_app()
    sign_in(reloaded)
    assert reloaded.course.run is not None
    assert reloaded.course.run.attempts["asiakas-viesti"] == 2
    assert not reloaded.course.run.can_retry("asiakas-viesti")


def test_page_state_holds_no_answer_key_before_submit(make_app: App, ui_content: Content) -> None:
    app = make_app()
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    state = _all_state(app)
    for secret in _secrets(ui_content):
        assert secret not in state
    for word in ("severity", "points", "Haitallinen", "Paras ratkaisu", "rules"):
        assert word not in state
    assert [c["id"] for c in app.step.choices] == ["0", "1"]


def test_forged_messages_change_nothing(
    make_app: App, sqlite_store: Records, ui_content: Content
) -> None:
    app = make_app()
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})  # before sign-in
    assert app.screen_name == "start"
    sign_in(app)
    app.dispatch({"action": "open", "arg": "not-in-course"})
    app.dispatch({"action": "result"})  # course not finished
    app.dispatch({"action": "retry", "arg": "ryhma-vaite"})  # nothing to retry
    app.dispatch({"action": "start", "fields": {**IDENTITY, "name": "Toinen"}})  # already in
    assert app.course.learner is not None and app.course.learner.name == IDENTITY["name"]
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    token = app.step.token
    app.dispatch_step({"type": "next", "token": token})  # next before answering
    app.dispatch_step({"type": "submit", "token": "forged", "chosen": ["0"]})
    app.dispatch_step({"type": "submit", "token": token, "chosen": ["99"]})
    app.dispatch_step({"type": "submit", "token": token, "chosen": ["0", "1"]})
    app.dispatch_step({"type": "submit", "token": token, "chosen": "0"})
    app.dispatch_step({"type": "submit", "token": token, "chosen": []})
    app.dispatch_step({"type": "submit", "token": token, "chosen": ["kerro-esimiehelle"]})
    app.dispatch_step("garbage")
    app.dispatch(["garbage"])
    assert not app.step.answered
    assert _stored(sqlite_store, ui_content) == []
    answer(app, *index_of(app, "vaittele"))
    app.dispatch_step({"type": "submit", "token": token, "chosen": ["0"]})  # second submit
    next_step(app)
    app.dispatch_step({"type": "submit", "token": token, "chosen": ["0"]})  # old step
    assert _stored(sqlite_store, ui_content) == [("ryhma-vaite", "ensimmainen", ("vaittele",))]
    assert app.ref is not None and app.ref.step_id == "korjaus" and not app.step.answered


def test_two_tabs_do_not_double_answer(
    make_app: App, sqlite_store: Records, ui_content: Content
) -> None:
    one, two = make_app(), make_app()
    for app in (one, two):
        sign_in(app)
        app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    answer(one, *index_of(one, "kerro-esimiehelle"))
    answer(two, *index_of(two, "vaittele"))  # stale tab: refused by the store, resynchronised
    assert two.ref is not None and two.ref.step_id == "toinen"
    assert _stored(sqlite_store, ui_content) == [
        ("ryhma-vaite", "ensimmainen", ("kerro-esimiehelle",))
    ]


def test_flag_is_stored(make_app: App, sqlite_store: Records) -> None:
    app = make_app()
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    app.dispatch({"action": "flag", "fields": {"comment": ""}})
    assert "Kirjoita ensin" in app.footer.html
    app.dispatch({"action": "flag", "fields": {"comment": f"Epäselvä {XSS}"}})
    assert "Kiitos" in app.footer.html
    flags = sqlite_store.reports.flags_frame()
    assert list(flags["step_id"]) == ["ensimmainen"]


def test_languages(make_app: App) -> None:
    app = make_app()
    app.dispatch({"action": "lang", "arg": "sv"})
    assert "Börja kursen" in app.header.html and app.header.lang == "sv"
    app.dispatch({"action": "lang", "arg": "xx"})
    assert app.lang == "sv"
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    assert "visas därför på finska" in app.header.html  # content only in Finnish
    assert app.step.labels["submit"] == "Svara"


def test_scenario_page_counts_for_the_course(make_app: App) -> None:
    page = make_app(scenario_id="asiakas-viesti")
    sign_in(page)
    assert page.screen_name == "scenario" and page.ref is not None
    answer(page, 0)
    next_step(page)
    assert page.screen_name == "summary"
    assert 'data-action="overview"' not in page.header.html
    course = make_app()
    sign_in(course)
    assert course.course.run is not None and course.course.run.runs["asiakas-viesti"].finished


def test_unknown_scenario_page(make_app: App) -> None:
    page = make_app(scenario_id="ei-ole")
    assert "ei löydy" in page.header.html


@pytest.mark.parametrize("best", [True, False])
def test_every_shipped_scenario_plays_through(
    content: Content, sqlite_store: Records, tmp_path: Path, best: bool
) -> None:
    app = LearnerSession(content, sqlite_store.course)
    sign_in(app, unit=content.course.unit_names[0] if content.course.units else "")
    for sid in content.course.scenarios:
        play(app, sid, best=best)
        assert app.screen_name == "summary", sid


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


def test_leave_a_scenario_and_come_back(make_app: App) -> None:
    app = make_app()
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    answer(app, *index_of(app, "kerro-esimiehelle"))
    next_step(app)
    assert 'data-action="overview"' in app.header.html
    app.dispatch({"action": "overview"})
    assert app.screen_name == "overview" and "Jatka" in app.header.html
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    assert app.ref is not None and app.ref.step_id == "toinen"


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
    _second_try_answered(app)
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


def test_only_passed_scenarios_count_as_done(make_app: App) -> None:
    app = make_app()
    sign_in(app)
    play(app, "asiakas-viesti", best=False)
    app.dispatch({"action": "overview"})
    assert "0 / 2 tilannetta suoritettu" in app.header.html
    assert "sq-status-failed" in app.header.html
    play(app, "ryhma-vaite")
    app.dispatch({"action": "overview"})
    assert "1 / 2 tilannetta suoritettu" in app.header.html


def test_choice_order_is_shuffled_per_attempt_and_stable_within_it(make_app: App) -> None:
    orders, attempts = set(), set()
    for n in range(8):
        app = make_app()
        sign_in(app, employee_number=f"S{n}", name=f"Sekoitus {n}")
        app.dispatch({"action": "open", "arg": "ryhma-vaite"})
        assert app.ref is not None and app.course.attempt is not None
        first = tuple(c.id for c in app.ref.choices)
        reloaded = make_app()
        sign_in(reloaded, employee_number=f"S{n}", name=f"Sekoitus {n}")
        reloaded.dispatch({"action": "open", "arg": "ryhma-vaite"})
        assert reloaded.ref is not None
        assert tuple(c.id for c in reloaded.ref.choices) == first
        assert [c["text"] for c in reloaded.step.choices] == [c["text"] for c in app.step.choices]
        orders.add(first)
        attempts.add(app.course.attempt.id)
    assert len(attempts) == 8 and len(orders) == 2


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


def test_one_note_per_step_and_no_flood(make_app: App, sqlite_store: Records) -> None:
    app = make_app()
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    app.dispatch({"action": "flag", "fields": {"comment": "Ensimmäinen"}})
    for n in range(50):
        app.dispatch({"action": "flag", "fields": {"comment": f"Tulva {n}"}})
    assert "Odota hetki" in app.footer.html
    app._flagged_at -= 10  # time passes
    app.dispatch({"action": "flag", "fields": {"comment": "Korjattu huomautus"}})
    assert "Kiitos" in app.footer.html
    flags = sqlite_store.reports.flags_frame()
    assert list(flags["comment"]) == ["Korjattu huomautus"]  # edited, not added


def test_staff_see_at_most_the_newest_notes(sqlite_store: Records, make_app: App) -> None:
    app = make_app()
    sign_in(app)
    assert app.course.attempt is not None
    for n in range(12):
        sqlite_store.course.flag(
            app.course.attempt.id, "ryhma-vaite", f"askel-{n}", f"huomautus {n}"
        )
    shown = sqlite_store.reports.flags_frame(limit=5)
    assert list(shown["comment"]) == [f"huomautus {n}" for n in range(7, 12)]


def test_invisible_controls_are_removed_from_typed_names(make_app: App) -> None:
    app = make_app()
    # A right-to-left override and zero-width joiners would make "Testi Oppija" look different.
    sign_in(app, name="Te\u200dsti\u202e Op\u200bpija", employee_number="Z900")
    assert app.course.learner is not None and app.course.learner.name == "Testi Oppija"
