"""The engine: grading, branching, invalid answers, course results; property-based runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.loader import load_model
from somequiz.content.models import Course, Scenario
from somequiz.engine.scoring import CourseRun, Reason, ScenarioRun
from somequiz.errors import AnswerError

MINIMAL = Path(__file__).parents[1] / "fixtures" / "valid" / "minimal.yaml"


@pytest.fixture(scope="module")
def minimal() -> Scenario:
    scenario, _, problems = load_model(MINIMAL, Scenario)
    assert scenario is not None, problems
    return scenario


def _course(*scenario_ids: str, **settings_: object) -> Course:
    return Course.model_validate(
        {
            "schema_version": 1,
            "id": "testi",
            "title": "Testi",
            "description": "Testikurssi",
            "scenarios": list(scenario_ids),
            **settings_,
        }
    )


def test_best_path_scores_full(minimal: Scenario) -> None:
    run = ScenarioRun(minimal)
    first = run.answer("eka", ["hyva"])
    assert (first.points, first.severity, first.next_step) == (10, "best", "toka")
    last = run.answer("toka", ["oikea", "toinen-oikea"])
    assert (last.points, last.severity, last.missed) == (6, "best", ())
    assert last.ending is not None and last.ending.id == "loppu"
    assert run.finished
    result = run.result()
    assert (result.points, result.max_points, result.scaled) == (16, 16, 1.0)
    assert result.rules_to_review == ()


def test_harmful_choice_branches_to_consequence(minimal: Scenario) -> None:
    run = ScenarioRun(minimal)
    feedback = run.answer("eka", ["huono"])
    assert (feedback.severity, feedback.next_step) == ("harmful", "seuraus")
    assert feedback.rules == ("media-esimiehelle", "oma-vastuualue")
    last = run.answer("seuraus", ["soita"])
    assert run.finished and last.ending is not None and last.ending.outcome == "partial"


@pytest.mark.parametrize(
    ("chosen", "points", "severity", "missed"),
    [
        (["oikea"], 4, "acceptable", ("toinen-oikea",)),
        (["oikea", "vaara"], 1, "risky", ("toinen-oikea",)),
        (["vaara"], 0, "risky", ("oikea", "toinen-oikea")),
        (["oikea", "toinen-oikea", "vaara"], 3, "risky", ()),
    ],
)
def test_multi_select_partial_credit(
    minimal: Scenario, chosen: list[str], points: int, severity: str, missed: tuple[str, ...]
) -> None:
    run = ScenarioRun(minimal)
    run.answer("eka", ["hyva"])
    feedback = run.answer("toka", chosen)
    assert (feedback.points, feedback.severity) == (points, severity)
    assert tuple(c.id for c in feedback.missed) == missed


@pytest.mark.parametrize(
    ("step", "chosen", "message"),
    [
        ("toka", ["oikea"], "Vastaus ei koske nykyistä kohtaa."),
        ("eka", [], "Valitse vähintään yksi vaihtoehto."),
        ("eka", ["ei-ole"], "Tuntematon vaihtoehto."),
        ("eka", ["hyva", "huono"], "Valitse yksi vaihtoehto."),
    ],
)
def test_invalid_answers_change_nothing(
    minimal: Scenario, step: str, chosen: list[str], message: str
) -> None:
    run = ScenarioRun(minimal)
    with pytest.raises(AnswerError, match=message):
        run.answer(step, chosen)
    assert run.current is not None and run.current.id == "eka"
    assert run.feedback == []


def test_second_answer_to_a_step_is_refused(minimal: Scenario) -> None:
    run = ScenarioRun(minimal)
    run.answer("eka", ["hyva"])
    with pytest.raises(AnswerError, match="Tähän kohtaan on jo vastattu"):
        run.answer("eka", ["huono"])
    run.answer("toka", ["oikea"])
    with pytest.raises(AnswerError, match="Skenaario on jo päättynyt"):
        run.answer("toka", ["oikea"])


def test_replay_rebuilds_the_same_state(minimal: Scenario) -> None:
    run = ScenarioRun(minimal)
    run.answer("eka", ["huono"])
    run.answer("seuraus", ["vaikene"])
    again = ScenarioRun.replay(minimal, run.answers)
    assert again.current == run.current
    assert again.feedback == run.feedback


def test_course_result_passes_and_fails(minimal: Scenario) -> None:
    course = CourseRun(_course("minimal"), {"minimal": minimal})
    run = course.start("minimal")
    run.answer("eka", ["hyva"])
    run.answer("toka", ["oikea", "toinen-oikea"])
    result = course.result()
    assert result.passed and result.scaled == 1.0
    assert result.theme_scores == {"media": 1.0}

    course = CourseRun(_course("minimal"), {"minimal": minimal})
    course.start("minimal").answer("eka", ["huono"])
    result = course.result()
    assert not result.passed
    assert result.reasons == (Reason("unfinished"), Reason("below_pass", percent=80))


def test_harmful_choice_in_must_pass_theme_fails_despite_score(minimal: Scenario) -> None:
    course = CourseRun(
        _course("minimal", pass_percent=10, must_pass_themes=["media"]), {"minimal": minimal}
    )
    run = course.start("minimal")
    run.answer("eka", ["huono"])
    run.answer("seuraus", ["soita"])
    result = course.result()
    assert result.scaled > 0.1
    assert not result.passed
    assert result.reasons == (Reason("must_pass_failed", scenario_id="minimal"),)
    assert course.can_retry("minimal")


def test_retries_are_limited(minimal: Scenario) -> None:
    course = CourseRun(_course("minimal", max_attempts=2), {"minimal": minimal})
    for _ in range(2):
        course.start("minimal").answer("eka", ["huono"])
    with pytest.raises(AnswerError, match="yrityskerrat on käytetty"):
        course.start("minimal")
    with pytest.raises(AnswerError, match="ei kuulu kurssiin"):
        course.start("muu")


def _walk(scenario: Scenario, data: st.DataObject) -> ScenarioRun:
    run = ScenarioRun(scenario)
    while run.current is not None:
        step = run.current
        ids = [c.id for c in step.choices]
        if step.kind == "multi":
            chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
        else:
            chosen = [data.draw(st.sampled_from(ids))]
        run.answer(step.id, chosen)
        assert len(run.feedback) <= len(scenario.steps)
    return run


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_valid_answers_reach_an_ending_within_bounds(
    content: Content, data: st.DataObject
) -> None:
    scenario = data.draw(st.sampled_from(sorted(content.scenarios.values(), key=lambda s: s.id)))
    run = _walk(scenario, data)
    assert run.ending is not None
    result = run.result()
    assert 0 <= result.points <= result.max_points == graph.max_points(scenario)
    assert 0.0 <= result.scaled <= 1.0


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    step_id=st.text(max_size=12),
    chosen=st.lists(st.text(max_size=12), max_size=4),
)
def test_invalid_answers_never_change_state(
    content: Content, data: st.DataObject, step_id: str, chosen: list[str]
) -> None:
    scenario = data.draw(st.sampled_from(sorted(content.scenarios.values(), key=lambda s: s.id)))
    run = ScenarioRun(scenario)
    assert run.current is not None
    valid = {c.id for c in run.current.choices}
    if step_id == run.current.id and chosen and set(chosen) <= valid:
        return  # that one is a valid answer
    before = (run.current, list(run.feedback))
    with pytest.raises(AnswerError):
        run.answer(step_id, chosen)
    assert (run.current, run.feedback) == before


def _two(minimal: Scenario, **settings_: object) -> CourseRun:
    """A course of the minimal scenario (theme media) and a copy of it in theme customer-data."""
    other = minimal.model_copy(update={"id": "toinen", "themes": ["customer-data"]})
    course = _course("minimal", "toinen", **settings_)
    return CourseRun(course, {"minimal": minimal, "toinen": other})


def _pass(run: CourseRun, sid: str) -> None:
    scenario_run = run.start(sid)
    scenario_run.answer("eka", ["hyva"])
    scenario_run.answer("toka", ["oikea", "toinen-oikea"])


def test_a_failed_must_pass_scenario_blocks_the_course_whatever_the_total(
    minimal: Scenario,
) -> None:
    run = _two(minimal, pass_percent=50, must_pass_themes=["customer-data"])
    _pass(run, "minimal")
    # Below the threshold, no harmful answer: 10 + 2 of 16 = 75 % >= 50 %... of the course.
    failing = run.start("toinen")
    failing.answer("eka", ["lupaa"])
    failing.answer("toka", ["oikea"])
    result = run.result()
    assert result.points * 100 >= 50 * result.max_points
    assert not run.scenario_passed("toinen") or failing.result().worst == "harmful"
    run2 = _two(minimal, pass_percent=80, must_pass_themes=["customer-data"])
    _pass(run2, "minimal")
    weak = run2.start("toinen")
    weak.answer("eka", ["lupaa"])  # risky, 0 points
    weak.answer("toka", ["oikea", "toinen-oikea"])
    assert not run2.scenario_passed("toinen")
    result2 = run2.result()
    assert not result2.passed
    assert Reason("must_pass_failed", scenario_id="toinen") in result2.reasons
    assert run2.can_retry("toinen") and not run2.final


def test_a_harmful_answer_fails_the_scenario_even_with_enough_points(minimal: Scenario) -> None:
    run = CourseRun(_course("minimal", pass_percent=30), {"minimal": minimal})
    scenario_run = run.start("minimal")
    scenario_run.answer("eka", ["huono"])
    scenario_run.answer("seuraus", ["soita"])
    assert scenario_run.result().scaled * 100 >= 30
    assert not run.scenario_passed("minimal")


def test_tries_spent_make_the_course_final_and_failed(minimal: Scenario) -> None:
    run = CourseRun(_course("minimal", max_attempts=1), {"minimal": minimal})
    scenario_run = run.start("minimal")
    scenario_run.answer("eka", ["lupaa"])
    scenario_run.answer("toka", ["oikea"])
    assert run.finished and run.final and not run.result().passed
    assert run.tries_left("minimal") == 0 and not run.can_retry("minimal")


def test_a_passed_course_is_final(minimal: Scenario) -> None:
    run = CourseRun(_course("minimal"), {"minimal": minimal})
    _pass(run, "minimal")
    assert run.final and run.result().passed and run.result().reasons == ()
