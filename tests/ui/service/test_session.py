"""The learner page driven in-process: flow, resume, integrity and errors."""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path

import pytest
from records_helpers import Records
from ui_helpers import (
    IDENTITY,
    XSS,
    App,
    answer,
    best_indices,
    index_of,
    next_step,
    play,
    retry,
    second_try_answered,
    sign_in,
)

from somequiz.content.folder import Content
from somequiz.errors import StoreError
from somequiz.ui.service.session import LearnerSession


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


def test_attempts_used_up_records_a_failed_completion(make_app: App) -> None:
    app = make_app()
    second_try_answered(app)
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
    second_try_answered(make_app())
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
