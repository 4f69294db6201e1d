"""Trainer studio views: the step graph, validation findings and rule coverage as tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import graphviz
import pandas as pd

from somequiz.content.folder import Content, check_folder
from somequiz.content.models import Scenario
from somequiz.content.text import Lang
from somequiz.errors import ConfigError
from somequiz.reports.coverage import coverage
from somequiz.reports.preview import SEVERITY_FI

# Fill colours with dark text: each pair passes WCAG AA contrast.
SEVERITY_COLOURS = {
    "best": "#cdebd3",
    "acceptable": "#e6f0c2",
    "risky": "#fbe0b3",
    "harmful": "#f6c4c4",
}
_LABEL_WIDTH = 38


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_WIDTH else text[: _LABEL_WIDTH - 1] + "…"


def scenario_graph(scenario: Scenario, lang: Lang = "fi") -> graphviz.Digraph:
    """Steps as boxes, choices as severity-coloured nodes, branches as edges."""
    dot = graphviz.Digraph(graph_attr={"rankdir": "LR", "fontname": "sans-serif"})
    dot.attr("node", fontname="sans-serif", fontsize="11")
    for step in scenario.steps:
        dot.node(f"s_{step.id}", f"{step.id}\n{_short(step.prompt.get(lang))}", shape="box")
        for choice in step.choices:
            node = f"c_{step.id}_{choice.id}"
            grade = f"{SEVERITY_FI[choice.severity]}, {choice.points} p."
            label = f"{_short(choice.text.get(lang))}\n{grade}"
            dot.node(
                node,
                label,
                shape="note",
                style="filled",
                fillcolor=SEVERITY_COLOURS[choice.severity],
            )
            dot.edge(f"s_{step.id}", node)
            target = scenario.next_after(step, choice if step.kind == "single" else None)
            if target is not None:
                prefix = "s" if scenario.step(target) else "e"
                dot.edge(node, f"{prefix}_{target}", style="bold" if choice.next else "solid")
    for ending in scenario.endings:
        dot.node(f"e_{ending.id}", ending.title.get(lang), shape="doubleoctagon")
    return dot


def scenario_graph_svg(scenario: Scenario, lang: Lang = "fi") -> str:
    """The step graph as SVG text (needs Graphviz's ``dot``)."""
    if shutil.which("dot") is None:
        raise ConfigError(
            "Kaavio tarvitsee Graphvizin: asenna se komennolla 'apt-get install graphviz'."
        )
    return str(scenario_graph(scenario, lang).pipe(format="svg", encoding="utf-8"))


def problems_frame(folder: Path) -> pd.DataFrame:
    """Every validation finding of ``folder`` as a table with file and line."""
    _, problems = check_folder(folder)
    rows = [
        {
            "tiedosto": p.path.name,
            "rivi": p.line,
            "sarake": p.column,
            "taso": "virhe" if p.level == "error" else "varoitus",
            "viesti": p.message,
        }
        for p in problems
    ]
    return pd.DataFrame(rows, columns=["tiedosto", "rivi", "sarake", "taso", "viesti"])


def coverage_frame(content: Content) -> pd.DataFrame:
    """Rules × scenarios citation counts, uncovered rules first."""
    cov = coverage(content)
    frame = pd.DataFrame(
        [[cov.counts.get((r, s), 0) for s in cov.scenario_ids] for r in cov.rule_ids],
        index=pd.Index(cov.rule_ids, name="sääntö"),
        columns=cov.scenario_ids,
    )
    frame["yhteensä"] = frame.sum(axis=1)
    return frame.sort_values("yhteensä", kind="stable")


def choice_distribution(answers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """How learners chose on each step of ``scenario`` (first tries): counts and shares."""
    columns = ["vaihe", "vaihtoehto", "luokitus", "valintoja", "osuus %"]
    first = answers[(answers["scenario_id"] == scenario.id) & (answers["scenario_try"] == 1)]
    rows = []
    for step in scenario.steps:
        part = first[first["step_id"] == step.id]
        picks = part["chosen"].explode().value_counts()
        for choice in step.choices:
            count = int(picks.get(choice.id, 0))
            share = round(100 * count / len(part), 1) if len(part) else None
            rows.append([step.id, choice.id, SEVERITY_FI[choice.severity], count, share])
    return pd.DataFrame(rows, columns=columns)
