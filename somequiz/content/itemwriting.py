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
from somequiz.content.loader import Problem, SourceMap
from somequiz.content.models import Choice, Scenario, Step

LONGEST_SHARE = 0.4
ONLY_KEYWORD_SHARE = 0.5
_KEYWORD = re.compile(r"esihenkil|esimie|tarkist|varmist", re.IGNORECASE)
_HEDGE = re.compile(r"\b(ehkä|tuskin|toivot\w*|koska|kuitenkin|varmaan|varmasti|eihän)\b", re.I)
_ABSOLUTE = re.compile(r"\b(aina|koskaan|ikinä|ehdottomasti)\b", re.IGNORECASE)


def _singles(scenario: Scenario) -> Iterator[tuple[int, Step, Choice]]:
    """Single-choice steps with their index and best choice."""
    for i, step in enumerate(scenario.steps):
        if step.kind == "single":
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
                f"vaiheessa '{step.id}' on vain {len(step.choices)} vaihtoehtoa: lisää "
                "uskottava kolmas tai merkitse vaihe kyllä/ei-vaiheeksi (yes_no: true)",
            )


def check_key_position(report: Reporter, scenario: Scenario) -> None:
    """The best answer's place in file order varies."""
    singles = list(_singles(scenario))
    places = {step.choices.index(best) for _, step, best in singles}
    if len(singles) >= 3 and len(places) == 1:
        report.warning(
            ("steps",),
            f"paras vaihtoehto on jokaisessa vaiheessa kohdalla {places.pop() + 1}: "
            "vaihtele sen paikkaa (arvioijat lukevat tiedoston järjestyksessä)",
        )


def check_key_length(report: Reporter, scenario: Scenario) -> None:
    """The best answer is not the longest option in most steps."""
    singles = list(_singles(scenario))
    longest = [
        step.id
        for _, step, best in singles
        if all(len(best.text.fi) > len(c.text.fi) for c in step.choices if c is not best)
    ]
    if singles and len(longest) > LONGEST_SHARE * len(singles):
        report.warning(
            ("steps",),
            f"paras vaihtoehto on pisin {len(longest)}/{len(singles)} vaiheessa "
            f"({', '.join(longest)}): kirjoita väärät vaihtoehdot yhtä täsmällisiksi "
            f"(raja {LONGEST_SHARE:.0%})",
        )


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
        report.warning(
            ("steps",),
            f"vain paras vaihtoehto mainitsee esihenkilön tai tarkistuksen "
            f"{len(only)}/{len(singles)} vaiheessa ({', '.join(only)}): käytä niitä myös "
            "houkuttelevissa väärissä vaihtoehdoissa",
        )


def _marked_only_wrong(
    report: Reporter, scenario: Scenario, pattern: re.Pattern[str], what: str
) -> None:
    for i, step in enumerate(scenario.steps):
        if any(pattern.search(c.text.fi) for c in step.choices if _is_key(step, c)):
            continue
        for j, choice in enumerate(step.choices):
            found = pattern.search(choice.text.fi)
            if found and not _is_key(step, choice):
                report.warning(
                    ("steps", i, "choices", j, "text"),
                    f"{what} ”{found.group(0)}” vain väärässä vaihtoehdossa paljastaa "
                    "vastauksen: poista se tai käytä samaa sävyä myös oikeassa",
                )


def check_tone(report: Reporter, scenario: Scenario) -> None:
    """Hedges and absolute words do not mark the wrong options."""
    _marked_only_wrong(report, scenario, _HEDGE, "selittely- tai epäröintisana")
    _marked_only_wrong(report, scenario, _ABSOLUTE, "ehdoton sana")


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
            if step.kind != "single" or choice.severity != "harmful":
                continue
            reached = endings_from(scenario.next_after(step, choice))
            good = sorted(e for e in reached if _outcome(scenario, e) == "success")
            if good:
                report.warning(
                    ("steps", i, "choices", j),
                    f"harmful-valinnasta '{choice.id}' pääsee onnistuneeseen loppuun "
                    f"'{good[0]}': ohjaa polku omaan loppuunsa (outcome: partial tai failure)",
                )


def _outcome(scenario: Scenario, ending_id: str) -> str | None:
    ending = scenario.ending(ending_id)
    return ending.outcome if ending is not None else None


def check_pasted(report: Reporter, model: BaseModel) -> None:
    """No run of six words copied from the guideline (checked against its fingerprint)."""
    for loc, text in iter_texts(model):
        for phrase in fingerprint.pasted(text.fi):
            report.warning(
                loc,
                f"kuusi tai useampi sana suoraan ohjeesta: ”{phrase}”: kirjoita omin sanoin",
            )


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
