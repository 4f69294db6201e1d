"""HR dashboard widgets: unit and date filters that redraw the dashboard below them."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from IPython import display as ipd

from somequiz.dashboard import STATIC_ENV, show
from somequiz.export import Filters
from somequiz.store import Store


def _units() -> list[str]:
    store = Store()
    try:
        roster = store.roster_frame()
        attempts = store.attempts_frame()
    finally:
        store.close()
    return sorted(set(roster["unit"].dropna()) | set(attempts["unit"].dropna()))


def dashboard() -> None:
    """The dashboard with filters; without them when rendering the static report."""
    if os.environ.get(STATIC_ENV):
        show()
        return
    unit = widgets.Dropdown(
        options=[("Kaikki yksiköt", None), *((u, u) for u in _units())],
        description="Yksikkö",
    )
    since = widgets.DatePicker(description="Alkaen")
    output = widgets.Output()

    def redraw(_change: object = None) -> None:
        output.clear_output(wait=True)
        with output:  # exceptions inside callbacks are shown only through an Output
            show(Filters(since.value, unit.value))

    unit.observe(redraw, names="value")
    since.observe(redraw, names="value")
    show_widgets: Callable[..., Any] = ipd.display  # untyped in IPython
    show_widgets(widgets.HBox([unit, since]), output)
    redraw()
