"""Kinds of step: one class per kind holds everything that differs between them.

A step's ``kind`` names one of :data:`KINDS`. Grading, the step graph, checks, previews and
the learner's screen ask the kind instead of branching on its name, so a new kind ("put these
in order") is one class here, one view in ``ui/kernel/choice.js`` and its words in the
catalogue (``kind_<name>_*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

from somequiz.content.models import SEVERITIES, Choice, Severity, Step

_RANK = {severity: n for n, severity in enumerate(SEVERITIES)}


def worst(severities: Iterable[Severity]) -> Severity:
    """The most serious of ``severities`` (``best`` for none)."""
    return max(severities, key=_RANK.__getitem__, default="best")


class StepKind:
    """How one kind of step is answered, graded and where it leads."""

    name: ClassVar[str]
    # An answer is one choice (a radio group on the page), not a set of them.
    picks_one: ClassVar[bool]
    # A choice of this kind may name the next step (only when one choice decides the way on).
    branches: ClassVar[bool]

    def sizes(self, step: Step) -> range:
        """How many choices an answer may select."""
        raise NotImplementedError

    def best(self, step: Step) -> tuple[str, ...]:
        """The choice ids a perfect answer selects."""
        raise NotImplementedError

    def max_points(self, step: Step) -> int:
        """Most points the step can give."""
        raise NotImplementedError

    def points(self, picked: tuple[Choice, ...]) -> int:
        """Points of an answer that selected ``picked`` (already validated)."""
        raise NotImplementedError

    def severity(self, picked: tuple[Choice, ...], missed: tuple[Choice, ...]) -> Severity:
        """How serious the answer is: its worst choice, and for some kinds what it missed."""
        return worst(c.severity for c in picked)

    def faults(self, step: Step) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """(place in the step, catalogue key) of each thing this kind does not allow."""
        raise NotImplementedError

    def deciding(self, picked: tuple[Choice, ...]) -> Choice | None:
        """The choice whose ``next`` decides the way on, or None for the step's default."""
        return picked[0] if self.branches else None


class Single(StepKind):
    """Choose the one best option; each option may lead elsewhere."""

    name = "single"
    picks_one = True
    branches = True

    def sizes(self, step: Step) -> range:
        return range(1, 2)

    def best(self, step: Step) -> tuple[str, ...]:
        return (max(step.choices, key=lambda c: c.points).id,)

    def max_points(self, step: Step) -> int:
        return max(c.points for c in step.choices)

    def points(self, picked: tuple[Choice, ...]) -> int:
        return picked[0].points

    def faults(self, step: Step) -> Iterator[tuple[tuple[str | int, ...], str]]:
        if not any(c.severity == "best" for c in step.choices):
            yield (), "v_no_best"
        top = self.max_points(step)
        for j, choice in enumerate(step.choices):
            if choice.severity == "best" and choice.points < top:
                yield ("choices", j, "points"), "v_best_not_highest"


class Multi(StepKind):
    """Choose every fitting option; missing one makes the answer at best acceptable."""

    name = "multi"
    picks_one = False
    branches = False

    def sizes(self, step: Step) -> range:
        return range(1, len(step.choices) + 1)

    def best(self, step: Step) -> tuple[str, ...]:
        return tuple(c.id for c in step.choices if c.points > 0)

    def max_points(self, step: Step) -> int:
        return sum(c.points for c in step.choices if c.points > 0)

    def points(self, picked: tuple[Choice, ...]) -> int:
        return max(0, sum(c.points for c in picked))

    def faults(self, step: Step) -> Iterator[tuple[tuple[str | int, ...], str]]:
        if not any(c.points > 0 for c in step.choices):
            yield (), "v_no_points_in_step"
        for j, choice in enumerate(step.choices):
            if choice.next is not None:  # the way on is the step's, not a choice's
                yield ("choices", j, "next"), "v_next_on_multi_choice"

    def severity(self, picked: tuple[Choice, ...], missed: tuple[Choice, ...]) -> Severity:
        chosen = super().severity(picked, missed)
        return worst([chosen, "acceptable"]) if missed else chosen


KINDS: dict[str, StepKind] = {kind.name: kind for kind in (Single(), Multi())}


def kind_of(step: Step) -> StepKind:
    """The kind of ``step``."""
    return KINDS[step.kind]
