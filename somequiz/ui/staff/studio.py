"""The trainer studio page: pick a scenario, see every branch, findings, coverage and answers."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as widgets
import pandas as pd
from IPython.display import HTML, display

from somequiz.config import settings
from somequiz.content.folder import Content, check_folder
from somequiz.errors import SomequizError
from somequiz.records.store import Store
from somequiz.reports import studio
from somequiz.reports.export import item_analysis
from somequiz.reports.preview import preview
from somequiz.ui.errors import reference_code

log = logging.getLogger("somequiz.reports.studio")


def requested_scenario() -> str | None:
    """The scenario asked for in the page address (``?scenario=<id>``), if any."""
    # Voilà hands the page's query string to its kernel in this variable.
    asked = parse_qs(os.environ.get("QUERY_STRING", "")).get("scenario")
    return asked[0] if asked else None


def _table(frame: pd.DataFrame, empty: str) -> HTML:
    if frame.empty:
        return HTML(f"<p>{empty}</p>")
    return HTML(frame.to_html(index=False, na_rep="–", escape=True, border=0))


def _guarded(output: widgets.Output, action: Callable[[], None]) -> Callable[..., None]:
    """Run ``action`` in ``output``; a failure shows a short message and is logged."""

    def run(*_: Any) -> None:
        output.clear_output(wait=True)
        with output:
            try:
                action()
            except SomequizError as exc:
                print(exc)  # printed output is shown as text, never as HTML
            except Exception:
                code = reference_code()
                log.exception("studio error %s", code)
                print(f"Jokin meni vikaan (viite {code}). Virheen tiedot ovat lokissa.")

    return run


class Studio:
    """The studio's state: the content as last loaded and the records store."""

    def __init__(self) -> None:
        self.content: Content | None = None
        self.picker = widgets.Dropdown(description="Skenaario", layout={"width": "32rem"})
        self.reload = widgets.Button(description="Lataa uudelleen", icon="refresh")
        self.scenario_out = widgets.Output()
        self.checks_out = widgets.Output()
        self.coverage_out = widgets.Output()
        self.answers_out = widgets.Output()
        self.tabs = widgets.Tab(
            children=[self.scenario_out, self.checks_out, self.coverage_out, self.answers_out],
            titles=("Skenaario", "Tarkistus", "Kattavuus", "Vastaukset"),
        )
        self._show_scenario = _guarded(self.scenario_out, self._scenario)
        self._show_answers = _guarded(self.answers_out, self._answers)
        self.reload.on_click(_guarded(self.checks_out, self.load))
        self.picker.observe(self._on_pick, names="value")

    def _on_pick(self, _change: Any) -> None:
        self._show_scenario()
        self._show_answers()

    def load(self) -> None:
        """Read the content folder again and redraw every tab."""
        folder = settings().scenarios
        self.content, _ = check_folder(folder)
        display(_table(studio.problems_frame(folder), "Ei virheitä eikä varoituksia."))
        self.coverage_out.clear_output(wait=True)
        with self.coverage_out:
            if self.content is not None:
                frame = studio.coverage_frame(self.content)
                styled = frame.style.background_gradient(cmap="Blues").format(escape="html")
                display(HTML(styled.to_html()))
        if self.content is not None:
            options = [(s.title.fi, s.id) for s in self.content.course_scenarios()]
            ids = [sid for _, sid in options]
            current = self.picker.value
            if current is None and requested_scenario() in ids:
                # Opened from a link (the HR item analysis): that scenario's answers.
                current = requested_scenario()
                self.tabs.selected_index = 3
            self.picker.options = options
            self.picker.value = current if current in ids else options[0][1]
            self._on_pick(None)

    def _scenario(self) -> None:
        if self.content is None or self.picker.value is None:
            display(HTML("<p>Korjaa ensin Tarkistus-välilehden virheet.</p>"))
            return
        scenario = self.content.scenarios[self.picker.value]
        display(HTML(studio.scenario_graph_svg(scenario)))
        print(preview(self.content, scenario))

    def _answers(self) -> None:
        if self.content is None or self.picker.value is None:
            return
        scenario = self.content.scenarios[self.picker.value]
        store = Store()
        try:
            answers = store.answers_frame()
            flags = store.flags_frame()
            stats = store.item_stats()
        finally:
            store.close()
        display(HTML("<h3>Valinnat ensimmäisellä yrityksellä</h3>"))
        display(_table(studio.choice_distribution(answers, scenario), "Ei vastauksia vielä."))
        analysis = item_analysis(stats, self.content)
        if "Skenaario" in analysis:
            analysis = analysis[analysis["Skenaario"].isin([scenario.title.fi, None])]
        display(HTML("<h3>Osioanalyysi</h3>"))
        display(_table(analysis, "Ei suorituksia vielä."))
        display(HTML("<h3>Oppijoiden merkinnät: epäselvä kohta</h3>"))
        own = flags[flags["scenario_id"] == scenario.id][["step_id", "comment", "created_at"]]
        display(_table(own, "Ei merkintöjä."))

    def show(self) -> None:
        """Display the studio and load the content."""
        display(widgets.VBox([widgets.HBox([self.picker, self.reload]), self.tabs]))
        _guarded(self.checks_out, self.load)()
