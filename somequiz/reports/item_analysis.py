"""Item analysis for HR and trainers: how each step of the course went, in plain Finnish.

Figures over first tries of completed attempts, from the store's sums (:class:`ItemStats`):
the mean share of the step's points, and how well the step's score goes together with the
rest of the course score (corrected item–total correlation). Each row also gets a verdict in
words, so nobody needs to know what a "facility index" is.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.models import Scenario, Step
from somequiz.i18n import FI
from somequiz.records.rows import ItemStats

MIN_GROUP = 5  # answer-level figures only for groups at least this big (GDPR)
SMALL_GROUP_NOTE = f"Alle {MIN_GROUP} oppijaa: vastaustason lukuja ei näytetä tietosuojan vuoksi."
EASY, HARD, LINKED = 90.0, 40.0, 0.2  # thresholds of the verdicts (percent, percent, r)
ITEM_COLUMNS = [
    "Skenaario",
    "Kohta",
    "Kysymys",
    "Vastauksia",
    "Pisteistä keskimäärin %",
    "Yhteys kokonaistulokseen",
    "Yleisin muu kuin paras valinta",
    "Valinnan osuus %",
    "Arvio",
]
ID_COLUMNS = ["scenario_id", "step_id", "choice_id"]
_SUMS = ["answers", "items", "item_sum", "pairs", "sx", "sy", "sxx", "syy", "sxy"]


def _correlation(
    n: float, sx: float, sy: float, sxx: float, syy: float, sxy: float
) -> float | None:
    """Pearson's r from sums; None when either variable does not vary."""
    vx, vy = n * sxx - sx * sx, n * syy - sy * sy
    # Sums of equal values leave rounding noise, not variance: compare with the magnitude.
    if n < 2 or vx <= 1e-9 * n * sxx or vy <= 1e-9 * n * syy:
        return None
    return (n * sxy - sx * sy) / math.sqrt(vx * vy)


def verdict(percent: float | None, linked: float | None) -> str:
    """What a step's figures mean, in words (a catalogue text)."""
    if percent is not None and percent >= EASY:
        return FI["hr_item_easy"]
    if percent is not None and percent < HARD:
        return FI["hr_item_hard"]
    if linked is not None and linked < LINKED:
        return FI["hr_item_unlinked"]
    return FI["hr_item_ok"]


def _step_sums(choices: pd.DataFrame) -> dict[Any, dict[str, float]]:
    """The sums of every step, keyed by (scenario id, step id)."""
    grouped = choices.groupby(["scenario_id", "step_id"], sort=False)[_SUMS].sum()
    return {
        key: {str(k): float(v) for k, v in row.items()}
        for key, row in grouped.to_dict("index").items()
    }


def _picks(choices: pd.DataFrame) -> dict[tuple[str, str], dict[str, int]]:
    """How often each choice was picked, per step."""
    picks: dict[tuple[str, str], dict[str, int]] = {}
    columns = ("scenario_id", "step_id", "chosen", "answers")
    for sid, step_id, chosen, answers in zip(*(choices[c] for c in columns), strict=True):
        counts = picks.setdefault((sid, step_id), {})
        for choice in chosen:
            counts[choice] = counts.get(choice, 0) + int(answers)
    return picks


def _top_wrong(step: Step, counts: dict[str, int]) -> tuple[str, int] | None:
    """The most chosen non-best choice; ties go to the one listed first in the step."""
    best = set(graph.best_selection(step))
    order = {c.id: n for n, c in enumerate(step.choices)}
    wrong = [(c, n) for c, n in counts.items() if c not in best and n]
    return min(wrong, key=lambda w: (-w[1], order.get(w[0], len(order)), w[0]), default=None)


def _row(
    scenario: Scenario, number: int, step: Step, part: dict[str, float], counts: dict[str, int]
) -> dict[str, Any]:
    """One step's row; answer-level figures only when at least MIN_GROUP answered."""
    answered = int(part["answers"])
    shown = answered >= MIN_GROUP
    facility = part["item_sum"] / part["items"] if part["items"] else None
    percent = round(100 * facility, 1) if shown and facility is not None else None
    linked = None
    if shown:
        r = _correlation(*(part[k] for k in ("pairs", "sx", "sy", "sxx", "syy", "sxy")))
        linked = None if r is None else round(r, 2)
    top = _top_wrong(step, counts) if shown else None
    texts = {c.id: c.text.fi for c in step.choices}
    return {
        "Skenaario": scenario.title.fi,
        "Kohta": number,
        "Kysymys": step.prompt.fi,
        "Vastauksia": answered,
        "Pisteistä keskimäärin %": percent,
        "Yhteys kokonaistulokseen": linked,
        "Yleisin muu kuin paras valinta": texts.get(top[0], top[0]) if top else None,
        "Valinnan osuus %": round(100 * top[1] / answered, 1) if top else None,
        "Arvio": verdict(percent, linked) if shown else SMALL_GROUP_NOTE,
        "scenario_id": scenario.id,
        "step_id": step.id,
        "choice_id": top[0] if top else None,
    }


def item_analysis(stats: ItemStats, content: Content, *, with_ids: bool = False) -> pd.DataFrame:
    """One row per answered step (ITEM_COLUMNS), in course order.

    ``with_ids`` adds ID_COLUMNS: the scenario's, step's and top wrong choice's ids (for links
    and checks; never shown as text).
    """
    columns = ITEM_COLUMNS + (ID_COLUMNS if with_ids else [])
    if stats.learners < MIN_GROUP:
        return pd.DataFrame([dict.fromkeys(columns, None) | {"Arvio": SMALL_GROUP_NOTE}])
    steps = _step_sums(stats.choices)
    picks = _picks(stats.choices)
    rows = [
        _row(scenario, number, step, steps[(scenario.id, step.id)], picks[(scenario.id, step.id)])
        for scenario in content.course_scenarios()
        for number, step in enumerate(scenario.steps, start=1)
        if (scenario.id, step.id) in steps
    ]
    return pd.DataFrame(rows, columns=columns)
