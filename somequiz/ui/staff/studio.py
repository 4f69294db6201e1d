"""The trainer studio page: a scenario as the learner sees it, findings, coverage, answers.

The studio opens whatever state the files are in: with errors it says so in a banner (with the
errors) and tells which version of the files it shows (:func:`somequiz.reports.studio.read_folder`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as widgets
import pandas as pd
from IPython.display import HTML, display
from markupsafe import Markup

from somequiz.config import settings
from somequiz.content.loader import Problem
from somequiz.errors import SomequizError
from somequiz.i18n import Messages
from somequiz.records.database import Database
from somequiz.records.reports import Reports
from somequiz.reports import studio
from somequiz.reports.export import item_analysis
from somequiz.ui.errors import Guard
from somequiz.ui.render import render
from somequiz.ui.staff.preview import learner_preview

log = logging.getLogger("somequiz.reports.studio")
T = Messages("fi")
# The banner lists this many errors; the Checks tab has them all.
BANNER_PROBLEMS = 8


def requested_scenario() -> str | None:
    """The scenario asked for in the page address (``?scenario=<id>``), if any."""
    # Voilà hands the page's query string to its kernel in this variable.
    asked = parse_qs(os.environ.get("QUERY_STRING", "")).get("scenario")
    return asked[0] if asked else None


def _block(frame: pd.DataFrame | None, empty: str, heading: str = "", **extra: Any) -> HTML:
    """A table (or the ``empty`` text) in a labelled region that scrolls on a narrow screen."""
    table = None
    if frame is not None and not frame.empty:
        # pandas escapes every cell (escape=True): its markup is safe to place in the page.
        table = Markup(frame.to_html(index=False, na_rep="–", escape=True, border=0))
    values = {"intro": [], "legend": [], "label": heading or empty, **extra}
    return HTML(render("studio_block.html", T, heading=heading, table=table, empty=empty, **values))


def _guarded(output: widgets.Output, action: Callable[[], None]) -> Callable[..., None]:
    """Run ``action`` in ``output``; a failure shows a short message and is logged."""

    def run(*_: Any) -> None:
        output.clear_output(wait=True)
        with output:
            with Guard("the trainer studio", expected=(SomequizError,)) as guard:
                action()
            # Printed output is shown as text, never as HTML.
            if guard.expected is not None:
                print(guard.expected)
            elif guard.code is not None:
                print(T("studio_failure", code=guard.code))

    return run


def status_html(snapshot: studio.Snapshot) -> str:
    """The banner: the files' errors, if any, and which version of the files is shown."""
    errors = [p for p in snapshot.problems if p.level == "error"]
    content = snapshot.content
    time = snapshot.read_at.strftime("%H.%M.%S")
    shown = len(content.course.scenarios) if content else 0
    total = shown + len(content.left_out) if content else 0
    version = T(f"studio_version_{snapshot.version}", time=time, shown=shown, total=total)
    heading = T("studio_errors_heading", errors=T.count("v_errors", len(errors))) if errors else ""
    rest = len(errors) - BANNER_PROBLEMS
    return render(
        "studio_status.html",
        T,
        heading=heading,
        problems=[_place(p) for p in errors[:BANNER_PROBLEMS]],
        more=T("studio_more_problems", count=rest) if rest > 0 else "",
        version=version,
    )


def _place(problem: Problem) -> dict[str, str]:
    return {"place": f"{problem.path.name}:{problem.line}:", "message": problem.message}


