"""The HR dashboard's logic: figures and tables from the store, and the static HTML report.

The notebook ``notebooks/hr/dashboard.ipynb`` only calls into here (and ``somequiz.ui.staff.hr`` for
the widgets), so everything is testable without a kernel. Every figure, table and download
follows the same filters (:class:`Filters`): what HR sees is what HR downloads.
"""

from __future__ import annotations

import base64
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
from somequiz.i18n import Messages
from somequiz.records.database import Database
from somequiz.records.reports import Reports
from somequiz.records.rows import now
from somequiz.reports import dashboard_html as h
from somequiz.reports.export import Filters, Tables
from somequiz.reports.item_analysis import MIN_GROUP
from somequiz.reports.roster import STATUS_LABELS, TIMEZONE

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "hr" / "dashboard.ipynb"
STATIC_ENV = "SOMEQUIZ_HR_STATIC"  # set while the report is rendered: no widgets then
REPORT_ROWS = 25  # rows of a people list in the report; the downloads have them all
DONE = ("passed", "recertify")  # statuses of people who have passed the course once
PEOPLE_COLUMNS = [
    "Nimi",
    "Henkilönumero",
    "Yksikkö",
    "Tila",
    "Määräpäivä",
    "Suorituspäivä",
    "Tulos %",
    "Todistuskoodi",
]
TOP_CHOICE = "Yleisin muu kuin paras valinta"
t = Messages("fi")


@dataclass
class Dashboard:
    """Every table the dashboard shows, for one set of filters (the downloads' rows)."""

    filters: Filters
    today: date
    status: pd.DataFrame  # roster.STATUS_COLUMNS of the people shown
    people: pd.DataFrame  # the completions sheet of the same people
    trend: pd.DataFrame  # per month (yyyymm): completions, passes
    items: pd.DataFrame
    flags: pd.DataFrame
    themes: pd.DataFrame


def build(
    store: Reports, content: Content, filters: Filters | None = None, today: date | None = None
) -> Dashboard:
    """The dashboard's tables from the store."""
    chosen = filters or Filters()
    tables = Tables(store, content, chosen, today, prefetch=("items", "themes"))
    done = tables.completed()
    local = done["completed_at"].dt.tz_convert(TIMEZONE)
    # Months as numbers (yyyymm) group fast.
    trend = (
        done.assign(month=local.dt.year * 100 + local.dt.month)
        .groupby("month")
        .agg(total=("passed", "size"), passes=("passed", "sum"))
    )
    flags = store.flags_frame()
    if chosen.unit is not None:
        flags = flags[flags["unit"] == chosen.unit]
        if len(flags) and flags["unit"].value_counts().min() < MIN_GROUP:
            flags = flags.iloc[0:0]  # a small unit's notes could tell who wrote them
    if chosen.since is not None:
        flags = flags[flags["created_at"] >= tables.since]
    return Dashboard(
        chosen,
        tables.today,
        tables.shown_status(),
        tables.completions(),
        trend,
        tables.item_analysis(with_ids=True),
        flags,
        tables.themes(),
    )


def today() -> date:
    """The day the statuses are computed for (as the exports compute it)."""
    return now().date()


def figures(board: Dashboard) -> list[h.Figure]:
    """The key figures: people, to do (of which in progress), overdue, passed, failed, due."""
    counts = board.status["status"].value_counts()
    count: Callable[..., int] = lambda *names: int(sum(counts.get(n, 0) for n in names))  # noqa: E731
    return [
        h.Figure("people", t("hr_fig_people"), h.number(len(board.status))),
        h.Figure(
            "todo",
            t("hr_fig_todo"),
            h.number(count("not_started", "in_progress")),
            t("hr_fig_todo_note", count=h.number(count("in_progress"))),
        ),
        h.Figure("overdue", t("hr_fig_overdue"), h.number(count("overdue"))),
        h.Figure("passed", t("hr_fig_passed"), h.number(count("passed"))),
        h.Figure("failed", t("hr_fig_failed"), h.number(count("failed_final"))),
        h.Figure("recertify", t("hr_fig_recertify"), h.number(count("recertify"))),
    ]


