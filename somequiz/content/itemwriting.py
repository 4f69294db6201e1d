"""Item-writing checks: warnings when the form of a step gives its answer away.

Following the usual multiple-choice item-writing guidelines: the key is not always in the
same place, not usually the longest, not the only option that names the supervisor or a
check; hedges and absolute words are not a mark of the wrong options; a step has at least
three options. Also the story checks a trainer needs: no pasted guideline text, and no path
with a harmful choice that ends in a success ending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import BaseModel

from somequiz.content import fingerprint, graph
from somequiz.content.checks import Reporter, iter_texts
from somequiz.content.kinds import kind_of
from somequiz.content.loader import SAY, Problem, SourceMap
from somequiz.content.models import Choice, Scenario, Step

LONGEST_SHARE = 0.4
ONLY_KEYWORD_SHARE = 0.5
_KEYWORD = re.compile(r"esihenkil|esimie|tarkist|varmist", re.IGNORECASE)
_HEDGE = re.compile(r"\b(ehkä|tuskin|toivot\w*|koska|kuitenkin|varmaan|varmasti|eihän)\b", re.I)
_ABSOLUTE = re.compile(r"\b(aina|koskaan|ikinä|ehdottomasti)\b", re.IGNORECASE)


def _singles(scenario: Scenario) -> Iterator[tuple[int, Step, Choice]]:
    """Steps answered with one choice, with their index and best choice."""
    for i, step in enumerate(scenario.steps):
        if kind_of(step).picks_one:
            best_id = graph.best_selection(step)[0]
            yield i, step, next(c for c in step.choices if c.id == best_id)


def _is_key(step: Step, choice: Choice) -> bool:
    return choice.id in graph.best_selection(step)


def check_choice_count(report: Reporter, scenario: Scenario) -> None:
    """At least three options unless the step is marked as a yes/no step."""
    for i, step in enumerate(scenario.steps):
        if len(step.choices) < 3 and not step.yes_no:
            report.warning(
                ("steps", i, "choices"),
                SAY("v_two_choices", step=step.id, count=len(step.choices)),
            )


def check_key_position(report: Reporter, scenario: Scenario) -> None:
    """The best answer's place in file order varies."""
    singles = list(_singles(scenario))
    places = {step.choices.index(best) for _, step, best in singles}
    if len(singles) >= 3 and len(places) == 1:
        report.warning(("steps",), SAY("v_key_same_place", n=places.pop() + 1), named=False)


def check_key_length(report: Reporter, scenario: Scenario) -> None:
    """The best answer is not the longest option in most steps."""
    singles = list(_singles(scenario))
    longest = [
        step.id
        for _, step, best in singles
        if all(len(best.text.fi) > len(c.text.fi) for c in step.choices if c is not best)
    ]
    if singles and len(longest) > LONGEST_SHARE * len(singles):
        message = SAY(
            "v_key_longest",
            count=len(longest),
            total=len(singles),
            steps=", ".join(longest),
            limit=f"{LONGEST_SHARE:.0%}",
        )
        report.warning(("steps",), message, named=False)


def check_keywords(report: Reporter, scenario: Scenario) -> None:
    """The supervisor or a check is not named only in best answers."""
    singles = list(_singles(scenario))
    only = [
        step.id
        for _, step, best in singles
        if _KEYWORD.search(best.text.fi)
        and not any(_KEYWORD.search(c.text.fi) for c in step.choices if c is not best)
    ]
    if len(only) >= 2 and len(only) > ONLY_KEYWORD_SHARE * len(singles):
        message = SAY(
            "v_keyword_only_in_key", count=len(only), total=len(singles), steps=", ".join(only)
        )
        report.warning(("steps",), message, named=False)


def _marked_only_wrong(
    report: Reporter, scenario: Scenario, pattern: re.Pattern[str], key: str
) -> None:
    for i, step in enumerate(scenario.steps):
        if any(pattern.search(c.text.fi) for c in step.choices if _is_key(step, c)):
            continue
        for j, choice in enumerate(step.choices):
            found = pattern.search(choice.text.fi)
            if found and not _is_key(step, choice):
                message = SAY(key, word=found.group(0))
                report.warning(("steps", i, "choices", j, "text"), message)


def check_tone(report: Reporter, scenario: Scenario) -> None:
    """Hedges and absolute words do not mark the wrong options."""
    _marked_only_wrong(report, scenario, _HEDGE, "v_hedge_only_in_wrong")
    _marked_only_wrong(report, scenario, _ABSOLUTE, "v_absolute_only_in_wrong")


def check_endings(report: Reporter, scenario: Scenario) -> None:
    """No path through a harmful choice reaches a success ending."""
    memo: dict[str, set[str]] = {}

    def endings_from(node: str | None) -> set[str]:
        if node is None:
            return set()
        step = scenario.step(node)
        if step is None:
            return {node}
        if node not in memo:
            memo[node] = set()
            memo[node] = set().union(*(endings_from(e.target) for e in graph.edges(scenario, step)))
        return memo[node]

    for i, step in enumerate(scenario.steps):
        for j, choice in enumerate(step.choices):
            if not kind_of(step).branches or choice.severity != "harmful":
                continue
            reached = endings_from(graph.target(scenario, step, choice))
            good = sorted(e for e in reached if _outcome(scenario, e) == "success")
            if good:
                message = SAY("v_harmful_to_success", choice=choice.id, ending=good[0])
                report.warning(("steps", i, "choices", j), message)


def _outcome(scenario: Scenario, ending_id: str) -> str | None:
    ending = scenario.ending(ending_id)
    return ending.outcome if ending is not None else None


def check_pasted(report: Reporter, model: BaseModel) -> None:
    """No run of six words copied from the guideline (checked against its fingerprint)."""
    for loc, text in iter_texts(model):
        for phrase in fingerprint.pasted(text.fi):
            report.warning(loc, SAY("v_pasted", phrase=phrase))


SCENARIO_CHECKS: tuple[Callable[[Reporter, Scenario], None], ...] = (
    check_choice_count,
    check_key_position,
    check_key_length,
    check_keywords,
    check_tone,
    check_endings,
    check_pasted,
)


def check_items(path: Path, scenario: Scenario, source: SourceMap) -> list[Problem]:
    """Every item-writing warning for one (otherwise valid) scenario."""
    report = Reporter(path, source)
    for check in SCENARIO_CHECKS:
        check(report, scenario)
    return report.problems
