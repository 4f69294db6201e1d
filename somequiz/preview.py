"""A plain-text walkthrough of a scenario with every branch, for review."""

from __future__ import annotations

import textwrap

from somequiz import graph
from somequiz.content import Content
from somequiz.scenario import Scenario
from somequiz.text import Lang, Translations

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


def preview(content: Content, scenario: Scenario, lang: Lang = "fi") -> str:
    """Every step, choice, severity, point value, feedback and cited rule of ``scenario``."""
    out = [scenario.title.get(lang), "=" * len(scenario.title.get(lang))]
    out += _wrap(scenario.summary, lang, "")
    out += ["", f"Kanava: {scenario.situation.channel}"]
    out += _wrap(scenario.situation.sender, lang, "Lähettäjä: ")
    out += _wrap(scenario.situation.text, lang, "  ")
    for number, step in enumerate(scenario.steps, start=1):
        kind = "valitse kaikki sopivat" if step.kind == "multi" else "valitse yksi"
        out += ["", f"[{number}] {step.id} ({kind}, enintään {graph.step_max_points(step)} p.)"]
        out += _wrap(step.narrative, lang, "  ")
        out += _wrap(step.prompt, lang, "  ? ")
        for choice in step.choices:
            target = scenario.next_after(step, choice if step.kind == "single" else None)
            severity = SEVERITY_FI[choice.severity]
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
