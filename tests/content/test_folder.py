"""The shipped course content: clean, complete, faithful to the guideline, in our own words."""

from __future__ import annotations

from pathlib import Path

from somequiz.content import graph
from somequiz.content.checks import iter_texts
from somequiz.content.folder import Content, check_folder
from somequiz.content.models import Catalogue, Course, Scenario
from somequiz.reports.coverage import coverage

ROOT = Path(__file__).parents[2]
MIN_SCENARIOS = 12


def test_shipped_content_has_no_problems() -> None:
    # Includes the item-writing warnings and the check against the guideline's fingerprint.
    _, problems = check_folder(ROOT / "scenarios")
    assert [str(p) for p in problems] == []


def test_course_covers_every_scenario_and_enough_of_them(content: Content) -> None:
    assert len(content.scenarios) >= MIN_SCENARIOS
    assert sorted(content.course.scenarios) == sorted(content.scenarios)


def test_catalogue_has_one_thing_per_rule(content: Content) -> None:
    rules = [rule for _, rule in content.catalogue.rules()]
    assert 40 <= len(rules) <= 55
    assert all(len(rule.text.fi) <= 260 for rule in rules)


def test_coverage_is_complete(content: Content) -> None:
    cov = coverage(content)
    assert cov.uncovered() == []
    assert cov.percent == 100.0


def test_every_scenario_has_three_steps_and_most_branch(content: Content) -> None:
    branching = 0
    for scenario in content.scenarios.values():
        assert len(graph.best_path(scenario)) >= 3, scenario.id
        branching += any(c.next for s in scenario.steps for c in s.choices)
    assert branching * 2 >= len(content.scenarios)


def test_every_choice_explains_and_cites(content: Content) -> None:
    for scenario in content.scenarios.values():
        for step in scenario.steps:
            for choice in step.choices:
                assert len(choice.feedback.fi) >= 40, (scenario.id, step.id, choice.id)
                assert choice.rules, (scenario.id, step.id, choice.id)


def test_everything_is_translated_to_english(content: Content) -> None:
    models: list[Catalogue | Course | Scenario] = [
        content.catalogue,
        content.course,
        *content.scenarios.values(),
    ]
    for model in models:
        assert "en" in model.languages, getattr(model, "id", "guideline")
        missing = [loc for loc, text in iter_texts(model) if not text.has("en")]
        assert missing == [], getattr(model, "id", "guideline")
