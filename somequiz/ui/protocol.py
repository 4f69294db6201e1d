"""What the learner page shows, as plain data: one record per widget of the page.

The course logic runs in the learner server (see :mod:`somequiz.ui.service.process`) and fills these;
the page's kernel copies them into the widgets of :mod:`somequiz.ui.kernel.widgets`, whose synced
traits have the same names. Everything here is readable by the browser once copied: only what
the learner may already see goes in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Part = Literal["header", "step", "footer"]


@dataclass
class ScreenState:
    """A screen rendered as HTML; its buttons and forms send actions back."""

    html: str = ""
    lang: str = "fi"
    title: str = ""


@dataclass
class StepState:
    """One step: prompt, choices (opaque ids and texts), and after grading its feedback."""

    token: str = ""
    step_label: str = ""
    narrative: str = ""
    prompt: str = ""
    kind: str = "single"
    choices: list[dict[str, str]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    answered: bool = False
    feedback_html: str = ""
    error: str = ""


@dataclass
class PageState:
    """The whole page: its three parts and which of them are on screen, in order."""

    header: ScreenState = field(default_factory=ScreenState)
    step: StepState = field(default_factory=StepState)
    footer: ScreenState = field(default_factory=ScreenState)
    children: tuple[Part, ...] = ("header",)

    def snapshot(self) -> dict[str, Any]:
        """The page as JSON-ready data, what the service sends to the kernel."""
        return asdict(self)
