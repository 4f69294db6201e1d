"""Trainer studio views: which version of the files is shown, the step graph, findings, coverage.

Nothing here draws widgets (that is :mod:`somequiz.ui.staff.studio`); these are the studio's data.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import graphviz
import pandas as pd

from somequiz.content import graph
from somequiz.content.folder import Content, usable_content
from somequiz.content.loader import SAY, Problem
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
# Graph labels: wrapped, not cut, at a size that stays readable when the SVG is not scaled.
_LABEL_WIDTH = 30
_LABEL_LINES = 4
_FONT_SIZE = "11"

Version = Literal["current", "last_good", "partial", "none"]


@dataclass(frozen=True)
class Snapshot:
    """What the studio shows: the content, the findings of the files as they are now, and which
    version of the files the content is (read at ``read_at``)."""

    content: Content | None
    problems: list[Problem]
    version: Version
    read_at: datetime

    @property
    def errors(self) -> int:
        """How many errors the files have now."""
        return sum(p.level == "error" for p in self.problems)


def read_folder(folder: Path, last_good: Snapshot | None, now: datetime) -> Snapshot:
    """Read ``folder`` again: its content when sound; else the last sound version, when there is
    one; else the scenarios that have no errors; else nothing, with the findings."""
    content, problems = usable_content(folder)
    if not any(p.level == "error" for p in problems):
        return Snapshot(content, problems, "current", now)
    if last_good is not None and last_good.content is not None:
        return Snapshot(last_good.content, problems, "last_good", last_good.read_at)
    if content is not None:
        return Snapshot(content, problems, "partial", now)
    return Snapshot(None, problems, "none", now)


def _label(text: str) -> str:
    lines = textwrap.wrap(text, _LABEL_WIDTH, max_lines=_LABEL_LINES, placeholder=" …")
    return "\n".join(lines)


def scenario_graph(scenario: Scenario, lang: Lang = "fi") -> graphviz.Digraph:
    """Steps as boxes, choices as severity-coloured nodes, branches as edges."""
    dot = graphviz.Digraph(graph_attr={"rankdir": "LR", "fontname": "sans-serif"})
    dot.attr("node", fontname="sans-serif", fontsize=_FONT_SIZE, margin="0.15,0.08")
    for number, step in enumerate(scenario.steps, start=1):
        label = f"{number}. {step.id}\n{_label(step.prompt.get(lang))}"
        dot.node(f"s_{step.id}", label, shape="box", style="bold")
        for choice in step.choices:
            node = f"c_{step.id}_{choice.id}"
            grade = f"{SEVERITY_FI[choice.severity]}, {choice.points} p."
            dot.node(
                node,
                f"{_label(choice.text.get(lang))}\n{grade}",
                shape="note",
                style="filled",
                fillcolor=SEVERITY_COLOURS[choice.severity],
            )
            dot.edge(f"s_{step.id}", node)
            target = graph.target(scenario, step, choice)
            if target is not None:
                prefix = "s" if scenario.step(target) else "e"
                dot.edge(node, f"{prefix}_{target}", style="bold" if choice.next else "solid")
    for ending in scenario.endings:
        dot.node(f"e_{ending.id}", _label(ending.title.get(lang)), shape="doubleoctagon")
    return dot


def scenario_graph_svg(scenario: Scenario, lang: Lang = "fi") -> str:
    """The step graph as SVG text (needs Graphviz's ``dot``)."""
    if shutil.which("dot") is None:
        raise ConfigError(SAY("studio_needs_graphviz"))
    return str(scenario_graph(scenario, lang).pipe(format="svg", encoding="utf-8"))


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Validation findings as a table with file, line and column."""
    columns = [SAY(f"studio_col_{c}") for c in ("file", "line", "column", "level", "message")]
    rows = [
        [p.path.name, p.line, p.column, SAY(f"studio_level_{p.level}"), p.message] for p in problems
    ]
    return pd.DataFrame(rows, columns=columns)


def coverage_frame(content: Content) -> pd.DataFrame:
    """Rules × the course's scenarios (numbered in course order), untaught rules first."""
    cov = coverage(content)
    order = content.course.scenarios
    frame = pd.DataFrame(
        [[cov.counts.get((r, s), 0) for s in order] for r in cov.rule_ids],
        index=pd.Index(cov.rule_ids, name=SAY("studio_col_rule")),
        columns=[str(n) for n in range(1, len(order) + 1)],
    )
    total = SAY("studio_col_total")
    frame[total] = frame.sum(axis=1)
    return frame.sort_values(total, kind="stable")


def coverage_legend(content: Content) -> list[tuple[int, str]]:
    """The numbers of :func:`coverage_frame`'s columns with the scenarios' titles."""
    return [(n, s.title.fi) for n, s in enumerate(content.course_scenarios(), start=1)]


def choice_distribution(answers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """How learners chose on each step of ``scenario`` (first tries): counts and shares."""
    names = ("step", "choice", "severity", "picks", "share")
    columns = [SAY(f"studio_col_{name}") for name in names]
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
