"""The HR dashboard's logic: figures and tables from the store, and the static HTML report.

The notebook ``notebooks/hr/dashboard.ipynb`` only calls into here (and ``somequiz.ui.staff.hr`` for
the filter widgets), so everything is testable without a kernel.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import pandas as pd

from somequiz.config import settings
from somequiz.content.folder import Content, load_content
from somequiz.errors import ConfigError, ExportError
from somequiz.records.store import Store
from somequiz.reports.export import MIN_GROUP, THEME_LABELS, Filters, Tables
from somequiz.reports.roster import STATUS_LABELS, TIMEZONE

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "hr" / "dashboard.ipynb"
STATIC_ENV = "SOMEQUIZ_HR_STATIC"  # set while the report is rendered: no widgets then
SHOWN_ROWS = 200  # rows of a people table on the page; the exports have them all


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
    tables = Tables(store, content, chosen, today, prefetch=("items", "themes"))
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
        local = done["completed_at"].dt.tz_convert(TIMEZONE)
        # Months as numbers (yyyymm) group fast; only the few group labels become text.
        month = local.dt.year * 100 + local.dt.month
        trend = (
            done.assign(month=month)
            .groupby("month")
            .agg(suorituksia=("passed", "size"), hyvaksyttyja=("passed", "sum"))
        )
        trend.index = [f"{m // 100:04d}-{m % 100:02d}" for m in trend.index]
        trend.index.name = "month"
    else:
        trend = pd.DataFrame(columns=["suorituksia", "hyvaksyttyja"])
    flags = store.flags_frame()
    if chosen.unit is not None:
        flags = flags[flags["unit"] == chosen.unit]
    if len(flags) and flags["unit"].value_counts().min() < MIN_GROUP and chosen.unit:
        flags = flags.iloc[0:0]
    items = tables.item_analysis(with_ids=True)
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


def _table(
    frame: pd.DataFrame,
    empty: str,
    links: pd.Series | None = None,
    more: str = "Koko lista on Excel- ja CSV-viennissä.",
) -> str:
    """An HTML table, its first SHOWN_ROWS rows (``more`` tells where the rest is); ``links``
    (URLs, '' for none) make the first column's cells links."""
    if frame.empty:
        return f"<p>{html.escape(empty)}</p>"
    shown = frame.head(SHOWN_ROWS)
    note = ""
    if len(frame) > len(shown):
        # Tens of thousands of rows make a page nobody reads and a report too big to mail.
        note = f"<p>Näytetään {len(shown)} / {len(frame)} riviä. {html.escape(more)}</p>"
    if links is None:
        # to_html escapes cell text: names come from learners and HR files.
        body = shown.to_html(index=False, escape=True, na_rep="", border=0, classes="hr-table")
        return body + note
    cells = shown.map(lambda v: "" if v is None or pd.isna(v) else html.escape(str(v)))
    first = cells.columns[0]
    cells[first] = [
        f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{text}</a>' if url else text
        for text, url in zip(cells[first], links.head(SHOWN_ROWS), strict=True)
    ]
    # Every cell is escaped above; only the link markup is HTML.
    body = cells.to_html(index=False, escape=False, border=0, classes="hr-table")
    return body + note


def studio_link(scenario_id: str | None) -> str:
    """The trainer studio's page of a scenario ('' without a studio address or a scenario)."""
    base = settings().studio_url.rstrip("/")
    if not base or not scenario_id:
        return ""
    return f"{base}/voila/render/studio.ipynb?{urlencode({'scenario': scenario_id})}"


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
    flags = board.flags.iloc[::-1].rename(
        columns={"scenario_id": "Skenaario", "step_id": "Vaihe", "comment": "Huomautus"}
    )[["Skenaario", "Vaihe", "Huomautus"]]
    themes = board.themes.rename(columns={v: v for v in THEME_LABELS.values()})
    return [
        ("Suorittaneet yksiköittäin", unit_chart(board)),
        ("Yksiköt", _table(board.by_unit.reset_index().rename(columns={"unit": "Yksikkö"}), "")),
        ("Suoritukset kuukausittain", trend_chart(board)),
        ("Myöhässä", _table(people[status["status"] == "overdue"], "Ei myöhästyneitä.")),
        (
            "Hylätty – yritykset käytetty",
            _table(people[status["status"] == "failed_final"], "Ei hylättyjä."),
        ),
        (
            "Aloittamatta",
            _table(people[status["status"] == "not_started"], "Kaikki ovat aloittaneet."),
        ),
        ("Uusinta erääntynyt", _table(people[status["status"] == "recertify"], "Ei erääntyneitä.")),
        ("Teemat", _table(themes, "Ei suorituksia.")),
        ("Kysymysanalyysi", _items_table(board.items)),
        ("Oppijoiden huomautukset", _table(flags, "Ei huomautuksia.", more="Uusimmat ensin.")),
    ]


def _items_table(items: pd.DataFrame) -> str:
    """The item analysis, each scenario name a link to it in the trainer studio."""
    if "scenario_id" not in items:
        return _table(items, "Ei vastauksia.")
    links = items["scenario_id"].map(studio_link)
    return _table(items.drop(columns="scenario_id"), "Ei vastauksia.", links)


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


@dataclass(frozen=True)
class Download:
    """An export made for the dashboard's download links."""

    filename: str
    mime: str
    data: bytes


DownloadKind = Literal["xlsx", "csv", "xapi"]
DOWNLOAD_LIMIT = 150_000_000  # bytes: beyond this a data: link is too big for a browser tab
_MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "xapi": "application/x-ndjson",
}


def export_file(kind: DownloadKind, filters: Filters, today: date | None = None) -> Download:
    """The XLSX workbook, the completions CSV or the xAPI statements for ``filters``, as
    ``somequiz export`` writes them."""
    from somequiz.reports import xapi
    from somequiz.reports.export import build, write_csv, write_xlsx

    content = load_content(settings().scenarios)
    store = Store(migrate=False)  # the server migrated on start
    try:
        if kind == "xapi":
            since = None
            if filters.since is not None:  # as `somequiz export --format xapi --since`
                since = pd.Timestamp(datetime.combine(filters.since, time(), UTC))
            items = xapi.statements(store, content, since=since, unit=filters.unit)
            text = io.StringIO()
            xapi.write_jsonl(items, text)
            return Download("lausekkeet.jsonl", _MIME[kind], text.getvalue().encode("utf-8"))
        with tempfile.TemporaryDirectory(prefix="somequiz-export-") as folder:
            target = Path(folder) / f"suoritukset.{kind}"
            if kind == "xlsx":
                write_xlsx(build(store, content, filters, today), target)
            else:
                tables = build(store, content, filters, today, sheets=("completions",))
                write_csv(tables["completions"], target)
            return Download(target.name, _MIME[kind], target.read_bytes())
    finally:
        store.close()


def download_link(made: Download) -> str:
    """An HTML link that saves ``made`` from the page itself (a data: URL, no server file)."""
    size = f"{len(made.data) / 1_000_000:.1f}".replace(".", ",")
    if len(made.data) > DOWNLOAD_LIMIT:
        return (
            f"<p>{html.escape(made.filename)} on liian suuri ladattavaksi sivulta ({size} Mt). "
            "Rajaa yksikköä tai päivämäärää, tai käytä komentoa <code>somequiz export</code>.</p>"
        )
    url = f"data:{made.mime};base64,{base64.b64encode(made.data).decode('ascii')}"
    name = html.escape(made.filename)
    return f'<a download="{name}" href="{url}">Tallenna {name} ({size} Mt)</a>'


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
