"""Simulated learners: the generator shared by demo data and the records benchmark."""

from __future__ import annotations

import random
from collections import Counter

from somequiz.content.folder import Content
from somequiz.course.demo import simulated_answers
from somequiz.engine.scoring import CourseRun


def test_a_perfect_learner_answers_each_step_once_and_passes(content: Content) -> None:
    run = CourseRun(content.course, content.scenarios)
    given = list(simulated_answers(run, random.Random(1), 1.0))
    assert {g.feedback.severity for g in given} == {"best"}
    assert {g.scenario_try for g in given} == {1}
    assert [g.scenario.id for g in given if g.step.id == g.scenario.steps[0].id] == list(
        content.course.scenarios
    )
    assert run.finished and run.result(content.catalogue).passed


def test_a_learner_who_never_gives_up_uses_every_try(content: Content) -> None:
    run = CourseRun(content.course, content.scenarios)
    given = list(simulated_answers(run, random.Random(2), 0.0, give_up=0.0))
    tries = Counter((g.scenario.id, g.scenario_try) for g in given)
    most = content.course.max_attempts
    assert {t for _, t in tries} == set(range(1, most + 1))
    assert run.finished and not run.result(content.catalogue).passed


def test_stopping_early_leaves_the_course_unfinished(content: Content) -> None:
    run = CourseRun(content.course, content.scenarios)
    first = next(simulated_answers(run, random.Random(3), 0.5))
    assert first.scenario.id == content.course.scenarios[0] and first.scenario_try == 1
    assert not run.finished
