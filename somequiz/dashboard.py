"""The HR dashboard's logic: figures and tables from the store, and the static HTML report.

The notebook ``notebooks/hr/dashboard.ipynb`` only calls into here (and ``somequiz.ui.hr`` for
the filter widgets), so everything is testable without a kernel.
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from somequiz.config import settings
from somequiz.content import Content, load_content
from somequiz.errors import ConfigError, ExportError
from somequiz.export import MIN_GROUP, THEME_LABELS, Filters, Tables, item_analysis
from somequiz.roster import STATUS_LABELS
from somequiz.store import Store

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "hr" / "dashboard.ipynb"
STATIC_ENV = "SOMEQUIZ_HR_STATIC"  # set while the report is rendered: no widgets then


@dataclass
class Dashboard:
    """Every table the dashboard shows, for one set of filters."""

    filters: Filters
    status: pd.DataFrame
    by_unit: pd.DataFrame
    trend: pd.DataFrame
    items: pd.DataFrame
    flags: pd.DataFrame
    themes: pd.DataFrame


def build(
    store: Store, content: Content, filters: Filters | None = None, today: date | None = None
) -> Dashboard:
    """The dashboard's tables from the store."""
    chosen = filters or Filters()
    tables = Tables(store, content, chosen, today)
    status = tables.status
    if len(status):
        grouped = status.groupby("unit", dropna=False)["status"]
        by_unit = pd.DataFrame(
            {
                "Henkilöitä": grouped.size(),
                "Suorittaneita %": grouped.apply(
                    lambda s: round(100 * s.isin(["passed", "recertify"]).mean(), 1)
                ),
                "Myöhässä": grouped.apply(lambda s: int((s == "overdue").sum())),
            }
        )
    else:
        by_unit = pd.DataFrame(columns=["Henkilöitä", "Suorittaneita %", "Myöhässä"])
    done = tables._completed()
    if len(done):
        month = done["completed_at"].dt.tz_convert("Europe/Helsinki").dt.strftime("%Y-%m")
        trend = (
            done.assign(month=month)
            .groupby("month")
            .agg(suorituksia=("passed", "size"), hyvaksyttyja=("passed", "sum"))
        )
    else:
        trend = pd.DataFrame(columns=["suorituksia", "hyvaksyttyja"])
    flags = store.flags_frame()
    if chosen.unit is not None:
        flags = flags[flags["unit"] == chosen.unit]
    if len(flags) and flags["unit"].value_counts().min() < MIN_GROUP and chosen.unit:
        flags = flags.iloc[0:0]
    items = item_analysis(store.answers_frame(), done, content, tables)
    return Dashboard(chosen, status, by_unit, trend, items, flags, tables.themes())


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return buffer.getvalue()


def unit_chart(board: Dashboard) -> bytes:
    """Completion rate by unit as a horizontal bar chart (PNG)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 0.5 + 0.4 * max(1, len(board.by_unit))))
    axes = figure.subplots()
    data = board.by_unit["Suorittaneita %"].astype(float)
    axes.barh([str(u) for u in data.index], data.to_numpy(), color="#1f6f8b")
    axes.set_xlim(0, 100)
    axes.set_xlabel("Suorittaneita %")
    axes.invert_yaxis()
    return _png(figure)


def trend_chart(board: Dashboard) -> bytes:
    """Completions and passes per month (PNG)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3))
    axes = figure.subplots()
    months = [str(m) for m in board.trend.index]
    axes.plot(months, board.trend["suorituksia"].to_numpy(), marker="o", label="Suorituksia")
    axes.plot(months, board.trend["hyvaksyttyja"].to_numpy(), marker="o", label="Hyväksyttyjä")
    axes.legend()
    axes.tick_params(axis="x", labelrotation=45)
    return _png(figure)


def _table(frame: pd.DataFrame, empty: str) -> str:
    if frame.empty:
        return f"<p>{html.escape(empty)}</p>"
    # to_html escapes cell text: names come from learners and HR files.
    return frame.to_html(index=False, escape=True, na_rep="", border=0, classes="hr-table")


