"""Content-blind learners fail the shipped course: position, length, keywords or chance.

Each strategy sees only what a learner sees (the texts in the attempt's shuffled order),
retries every failed scenario while tries are left, and must not pass.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from somequiz.content.folder import Content
from somequiz.content.models import Choice
from somequiz.course import order
from somequiz.engine.scoring import CourseRun

# A strategy sees the options as shown and whether the step asks for one or for all that apply.
Pick = Callable[[list[Choice], random.Random, bool], list[Choice]]
_KEYWORD = re.compile(r"esihenkil|tarkist|varmist|viestin", re.IGNORECASE)


def _length(c: Choice) -> int:
    return len(c.text.fi)


def _ranked(key: Callable[[Choice], float]) -> Pick:
    """Pick the top-ranked option (multi-select: the top half) by ``key``, best first."""

    def pick(shown: list[Choice], _: random.Random, multi: bool) -> list[Choice]:
        return _head(sorted(shown, key=key, reverse=True), multi)

    return pick


def _head(shown: list[Choice], multi: bool) -> list[Choice]:
    """The first option, or the first half of the options on a "select all" step."""
    return shown[: max(1, len(shown) // 2)] if multi else shown[:1]


def _first(shown: list[Choice], _: random.Random, multi: bool) -> list[Choice]:
    return _head(shown, multi)


def _random(shown: list[Choice], rng: random.Random, multi: bool) -> list[Choice]:
    return _head(rng.sample(shown, len(shown)), multi)


STRATEGIES: dict[str, Pick] = {
    "first": _first,
    "last": lambda shown, rng, multi: _head(shown[::-1], multi),
    "longest": _ranked(_length),
    "shortest": _ranked(lambda c: -_length(c)),
    "keyword-then-longest": _ranked(lambda c: 1000 * bool(_KEYWORD.search(c.text.fi)) + _length(c)),
    "random": _random,
}


def _take_course(content: Content, pick: Pick, attempt_id: str) -> CourseRun:
    rng = random.Random(attempt_id)
    run = CourseRun(content.course, content.scenarios)
    for sid in content.course.scenarios:
        while sid not in run.runs or run.can_retry(sid):
            scenario_run = run.start(sid)
            while (step := scenario_run.current) is not None:
                shown = order.as_seen(step, attempt_id, sid, run.attempts[sid])
                chosen = pick(shown, rng, step.kind == "multi")
                scenario_run.answer(step.id, [c.id for c in chosen])
    return run


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_a_content_blind_learner_fails(content: Content, name: str) -> None:
    scores = []
    for n in range(5):
        run = _take_course(content, STRATEGIES[name], f"arvaaja-{name}-{n}")
        result = run.result(content.catalogue)
        assert not result.passed, (name, n, round(result.scaled * 100))
        scores.append(result.scaled)
    # Far below the pass mark even with every retry used.
    assert max(scores) * 100 < content.course.pass_percent - 10, (name, scores)


def test_the_best_answers_pass(content: Content) -> None:
    def best(shown: list[Choice], _: random.Random, multi: bool) -> list[Choice]:
        top = max(c.points for c in shown)
        return [c for c in shown if c.points > 0 and (multi or c.points == top)][
            : None if multi else 1
        ]

    run = _take_course(content, best, "osaaja")
    assert run.result(content.catalogue).passed
