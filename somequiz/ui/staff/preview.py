"""The trainer's preview of a scenario, drawn with the learner's own screens.

The situation is ``scenario.html`` and every branch's feedback is ``feedback.html``, filled by
the same view functions as the course (:mod:`somequiz.ui.service.views`); only the step's
choices, which the learner page draws in the browser (``choice.js``), have a static twin here
(``studio_preview.html``) that shows them all with the best answer selected and marked.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.kinds import kind_of
from somequiz.content.models import Choice, Scenario, Step
from somequiz.content.text import Lang
from somequiz.engine.scoring import ScenarioRun
from somequiz.i18n import Messages
from somequiz.ui.render import render
from somequiz.ui.service.views import feedback_view, situation_view, text_in


def _feedback_html(
    content: Content,
    scenario: Scenario,
    step: Step,
    chosen: tuple[str, ...],
    lang: Lang,
    t: Messages,
) -> Markup:
    """The feedback the learner gets for ``chosen`` on ``step``, wherever the step is met."""
    run = ScenarioRun(scenario)
    run.current = step  # grade this step on its own, as if the learner had reached it
    feedback = run.answer(step.id, chosen)
    view = feedback_view(content.catalogue, lang, t, feedback, step.choices, step.kind)
    # render() autoescapes every value: its output is safe markup to place in the page.
    return Markup(render("feedback.html", t, **view))


def _goes_to(scenario: Scenario, step: Step, choice: Choice, lang: Lang, t: Messages) -> str:
    target = graph.target(scenario, step, choice)
    ids = [s.id for s in scenario.steps]
    if target in ids:
        return t("studio_to_step", n=ids.index(target) + 1, id=target)
    ending = scenario.ending(target) if target else None
    return t("studio_to_ending", title=text_in(lang, ending.title) if ending else "?")


def _branches(step: Step, key: tuple[str, ...], t: Messages) -> list[tuple[str, tuple[str, ...]]]:
    """(heading, chosen ids) of every answer worth seeing: each choice; on a multi step the
    right set and each wrong choice alone."""
    number = {c.id: n for n, c in enumerate(step.choices, start=1)}
    if kind_of(step).picks_one:
        return [(t("studio_branch", n=number[c.id]), (c.id,)) for c in step.choices]
    numbers = ", ".join(str(number[i]) for i in key)
    wrong = [c for c in step.choices if c.id not in key]
    return [(t("studio_branch_key", numbers=numbers), key)] + [
        (t("studio_branch_alone", n=number[c.id]), (c.id,)) for c in wrong
    ]


def _step_view(
    content: Content, scenario: Scenario, n: int, step: Step, lang: Lang, t: Messages
) -> dict[str, Any]:
    key = graph.best_selection(step)
    choices = [
        {
            "text": text_in(lang, c.text),
            "severity": c.severity,
            "points": c.points,
            "key": c.id in key,
            "goes_to": _goes_to(scenario, step, c, lang, t),
        }
        for c in step.choices
    ]
    branches = [
        {"label": label, "html": _feedback_html(content, scenario, step, chosen, lang, t)}
        for label, chosen in _branches(step, key, t)
    ]
    return {
        "n": n,
        "id": step.id,
        "narrative": text_in(lang, step.narrative),
        "prompt": text_in(lang, step.prompt),
        "kind": step.kind,
        "multi": not kind_of(step).picks_one,
        "choices": choices,
        "branches": branches,
    }


def learner_preview(content: Content, scenario: Scenario, lang: Lang = "fi") -> str:
    """Every step of ``scenario`` as the learner sees it, with every branch's feedback."""
    t = Messages(lang)
    order = content.course.scenarios
    position = (
        t("scenario_of", n=order.index(scenario.id) + 1, total=len(order))
        if scenario.id in order
        else ""
    )
    head = render(
        "scenario.html",
        t,
        learner_name="",
        can_switch=False,
        error="",
        course_title=text_in(lang, content.course.title),
        **situation_view(scenario, lang, t),
        position=position,
        untranslated=lang != "fi" and lang not in scenario.languages,
        focus_title=False,
        show_back=False,
    )
    steps = [
        _step_view(content, scenario, n, step, lang, t)
        for n, step in enumerate(scenario.steps, start=1)
    ]
    path = " → ".join(s.id for s in graph.best_path(scenario))
    best = t("studio_best_path", path=path, points=graph.max_points(scenario))
    return render("studio_preview.html", t, head=Markup(head), steps=steps, best_path=best)
