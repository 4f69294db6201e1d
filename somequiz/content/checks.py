"""Checks that need a whole scenario or several files: ids, rule references, the step graph."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from somequiz.content import graph
from somequiz.content.kinds import kind_of
from somequiz.content.loader import SAY, Loc, Problem, SourceMap, did_you_mean, where
from somequiz.content.models import SEVERITIES, Scenario
from somequiz.content.text import Lang, Translations


class Reporter:
    """Collects the problems of one file, placed by their location in it."""

    def __init__(self, path: Path, source: SourceMap) -> None:
        self.path = path
        self.source = source
        self.problems: list[Problem] = []

    def error(self, loc: Loc, message: str, *, named: bool = True) -> None:
        """An error at ``loc``, named as the trainer counts ("vaihe 1, vaihtoehto 2") unless
        the message speaks of the whole file."""
        self._add(loc if named else (), message, "error", self.source.position(loc))

    def warning(self, loc: Loc, message: str, *, named: bool = True) -> None:
        """A warning at ``loc``."""
        self._add(loc if named else (), message, "warning", self.source.position(loc))

    def _add(
        self, loc: Loc, message: str, level: Literal["error", "warning"], at: tuple[int, int]
    ) -> None:
        context = where(loc)
        text = f"{context}: {message}" if context else message
        self.problems.append(Problem(self.path, *at, text, level))


def iter_texts(model: BaseModel, loc: Loc = ()) -> Iterator[tuple[Loc, Translations]]:
    """Every translatable text inside ``model`` with its location."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            here = (*loc, name) if index is None else (*loc, name, index)
            if isinstance(item, Translations):
                yield here, item
            elif isinstance(item, BaseModel):
                yield from iter_texts(item, here)


def check_translations(report: Reporter, model: BaseModel, languages: list[Lang]) -> None:
    """Warn about texts missing a language the file declares."""
    for loc, text in iter_texts(model):
        missing = [lang for lang in languages if not text.has(lang)]
        if missing:
            report.warning(loc, SAY("v_missing_translation", languages=", ".join(missing)))


def _check_ids(report: Reporter, scenario: Scenario) -> None:
    nodes = [("steps", i, s.id) for i, s in enumerate(scenario.steps)]
    nodes += [("endings", i, e.id) for i, e in enumerate(scenario.endings)]
    counts = Counter(node_id for _, _, node_id in nodes)
    for field, index, node_id in nodes:
        if counts[node_id] > 1:
            report.error((field, index, "id"), SAY("v_duplicate_id", id=node_id))
    for i, step in enumerate(scenario.steps):
        choice_counts = Counter(c.id for c in step.choices)
        for j, choice in enumerate(step.choices):
            if choice_counts[choice.id] > 1:
                report.error(
                    ("steps", i, "choices", j, "id"), SAY("v_duplicate_choice", id=choice.id)
                )


def _check_choices(report: Reporter, scenario: Scenario, rule_ids: set[str] | None) -> None:
    rank = {severity: n for n, severity in enumerate(SEVERITIES)}
    for i, step in enumerate(scenario.steps):
        at = ("steps", i)
        for place, key in kind_of(step).faults(step):
            report.error((*at, *place), SAY(key, step=step.id))
        for j, choice in enumerate(step.choices):
            here = (*at, "choices", j)
            if rank[choice.severity] >= rank["risky"] and choice.points > 0:
                report.error(
                    (*here, "points"), SAY("v_bad_choice_points", severity=choice.severity)
                )
            for k, rule_id in enumerate(choice.rules):
                if rule_ids is not None and rule_id not in rule_ids:
                    hint = did_you_mean(rule_id, rule_ids)
                    report.error((*here, "rules", k), SAY("v_unknown_rule", rule=rule_id) + hint)


def _check_targets(report: Reporter, scenario: Scenario) -> bool:
    """Report every ``next`` that names no step or ending; True when all of them do."""
    targets = {s.id for s in scenario.steps} | {e.id for e in scenario.endings}
    links: list[tuple[Loc, str | None]]
    links = [(("steps", i, "next"), step.next) for i, step in enumerate(scenario.steps)]
    links += [
        (("steps", i, "choices", j, "next"), choice.next)
        for i, step in enumerate(scenario.steps)
        for j, choice in enumerate(step.choices)
    ]
    broken = [
        (loc, target) for loc, target in links if target is not None and target not in targets
    ]
    for loc, target in broken:
        report.error(loc, SAY("v_unknown_next", target=target) + did_you_mean(target, targets))
    return not broken


def _check_dead_ends(report: Reporter, scenario: Scenario) -> bool:
    """Report steps with a way out that leads nowhere; True when there are none."""
    clean = True
    for i, step in enumerate(scenario.steps):
        if any(edge.target is None for edge in graph.edges(scenario, step)):
            report.error(("steps", i), SAY("v_dead_end", step=step.id))
            clean = False
    return clean


def _check_fall_through(report: Reporter, scenario: Scenario) -> None:
    """Warn when a branch's follow-up step is also reached by default from the step above."""
    branch_targets = {c.next for s in scenario.steps for c in s.choices if c.next is not None}
    for i, step in enumerate(scenario.steps[1:], start=1):
        previous = scenario.steps[i - 1]
        falls_through = any(
            e.choice is None or e.choice.next is None for e in graph.edges(scenario, previous)
        )
        if step.id in branch_targets and previous.next is None and falls_through:
            report.warning(("steps", i), SAY("v_fall_through", step=step.id, previous=previous.id))


def _check_reach(report: Reporter, scenario: Scenario) -> None:
    reached = graph.reachable(scenario)
    for i, step in enumerate(scenario.steps):
        if step.id not in reached:
            report.error(("steps", i), SAY("v_unreachable_step", step=step.id))
    for i, ending in enumerate(scenario.endings):
        if ending.id not in reached:
            report.warning(("endings", i), SAY("v_unreachable_ending", ending=ending.id))


def _check_points(report: Reporter, scenario: Scenario) -> None:
    """The best path must give points, and no detour more than it (graph must be acyclic)."""
    best, richest = graph.max_points(scenario), graph.richest_path_points(scenario)
    if best <= 0:
        report.error(("steps",), SAY("v_no_points"), named=False)
    elif richest > best:
        report.error(("steps",), SAY("v_richer_detour", richest=richest, best=best), named=False)


def _check_graph(report: Reporter, scenario: Scenario) -> None:
    if not _check_targets(report, scenario):
        return  # a broken link would make every later finding a guess
    no_dead_ends = _check_dead_ends(report, scenario)
    _check_fall_through(report, scenario)
    _check_reach(report, scenario)
    cycle = graph.find_cycle(scenario)
    if cycle is not None:
        first = next(i for i, s in enumerate(scenario.steps) if s.id == cycle[0])
        report.error(("steps", first), SAY("v_cycle", cycle=" → ".join(cycle)))
    elif no_dead_ends:
        _check_points(report, scenario)


def check_scenario(
    path: Path, scenario: Scenario, source: SourceMap, rule_ids: set[str] | None
) -> list[Problem]:
    """Everything beyond the schema that one scenario file must satisfy."""
    report = Reporter(path, source)
    _check_ids(report, scenario)
    _check_choices(report, scenario, rule_ids)
    if not report.problems:
        _check_graph(report, scenario)
    check_translations(report, scenario, [lang for lang in scenario.languages if lang != "fi"])
    return report.problems
