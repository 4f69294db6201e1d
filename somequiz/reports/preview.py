"""A plain-text walkthrough of a scenario with every branch, for review."""

from __future__ import annotations

import textwrap

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.models import Choice, Scenario, Step
from somequiz.content.text import Lang, Translations
from somequiz.course import order

SEVERITY_FI = {
    "best": "paras",
    "acceptable": "hyväksyttävä",
    "risky": "riskialtis",
    "harmful": "vahingollinen",
}


def _wrap(text: Translations | None, lang: Lang, indent: str) -> list[str]:
    if text is None:
        return []
    return textwrap.wrap(
        text.get(lang), 88, initial_indent=indent, subsequent_indent=" " * len(indent)
    )


FILE_ORDER = (
    "Vaihtoehdot ovat tiedoston järjestyksessä. Oppija näkee ne sekoitettuina "
    "(kiinnitetyt pysyvät paikallaan)."
)


def _choices(step: Step, scenario: Scenario, seen_by: tuple[str, int] | None) -> list[Choice]:
    """The step's choices in file order, or as the learner of attempt ``seen_by`` saw them."""
    if seen_by is None:
        return list(step.choices)
    attempt_id, scenario_try = seen_by
    return order.as_seen(step, attempt_id, scenario.id, scenario_try)


def preview(
    content: Content,
    scenario: Scenario,
    lang: Lang = "fi",
    seen_by: tuple[str, int] | None = None,
) -> str:
    """Every step, choice, severity, point value, feedback and cited rule of ``scenario``.

    ``seen_by`` (attempt id, scenario try) lists the choices in that learner's order.
    """
    out = [scenario.title.get(lang), "=" * len(scenario.title.get(lang))]
    if seen_by is None:
        out.append(FILE_ORDER)
    else:
        out.append(
            f"Vaihtoehdot siinä järjestyksessä, jossa oppija ne näki "
            f"(suoritus {seen_by[0]}, yritys {seen_by[1]})."
        )
    out += _wrap(scenario.summary, lang, "")
    out += ["", f"Kanava: {scenario.situation.channel}"]
    out += _wrap(scenario.situation.sender, lang, "Lähettäjä: ")
    out += _wrap(scenario.situation.text, lang, "  ")
    for number, step in enumerate(scenario.steps, start=1):
        kind = "valitse kaikki sopivat" if step.kind == "multi" else "valitse yksi"
        out += ["", f"[{number}] {step.id} ({kind}, enintään {graph.step_max_points(step)} p.)"]
        out += _wrap(step.narrative, lang, "  ")
        out += _wrap(step.prompt, lang, "  ? ")
        for choice in _choices(step, scenario, seen_by):
            target = scenario.next_after(step, choice if step.kind == "single" else None)
            severity = SEVERITY_FI[choice.severity] + (", kiinnitetty" if choice.pinned else "")
            out += _wrap(choice.text, lang, f"  - {choice.id}: ")
            out.append(f"      {severity}, {choice.points} p. → {target}")
            out += _wrap(choice.feedback, lang, "      Palaute: ")
            out += _wrap(choice.consequence, lang, "      Seuraus: ")
            for rule_id in choice.rules:
                found = content.catalogue.rule(rule_id)
                heading = found[0].heading.get(lang) if found else "?"
                out.append(f"      § {heading} / {rule_id}")
                out += _wrap(found[1].text if found else None, lang, "        ")
    for ending in scenario.endings:
        out += ["", f"[loppu] {ending.id}: {ending.title.get(lang)}"]
        out += _wrap(ending.text, lang, "  ")
    best = " → ".join(s.id for s in graph.best_path(scenario))
    out += ["", f"Paras polku: {best} ({graph.max_points(scenario)} p.)"]
    return "\n".join(out)