class Studio:
    """The studio's state: what it shows (a ``reports.studio.Snapshot``) and its widgets."""

    def __init__(self) -> None:
        self.shown: studio.Snapshot | None = None
        self.last_good: studio.Snapshot | None = None
        self.picker = widgets.Dropdown(
            description=T("studio_scenario"),
            layout={"flex": "1 1 16rem", "width": "auto", "max_width": "36rem", "min_width": "0"},
        )
        self.reload = widgets.Button(description=T("studio_reload"), icon="refresh")
        self.status = widgets.HTML()
        self.scenario_out = widgets.Output()
        self.checks_out = widgets.Output()
        self.coverage_out = widgets.Output()
        self.answers_out = widgets.Output()
        self.tabs = widgets.Tab(
            children=[self.scenario_out, self.checks_out, self.coverage_out, self.answers_out],
            titles=tuple(
                T(f"studio_tab_{k}") for k in ("scenario", "checks", "coverage", "answers")
            ),
        )
        self._show_scenario = _guarded(self.scenario_out, self._scenario)
        self._show_answers = _guarded(self.answers_out, self._answers)
        self.reload.on_click(_guarded(self.checks_out, self.load))
        self.picker.observe(self._on_pick, names="value")

    def _on_pick(self, _change: Any) -> None:
        self._show_scenario()
        self._show_answers()

    def load(self) -> None:
        """Read the content folder again, say which version is shown and redraw every tab."""
        self.shown = studio.read_folder(settings().scenarios, self.last_good, datetime.now())
        if self.shown.version == "current":
            self.last_good = self.shown
        self.status.value = status_html(self.shown)
        display(_block(studio.problems_frame(self.shown.problems), T("studio_no_problems")))
        _guarded(self.coverage_out, self._coverage)()
        self._fill_picker()

    def _fill_picker(self) -> None:
        content = self.shown.content if self.shown else None
        options = [(s.title.fi, s.id) for s in content.course_scenarios()] if content else []
        ids = [sid for _, sid in options]
        current = self.picker.value
        if current is None and requested_scenario() in ids:
            # Opened from a link (the HR item analysis): that scenario's answers.
            current = requested_scenario()
            self.tabs.selected_index = 3
        # Draw once for the new content, not once per changed trait.
        self.picker.unobserve(self._on_pick, names="value")
        self.picker.options = options
        self.picker.value = current if current in ids else (ids[0] if ids else None)
        self.picker.observe(self._on_pick, names="value")
        self._on_pick(None)

    def _scenario(self) -> None:
        content = self.shown.content if self.shown else None
        if content is None or self.picker.value is None:
            display(_block(None, T("studio_nothing_to_show")))
            return
        scenario = content.scenarios[self.picker.value]
        svg = Markup(studio.scenario_graph_svg(scenario))  # Graphviz escapes its labels
        display(HTML(render("studio_graph.html", T, svg=svg)))
        # A widget, not a rendered-HTML output: the notebook's styles for rendered HTML (lists,
        # headings, tables) would make it look unlike the learner's page.
        display(widgets.HTML(learner_preview(content, scenario)))

    def _coverage(self) -> None:
        content = self.shown.content if self.shown else None
        if content is None:
            display(_block(None, T("studio_nothing_to_show")))
            return
        frame = studio.coverage_frame(content)
        # One colour scale for the whole matrix (not one per column), the totals left plain.
        scenarios = frame.columns[:-1]
        gradient = frame.style.background_gradient(cmap="Blues", axis=None, subset=scenarios)
        styled = gradient.format(escape="html")
        table = Markup(styled.set_caption(T("studio_coverage_table")).to_html())
        intro = [T("studio_coverage_intro"), T("studio_coverage_columns")]
        values = {"intro": intro, "legend": studio.coverage_legend(content)}
        label = T("studio_coverage_table")
        display(
            HTML(
                render(
                    "studio_block.html", T, heading="", table=table, empty="", label=label, **values
                )
            )
        )

    def _answers(self) -> None:
        content = self.shown.content if self.shown else None
        if content is None or self.picker.value is None:
            return
        scenario = content.scenarios[self.picker.value]
        with Database.configured(settings()) as db:
            records = Reports(db)
            answers = records.answers_frame()
            flags = records.flags_frame()
            stats = records.item_stats()
        distribution = studio.choice_distribution(answers, scenario)
        display(_block(distribution, T("studio_no_answers"), T("studio_answers_choices")))
        analysis = item_analysis(stats, content)
        if "Skenaario" in analysis:
            analysis = analysis[analysis["Skenaario"].isin([scenario.title.fi, None])]
        display(_block(analysis, T("studio_no_attempts"), T("studio_item_analysis")))
        own = flags[flags["scenario_id"] == scenario.id][["step_id", "comment", "created_at"]]
        display(_block(own, T("studio_no_flags"), T("studio_flags")))

    def show(self) -> None:
        """Display the studio and load the content."""
        controls = widgets.HBox([self.picker, self.reload], layout={"flex_flow": "row wrap"})
        display(widgets.VBox([controls, self.status, self.tabs]))
        _guarded(self.checks_out, self.load)()