def unit_bars(board: Dashboard) -> list[h.Bar]:
    """Share of people who have passed, per unit (largest unit first)."""
    status = board.status.assign(unit=board.status["unit"].fillna(t("hr_no_unit")))
    grouped = status.groupby("unit")["status"]
    table = pd.DataFrame(
        {"people": grouped.size(), "done": grouped.apply(lambda s: s.isin(DONE).sum())}
    )
    table = table.sort_values(["people", "done"], ascending=False, kind="stable")
    return [
        h.Bar(
            str(unit),
            t(
                "hr_unit_bar",
                percent=h.percent(100 * h.fraction(row.done, row.people)),
                done=h.number(row.done),
                people=h.number(row.people),
            ),
            h.fraction(row.done, row.people),
        )
        for unit, row in table.iterrows()
    ]


def trend_bars(board: Dashboard) -> list[h.Bar]:
    """Completions per month: the bar is the month's share of the busiest month."""
    most = float(board.trend["total"].max()) if len(board.trend) else 0.0
    months = [int(key) for key in board.trend.index.tolist()]
    totals = [int(n) for n in board.trend["total"].tolist()]
    passes = [int(n) for n in board.trend["passes"].tolist()]
    return [
        h.Bar(
            h.month(key // 100, key % 100),
            t("hr_trend_bar", passed=h.number(done), total=h.number(total)),
            h.fraction(float(total), most),
        )
        for key, total, done in zip(months, totals, passes, strict=True)
    ]


def theme_bars(board: Dashboard) -> tuple[list[h.Bar], str]:
    """Mean share of each theme's points for everyone selected, as learners see it in their
    result; or no bars and why (too few learners, no completions)."""
    if board.themes.empty:
        return [], t("hr_no_completions")
    row = board.themes.iloc[-1]  # everyone the filters select
    if row["Huomautus"]:
        return [], str(row["Huomautus"])
    names = [c for c in board.themes.columns if c.endswith(" %") and c != "Hyväksyttyjä %"]
    bars = [
        h.Bar(name.removesuffix(" %"), h.percent(float(row[name])), float(row[name]) / 100)
        for name in names
        if not h.missing(row[name])
    ]
    return bars, t("hr_no_completions")


def people_table(board: Dashboard) -> pd.DataFrame:
    """The people of the dashboard, as the completions download has them, fewer columns."""
    return board.people[PEOPLE_COLUMNS]


def studio_link(scenario_id: str | None, step_id: str | None = None) -> str:
    """The trainer studio's page of a scenario ('' without a studio address or a scenario)."""
    base = settings().studio_url.rstrip("/")
    if not base or not scenario_id:
        return ""
    query = {"scenario": scenario_id} | ({"step": step_id} if step_id else {})
    return f"{base}/voila/render/studio.ipynb?{urlencode(query)}"


def items_table(board: Dashboard) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The item analysis with scenario titles and step numbers, and each step's studio link."""
    items = board.items
    if items["scenario_id"].isna().all():  # too few learners: only the note
        return items[["Arvio"]], {}
    shown = items.drop(columns=["scenario_id", "step_id", "choice_id"]).rename(
        columns={"Skenaario": "Tilanne"}
    )
    shown["Kohta"] = [t("hr_item_step", n=n) for n in items["Kohta"]]
    # The choice and its share in one column: the table fits the page.
    shown[TOP_CHOICE] = [
        t("hr_item_choice", text=text, share=h.percent(share)) if not h.missing(text) else ""
        for text, share in zip(items[TOP_CHOICE], items["Valinnan osuus %"], strict=True)
    ]
    shown = shown.drop(columns="Valinnan osuus %")
    links = [studio_link(s, p) for s, p in zip(items["scenario_id"], items["step_id"], strict=True)]
    return shown, {"Kohta": pd.Series(links, index=shown.index)}


def flags_table(board: Dashboard, content: Content) -> pd.DataFrame:
    """Learners' notes on unclear steps, newest first, with titles and step numbers."""
    flags = board.flags.iloc[::-1]
    titles, numbers = {}, {}
    for scenario in content.course_scenarios():
        titles[scenario.id] = scenario.title.fi
        for n, step in enumerate(scenario.steps, start=1):
            numbers[(scenario.id, step.id)] = t("hr_item_step", n=n)
    local = flags["created_at"].dt.tz_convert(TIMEZONE).dt.date
    return pd.DataFrame(
        {
            "Päivä": local.to_numpy(),
            "Tilanne": [titles.get(s, s) for s in flags["scenario_id"]],
            "Kohta": [
                numbers.get(k, k[1])
                for k in zip(flags["scenario_id"], flags["step_id"], strict=True)
            ],
            "Palaute": flags["comment"].to_numpy(),
        }
    )


def scope(board: Dashboard) -> str:
    """What the filters select, in words."""
    what = [board.filters.unit or t("hr_all_units")]
    if board.filters.since is not None:
        what.append(t("hr_filter_since", date=h.day(board.filters.since)))
    return t("hr_filtered", what=", ".join(what))


def _by_due(people: pd.DataFrame) -> pd.DataFrame:
    """People with the earliest due day first (no due day last)."""
    return people.sort_values("Määräpäivä", na_position="last", kind="stable")


def _capped(rows: pd.DataFrame, links: dict[str, pd.Series] | None = None) -> h.Grid:
    """The first REPORT_ROWS rows as a Grid that says how many there are in all."""
    shown = rows.head(REPORT_ROWS)
    cut = {column: urls.loc[shown.index] for column, urls in (links or {}).items()}
    return h.grid(shown, links=cut, total=len(rows))


def report_html(board: Dashboard, content: Content) -> str:
    """The dashboard as static HTML (the e-mailed report): each list its first REPORT_ROWS
    rows, the steps worth checking first."""
    status = board.status["status"].reset_index(drop=True)
    people = people_table(board).reset_index(drop=True)
    lists = [
        (STATUS_LABELS[code], "sq-hr-" + code, _by_due(people[status == code]))
        for code in ("overdue", "failed_final", "recertify", "in_progress", "not_started")
    ]
    items, links = items_table(board)
    if "Arvio" in items:  # the steps worth checking first
        items = items.sort_values("Arvio", key=lambda v: v == t("hr_item_ok"), kind="stable")
    body = [
        h.render("header", t("hr_report_title"), t("hr_made", date=h.day(board.today))),
        h.render("figures", figures(board), scope(board)),
        h.render("bars", t("hr_by_unit"), unit_bars(board), t("hr_none"), "sq-hr-units"),
        h.render("bars", t("hr_trend"), trend_bars(board), t("hr_no_completions"), "sq-hr-trend"),
        *(
            h.render("section", heading, anchor, "", _capped(rows))
            for heading, anchor, rows in lists
        ),
        h.render("bars", t("hr_themes"), *theme_bars(board), "sq-hr-themes", t("hr_themes_intro")),
        h.render(
            "section", t("hr_items"), "sq-hr-items", t("hr_items_intro"), _capped(items, links)
        ),
        h.render(
            "section",
            t("hr_flags"),
            "sq-hr-flags",
            t("hr_flags_intro"),
            _capped(flags_table(board, content)),
        ),
    ]
    return h.wrap("".join(body))


def show(filters: Filters | None = None) -> None:
    """Display the report in a notebook (static: no widgets)."""
    from IPython import display as ipd

    # IPython is untyped: call it through typed names.
    display: Callable[..., Any] = ipd.display
    html_output: Callable[..., Any] = ipd.HTML
    content = load_content(settings().scenarios)
    with Database.configured(settings(), migrate=False) as db:
        board = build(Reports(db), content, filters)
    display(html_output(report_html(board, content)))


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
    with Database.configured(settings(), migrate=False) as db:  # the server migrated
        store = Reports(db)
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


@dataclass(frozen=True)
class Link:
    """A download link for the template: href '' when the file is too big for the page."""

    label: str
    filename: str
    href: str
    size: str


def download_link(made: Download, label: str) -> Link:
    """A link that saves ``made`` from the page itself (a data: URL, no file on the server)."""
    shown = h.size(len(made.data))
    if len(made.data) > DOWNLOAD_LIMIT:
        return Link(
            t("hr_download_too_big", name=made.filename, size=shown), made.filename, "", shown
        )
    url = f"data:{made.mime};base64,{base64.b64encode(made.data).decode('ascii')}"
    return Link(label, made.filename, url, shown)


def render_report(output: Path, env: dict[str, str] | None = None, timeout: int = 120) -> None:
    """Execute the dashboard notebook without widgets and write it as HTML without code."""
    from somequiz.reports.notebook_html import write_notebook_html

    previous = os.environ.get(STATIC_ENV)
    os.environ[STATIC_ENV] = "1"  # the kernel inherits the environment
    try:
        write_notebook_html(NOTEBOOK, output, t("hr_report_title"), timeout=timeout)
    finally:
        if previous is None:
            os.environ.pop(STATIC_ENV, None)
        else:
            os.environ[STATIC_ENV] = previous