def sections(board: Dashboard) -> list[tuple[str, str | bytes]]:
    """The dashboard as (heading, HTML or PNG) pairs, in display order."""
    status = board.status
    people = status.assign(Tila=status["status"].map(STATUS_LABELS))[
        ["employee_number", "name", "unit", "start_date", "due", "Tila"]
    ].rename(
        columns={
            "employee_number": "Henkilönumero",
            "name": "Nimi",
            "unit": "Yksikkö",
            "start_date": "Aloituspäivä",
            "due": "Määräpäivä",
        }
    )
    flags = board.flags.rename(
        columns={"scenario_id": "Skenaario", "step_id": "Vaihe", "comment": "Huomautus"}
    )[["Skenaario", "Vaihe", "Huomautus"]]
    themes = board.themes.rename(columns={v: v for v in THEME_LABELS.values()})
    return [
        ("Suorittaneet yksiköittäin", unit_chart(board)),
        ("Yksiköt", _table(board.by_unit.reset_index().rename(columns={"unit": "Yksikkö"}), "")),
        ("Suoritukset kuukausittain", trend_chart(board)),
        ("Myöhässä", _table(people[status["status"] == "overdue"], "Ei myöhästyneitä.")),
        (
            "Aloittamatta",
            _table(people[status["status"] == "not_started"], "Kaikki ovat aloittaneet."),
        ),
        ("Uusinta erääntynyt", _table(people[status["status"] == "recertify"], "Ei erääntyneitä.")),
        ("Teemat", _table(themes, "Ei suorituksia.")),
        ("Kysymysanalyysi", _table(board.items, "Ei vastauksia.")),
        ("Oppijoiden huomautukset", _table(flags, "Ei huomautuksia.")),
    ]


def show(filters: Filters | None = None) -> None:
    """Display the dashboard in a notebook (static: headings, charts and tables)."""
    from IPython import display as ipd

    # IPython and nbconvert are untyped: call them through typed names.
    display: Callable[..., Any] = ipd.display
    html_output: Callable[..., Any] = ipd.HTML
    image: Callable[..., Any] = ipd.Image
    content = load_content(settings().scenarios)
    store = Store()
    try:
        board = build(store, content, filters)
    finally:
        store.close()
    for heading, body in sections(board):
        display(html_output(f"<h2>{html.escape(heading)}</h2>"))
        display(image(data=body, format="png") if isinstance(body, bytes) else html_output(body))


def render_report(output: Path, env: dict[str, str] | None = None, timeout: int = 120) -> None:
    """Execute the dashboard notebook without widgets and write it as HTML without code."""
    import nbconvert
    import nbformat
    from nbclient import NotebookClient

    read: Callable[..., Any] = nbformat.read
    exporter_class: Callable[..., Any] = nbconvert.HTMLExporter

    if not NOTEBOOK.is_file():
        raise ConfigError(f"HR-muistio puuttuu: {NOTEBOOK}. Asenna somequiz uudelleen.")
    notebook = read(NOTEBOOK, as_version=4)
    previous = os.environ.get(STATIC_ENV)
    os.environ[STATIC_ENV] = "1"  # the kernel inherits the environment
    try:
        NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        ).execute()
    except Exception as exc:  # a failing cell, a missing kernel: say what to do
        raise ExportError(
            f"Raportin muistion suoritus epäonnistui ({exc.__class__.__name__}: "
            f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}). "
            "Tarkista tietokantayhteys komennolla 'somequiz db upgrade'."
        ) from None
    finally:
        if previous is None:
            os.environ.pop(STATIC_ENV, None)
        else:
            os.environ[STATIC_ENV] = previous
    exporter = exporter_class(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(notebook)
    try:
        output.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"Tiedostoa {output} ei voi kirjoittaa: {exc.strerror}.") from exc
