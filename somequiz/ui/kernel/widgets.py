"""The two anywidgets of the learner UI. Their synced state is readable by the browser, so it
holds only what the learner may already see: screen markup, the prompt and the choices' ids and
texts before an answer, and the feedback only after the kernel has graded and stored it."""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from somequiz.ui import STYLESHEET

_HERE = Path(__file__).parent


class Screen(anywidget.AnyWidget):
    """A screen rendered in the kernel; its buttons and forms send actions back."""

    _esm = _HERE / "screen.js"
    _css = STYLESHEET
    html = traitlets.Unicode("").tag(sync=True)
    lang = traitlets.Unicode("fi").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)


class ChoiceStep(anywidget.AnyWidget):
    """One step: prompt, choices (opaque ids and texts), and after grading its feedback."""

    _esm = _HERE / "choice.js"
    _css = STYLESHEET
    token = traitlets.Unicode("").tag(sync=True)
    step_label = traitlets.Unicode("").tag(sync=True)
    narrative = traitlets.Unicode("").tag(sync=True)
    prompt = traitlets.Unicode("").tag(sync=True)
    kind = traitlets.Unicode("single").tag(sync=True)
    choices = traitlets.List(traitlets.Dict()).tag(sync=True)
    labels = traitlets.Dict().tag(sync=True)
    answered = traitlets.Bool(False).tag(sync=True)
    feedback_html = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
