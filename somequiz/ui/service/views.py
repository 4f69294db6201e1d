"""Template values of the learner's scenario screens, shared with the trainer's preview.

The learner page (:class:`somequiz.ui.service.screens.Screens`) and the studio's preview
(:mod:`somequiz.ui.staff.preview`) draw a situation and an answer's feedback from the same
values and the same templates, so the trainer sees exactly what the learner sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from somequiz.content.models import Catalogue, Choice, Scenario, StepKind
from somequiz.content.text import Lang, Translations
from somequiz.engine.scoring import Feedback
from somequiz.i18n import Messages
from somequiz.ui.render import channel_icon


def text_in(lang: Lang, text: Translations | None) -> str:
    """Content text in ``lang``, Finnish when not translated; empty for no text."""
    return text.get(lang) if text is not None else ""


def rule_rows(catalogue: Catalogue, lang: Lang, rule_ids: Sequence[str]) -> list[dict[str, str]]:
    """The cited rules as (section heading, rule text) rows."""
    rows = []
    for rule_id in rule_ids:
        found = catalogue.rule(rule_id)
        if found is not None:
            section, rule = found
            rows.append(
                {"section": text_in(lang, section.heading), "text": text_in(lang, rule.text)}
            )
    return rows


def situation_view(scenario: Scenario, lang: Lang, t: Messages) -> dict[str, Any]:
    """The values of ``scenario.html`` that draw the scenario's title and situation."""
    situation = scenario.situation
    sender = text_in(lang, situation.sender)
    channel = situation.channel
    return {
        "title": text_in(lang, scenario.title),
        "channel": channel,
        "channel_label": t(f"channel_{channel}"),
        "icon": channel_icon(channel),
        "sender": sender,
        "initial": (sender[:1] or "?").upper(),
        "paragraphs": [p for p in text_in(lang, situation.text).split("\n\n") if p.strip()],
    }


def feedback_view(
    catalogue: Catalogue,
    lang: Lang,
    t: Messages,
    feedback: Feedback,
    shown: Sequence[Choice],
    kind: StepKind,
) -> dict[str, Any]:
    """The values of ``feedback.html``; picked and missed choices in the ``shown`` order."""
    place = {c.id: n for n, c in enumerate(shown)}
    picked = sorted(feedback.choices, key=lambda c: place[c.id])
    missed = sorted(feedback.missed, key=lambda c: place[c.id])
    finished = feedback.next_step is None
    return {
        "severity": feedback.severity,
        "points": feedback.points,
        "max_points": feedback.max_points,
        "picked": [
            {
                "text": text_in(lang, c.text),
                "feedback": text_in(lang, c.feedback),
                "severity": c.severity,
            }
            for c in picked
        ],
        "missed": [
            {"text": text_in(lang, c.text), "feedback": text_in(lang, c.feedback)} for c in missed
        ],
        "missed_label": t(f"kind_{kind}_missed"),
        "rules": rule_rows(catalogue, lang, feedback.rules),
        "consequences": [text_in(lang, c.consequence) for c in feedback.choices if c.consequence],
        "ending": (
            {
                "title": text_in(lang, feedback.ending.title),
                "text": text_in(lang, feedback.ending.text),
            }
            if feedback.ending
            else None
        ),
        "next_label": t("to_summary" if finished else "next_step"),
    }
