"""The step graph of a scenario: where answers lead, and the best and richest paths through it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from somequiz.content.models import Choice, Scenario, Step


@dataclass(frozen=True)
class Edge:
    """A possible move from ``step``: by ``choice`` (None for the step's default) to ``target``."""

    step: Step
    choice: Choice | None
    target: str | None


def edges(scenario: Scenario, step: Step) -> Iterator[Edge]:
    """Every move out of ``step``; a multi-select step moves by its default only."""
    if step.kind == "multi":
        yield Edge(step, None, scenario.default_next(step))
        return
    for choice in step.choices:
        yield Edge(step, choice, scenario.next_after(step, choice))


def step_max_points(step: Step) -> int:
    """Most points a step can give (multi-select: all positive choices together)."""
    if step.kind == "multi":
        return sum(c.points for c in step.choices if c.points > 0)
    return max(c.points for c in step.choices)


def best_selection(step: Step) -> tuple[str, ...]:
    """The choice ids a perfect answer selects."""
    if step.kind == "multi":
        return tuple(c.id for c in step.choices if c.points > 0)
    best = max(step.choices, key=lambda c: c.points)
    return (best.id,)


def reachable(scenario: Scenario) -> set[str]:
    """Ids of steps and endings reachable from the first step."""
    seen: set[str] = set()
    todo = [scenario.steps[0].id]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        step = scenario.step(node)
        if step is not None:
            todo.extend(e.target for e in edges(scenario, step) if e.target is not None)
    return seen


def find_cycle(scenario: Scenario) -> list[str] | None:
    """A cycle of step ids (first id repeated at the end), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        step = scenario.step(node)
        for edge in edges(scenario, step) if step is not None else ():
            target = edge.target
            if target is None or scenario.step(target) is None:
                continue
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for step in scenario.steps:
        if step.id not in state and (cycle := visit(step.id)) is not None:
            return cycle
    return None


def best_path(scenario: Scenario) -> list[Step]:
    """The steps a learner meets by always answering perfectly (graph must be acyclic)."""
    path: list[Step] = []
    step: Step | None = scenario.steps[0]
    while step is not None and step not in path:
        path.append(step)
        choice = step.choices[[c.id for c in step.choices].index(best_selection(step)[0])]
        target = scenario.next_after(step, choice if step.kind == "single" else None)
        step = scenario.step(target) if target is not None else None
    return path


def richest_path_points(scenario: Scenario) -> int:
    """Most points any path can collect (graph must be acyclic)."""
    memo: dict[str, int] = {}

    def most(node: str | None) -> int:
        step = scenario.step(node) if node is not None else None
        if step is None:
            return 0
        if step.id not in memo:
            memo[step.id] = max(
                (edge.choice.points if edge.choice is not None else step_max_points(step))
                + most(edge.target)
                for edge in edges(scenario, step)
            )
        return memo[step.id]

    return most(scenario.steps[0].id)


def max_points(scenario: Scenario) -> int:
    """The scenario's maximum score: the points along the best path."""
    return sum(step_max_points(s) for s in best_path(scenario))
