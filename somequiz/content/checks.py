"""Checks that need a whole scenario or several files: ids, rule references, the step graph."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from somequiz.content import graph
from somequiz.content.loader import Loc, Problem, SourceMap
from somequiz.content.models import SEVERITIES, Scenario
from somequiz.content.text import Lang, Translations


class Reporter:
    """Collects the problems of one file, placed by their location in it."""

    def __init__(self, path: Path, source: SourceMap) -> None:
        self.path = path
        self.source = source
        self.problems: list[Problem] = []

    def error(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(self.path, *self.source.position(loc), message))

    def warning(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(self.path, *self.source.position(loc), message, "warning"))


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
            report.warning(loc, f"käännös puuttuu: {', '.join(missing)}")


def _check_ids(report: Reporter, scenario: Scenario) -> None:
    nodes = [("steps", i, s.id) for i, s in enumerate(scenario.steps)]
    nodes += [("endings", i, e.id) for i, e in enumerate(scenario.endings)]
    counts = Counter(node_id for _, _, node_id in nodes)
    for field, index, node_id in nodes:
        if counts[node_id] > 1:
            report.error(
                (field, index, "id"),
                f"tunniste '{node_id}' on käytössä useammin kuin kerran",
            )
    for i, step in enumerate(scenario.steps):
        choice_counts = Counter(c.id for c in step.choices)
        for j, choice in enumerate(step.choices):
            if choice_counts[choice.id] > 1:
                report.error(
                    ("steps", i, "choices", j, "id"),
                    f"vaihtoehto '{choice.id}' on vaiheessa kahdesti",
                )


def _check_choices(report: Reporter, scenario: Scenario, rule_ids: set[str] | None) -> None:
    rank = {severity: n for n, severity in enumerate(SEVERITIES)}
    for i, step in enumerate(scenario.steps):
        at = ("steps", i)
        if step.kind == "single" and not any(c.severity == "best" for c in step.choices):
            report.error(at, f"vaiheessa '{step.id}' ei ole yhtään best-vaihtoehtoa")
        if step.kind == "multi" and not any(c.points > 0 for c in step.choices):
            report.error(at, f"vaiheessa '{step.id}' ei ole yhtään pisteitä antavaa vaihtoehtoa")
        top = max(c.points for c in step.choices)
        for j, choice in enumerate(step.choices):
            here = (*at, "choices", j)
            if choice.next is not None and step.kind == "multi":
                report.error(
                    (*here, "next"),
                    "next kuuluu vaiheelle, ei multi-vaiheen vaihtoehdolle",
                )
            if step.kind == "single" and choice.severity == "best" and choice.points < top:
                report.error(
                    (*here, "points"),
                    "best-vaihtoehdolla pitää olla vaiheen suurimmat pisteet",
                )
            if rank[choice.severity] >= rank["risky"] and choice.points > 0:
                report.error(
                    (*here, "points"),
                    f"{choice.severity}-vaihtoehto ei voi antaa pisteitä",
                )
            for k, rule_id in enumerate(choice.rules):
                if rule_ids is not None and rule_id not in rule_ids:
                    report.error(
                        (*here, "rules", k),
                        f"tuntematon sääntö '{rule_id}' (katso guideline.yaml)",
                    )


def _check_graph(report: Reporter, scenario: Scenario) -> None:
    targets = {s.id for s in scenario.steps} | {e.id for e in scenario.endings}
    broken = False
    for i, step in enumerate(scenario.steps):
        if step.next is not None and step.next not in targets:
            report.error(("steps", i, "next"), f"next '{step.next}' ei ole vaihe eikä loppu")
            broken = True
        for j, choice in enumerate(step.choices):
            if choice.next is not None and choice.next not in targets:
                report.error(
                    ("steps", i, "choices", j, "next"),
                    f"next '{choice.next}' ei ole vaihe eikä loppu",
                )
                broken = True
    if broken:
        return
    for i, step in enumerate(scenario.steps):
        if any(edge.target is None for edge in graph.edges(scenario, step)):
            report.error(
                ("steps", i),
                f"umpikuja: vaiheesta '{step.id}' ei pääse eteenpäin; anna next, joka vie loppuun",
            )
            broken = True
    branch_targets = {c.next for s in scenario.steps for c in s.choices if c.next is not None}
    for i, step in enumerate(scenario.steps[1:], start=1):
        previous = scenario.steps[i - 1]
        falls_through = any(
            e.choice is None or e.choice.next is None for e in graph.edges(scenario, previous)
        )
        if step.id in branch_targets and previous.next is None and falls_through:
            report.warning(
                ("steps", i),
                f"seurausvaihe '{step.id}' tulee myös vaiheen '{previous.id}' jälkeen "
                f"oletuksena: anna vaiheelle '{previous.id}' oma next",
            )
    reached = graph.reachable(scenario)
    for i, step in enumerate(scenario.steps):
        if step.id not in reached:
            report.error(("steps", i), f"vaiheeseen '{step.id}' ei pääse mistään")
    for i, ending in enumerate(scenario.endings):
        if ending.id not in reached:
            report.warning(("endings", i), f"loppuun '{ending.id}' ei pääse mistään")
    cycle = graph.find_cycle(scenario)
    if cycle is not None:
        first = next(i for i, s in enumerate(scenario.steps) if s.id == cycle[0])
        report.error(
            ("steps", first),
            f"kierre: {' → '.join(cycle)}; jokaisen polun pitää päättyä loppuun",
        )
    elif not broken:
        best, richest = graph.max_points(scenario), graph.richest_path_points(scenario)
        if best <= 0:
            report.error(("steps",), "parhaalla polulla ei saa yhtään pisteitä")
        elif richest > best:
            report.error(
                ("steps",),
                f"jokin polku antaa {richest} pistettä, paras polku vain {best}: "
                "pienennä seurausvaiheiden pisteitä",
            )


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
