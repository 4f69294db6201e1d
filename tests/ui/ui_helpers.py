"""Driving a LearnerSession the way the page's JavaScript does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from somequiz.content.models import Scenario
from somequiz.ui.service.session import LearnerSession

UI_COURSE = Path(__file__).resolve().parents[1] / "fixtures" / "ui-course"
IDENTITY = {"name": "Testi Oppija", "employee_number": "T100", "unit": "Hallinto"}
XSS = "<img src=x onerror=alert(1)>"  # a name or note that must stay text
# Makes a LearnerSession (the ``make_app`` fixture), with optional headers and page state.
App = Callable[..., LearnerSession]


def sign_in(app: LearnerSession, **fields: str) -> None:
    """Fill and send the start form."""
    app.dispatch({"action": "start", "fields": {**IDENTITY, **fields}})


def answer(app: LearnerSession, *indices: int) -> None:
    """Submit the choices at ``indices`` of the step on screen."""
    app.dispatch_step(
        {"type": "submit", "token": app.step.token, "chosen": [str(i) for i in indices]}
    )


def next_step(app: LearnerSession) -> None:
    """Press the button under the feedback."""
    app.dispatch_step({"type": "next", "token": app.step.token})


def index_of(app: LearnerSession, *choice_ids: str) -> list[int]:
    """Where the choices with ``choice_ids`` are on screen (the learner's shuffled order)."""
    assert app.ref is not None
    shown = [c.id for c in app.ref.choices]
    return [shown.index(choice_id) for choice_id in choice_ids]


def best_indices(app: LearnerSession, scenario: Scenario) -> list[int]:
    """The on-screen indices of the perfect answer to the step on screen."""
    assert app.ref is not None
    choices = app.ref.choices
    if app.ref.step.kind == "multi":
        return [n for n, c in enumerate(choices) if c.points > 0]
    best = max(choices, key=lambda c: c.points)
    return [choices.index(best)]


def worst_indices(app: LearnerSession, scenario: Scenario) -> list[int]:
    """The on-screen indices of the lowest-scoring answer to the step on screen."""
    assert app.ref is not None
    choices = app.ref.choices
    if app.ref.step.kind == "multi":
        return [n for n, c in enumerate(choices) if c.points <= 0] or [0]
    worst = min(choices, key=lambda c: c.points)
    return [choices.index(worst)]


def play(app: LearnerSession, scenario_id: str, *, best: bool = True) -> None:
    """Open a scenario and answer every step perfectly (or as badly as possible)."""
    app.dispatch({"action": "open", "arg": scenario_id})
    scenario = app.content.scenarios[scenario_id]
    for _ in range(50):
        if app.screen_name != "scenario":
            return
        answer(app, *(best_indices(app, scenario) if best else worst_indices(app, scenario)))
        assert app.step.answered, app.step.error
        next_step(app)
    raise AssertionError("the scenario did not end")


def retry(app: LearnerSession, scenario_id: str) -> None:
    """Press the retry button of a scenario."""
    app.dispatch({"action": "retry", "arg": scenario_id})


def second_try_answered(app: LearnerSession) -> None:
    """Sign in, pass one scenario, fail the other and answer its second (last) try."""
    sign_in(app)
    play(app, "ryhma-vaite")
    play(app, "asiakas-viesti", best=False)
    retry(app, "asiakas-viesti")
    answer(app, *worst_indices(app, app.content.scenarios["asiakas-viesti"]))
