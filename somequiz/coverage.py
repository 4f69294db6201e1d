"""Which guideline rules the scenarios teach: a rules × scenarios matrix."""

from __future__ import annotations

from dataclasses import dataclass

from somequiz.content import Content


@dataclass(frozen=True)
class Coverage:
    """How often each scenario's choices cite each rule."""

    rule_ids: list[str]
    scenario_ids: list[str]
    counts: dict[tuple[str, str], int]

    def covered(self, rule_id: str) -> bool:
        """Whether any scenario cites ``rule_id``."""
        return any(self.counts.get((rule_id, s), 0) for s in self.scenario_ids)

    @property
    def percent(self) -> float:
        """Share of catalogue rules cited at least once."""
        if not self.rule_ids:
            return 100.0
        return 100.0 * sum(self.covered(r) for r in self.rule_ids) / len(self.rule_ids)

    def uncovered(self) -> list[str]:
        """Rules no scenario cites, in catalogue order."""
        return [r for r in self.rule_ids if not self.covered(r)]


def coverage(content: Content) -> Coverage:
    """The rules × scenarios matrix of ``content`` (all scenarios in the folder)."""
    counts: dict[tuple[str, str], int] = {}
    for scenario in content.scenarios.values():
        for step in scenario.steps:
            for choice in step.choices:
                for rule_id in choice.rules:
                    key = (rule_id, scenario.id)
                    counts[key] = counts.get(key, 0) + 1
    return Coverage(
        rule_ids=[rule.id for _, rule in content.catalogue.rules()],
        scenario_ids=list(content.scenarios),
        counts=counts,
    )


def render(cov: Coverage) -> str:
    """The matrix as plain text: one row per rule, uncovered rules first."""
    width = max(len(r) for r in cov.rule_ids) if cov.rule_ids else 10
    header = " " * width + "  " + " ".join(f"{n + 1:>3}" for n in range(len(cov.scenario_ids)))
    lines = [header]
    for rule_id in sorted(cov.rule_ids, key=cov.covered):
        cells = " ".join(f"{cov.counts.get((rule_id, s), 0) or '.':>3}" for s in cov.scenario_ids)
        mark = "" if cov.covered(rule_id) else "  ← ei yhdessäkään skenaariossa"
        lines.append(f"{rule_id:<{width}}  {cells}{mark}")
    lines.append("")
    lines += [f"{n + 1:>3} = {s}" for n, s in enumerate(cov.scenario_ids)]
    covered = len(cov.rule_ids) - len(cov.uncovered())
    lines.append(f"Kattavuus: {covered}/{len(cov.rule_ids)} sääntöä ({cov.percent:.0f} %)")
    return "\n".join(lines)
