"""Which guideline rules the scenarios teach: a rules × scenarios matrix.

A rule counts as taught only where a best answer on a scenario's best path follows it;
citations in wrong answers or on detours are shown, but separately: a learner who never
takes the detour never learns them.
"""

from __future__ import annotations

from dataclasses import dataclass

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.models import Scenario


@dataclass(frozen=True)
class Coverage:
    """How often each scenario teaches each rule (``counts``) and cites it anywhere (``cited``)."""

    rule_ids: list[str]
    scenario_ids: list[str]
    counts: dict[tuple[str, str], int]
    cited: dict[tuple[str, str], int]

    def covered(self, rule_id: str) -> bool:
        """Whether any scenario teaches ``rule_id`` with a best answer on its best path."""
        return any(self.counts.get((rule_id, s), 0) for s in self.scenario_ids)

    @property
    def percent(self) -> float:
        """Share of catalogue rules taught at least once."""
        if not self.rule_ids:
            return 100.0
        return 100.0 * sum(self.covered(r) for r in self.rule_ids) / len(self.rule_ids)

    def uncovered(self) -> list[str]:
        """Rules no scenario teaches, in catalogue order."""
        return [r for r in self.rule_ids if not self.covered(r)]


def coverage(content: Content) -> Coverage:
    """The rules × scenarios matrix of ``content`` (all scenarios in the folder)."""
    counts: dict[tuple[str, str], int] = {}
    cited: dict[tuple[str, str], int] = {}
    for scenario in content.scenarios.values():
        for step in scenario.steps:
            for choice in step.choices:
                _add(cited, scenario, choice.rules)
        for step in graph.best_path(scenario):
            best = graph.best_selection(step)
            for choice in step.choices:
                if choice.id in best:
                    _add(counts, scenario, choice.rules)
    return Coverage(
        rule_ids=[rule.id for _, rule in content.catalogue.rules()],
        scenario_ids=list(content.scenarios),
        counts=counts,
        cited=cited,
    )


def _add(counts: dict[tuple[str, str], int], scenario: Scenario, rule_ids: list[str]) -> None:
    for rule_id in rule_ids:
        key = (rule_id, scenario.id)
        counts[key] = counts.get(key, 0) + 1


def render(cov: Coverage) -> str:
    """The matrix as plain text: one row per rule, untaught rules first.

    A cell shows how often the scenario teaches the rule; "m" marks a rule the scenario only
    mentions (in wrong answers or on detours).
    """
    width = max(len(r) for r in cov.rule_ids) if cov.rule_ids else 10
    header = " " * width + "  " + " ".join(f"{n + 1:>3}" for n in range(len(cov.scenario_ids)))
    lines = [header]
    for rule_id in sorted(cov.rule_ids, key=cov.covered):
        cells = " ".join(f"{_cell(cov, rule_id, s):>3}" for s in cov.scenario_ids)
        mark = (
            "" if cov.covered(rule_id) else "  ← ei opeteta yhdenkään skenaarion parhaalla polulla"
        )
        lines.append(f"{rule_id:<{width}}  {cells}{mark}")
    lines.append("")
    lines += [f"{n + 1:>3} = {s}" for n, s in enumerate(cov.scenario_ids)]
    lines.append("numero = parhaan polun paras vastaus opettaa säännön; m = mainitaan vain muualla")
    covered = len(cov.rule_ids) - len(cov.uncovered())
    lines.append(f"Kattavuus: {covered}/{len(cov.rule_ids)} sääntöä ({cov.percent:.0f} %)")
    return "\n".join(lines)


def _cell(cov: Coverage, rule_id: str, scenario_id: str) -> str:
    key = (rule_id, scenario_id)
    return str(cov.counts.get(key) or ("m" if cov.cited.get(key) else "."))
