"""The HR dashboard page: filters, key figures, one-click downloads, a certificate check, and
tables HR can search, sort and page through. Without widgets (``somequiz report``) the same
figures and tables are drawn as static HTML by :func:`somequiz.reports.dashboard.show`."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from somequiz.config import settings
from somequiz.content.folder import Content, load_content
from somequiz.errors import SomequizError
from somequiz.i18n import Messages
from somequiz.records.database import Database
from somequiz.records.reports import Reports
from somequiz.records.signing import Signatures
from somequiz.reports import dashboard as d
from somequiz.reports import dashboard_html as h
from somequiz.reports.export import Filters
from somequiz.ui.errors import Guard
from somequiz.ui.staff.hr_table import PagedTable

log = logging.getLogger("somequiz.hr")
ALL = ""  # a dropdown's "all" choice: None would leave the dropdown showing nothing
t = Messages("fi")
# Made for every change of the filters, so that a download is one click. The xAPI statements
# are made only when asked for: 300 learners' statements took minutes and 60 MB (the whole
# answer history), which the filters must not wait for.
DOWNLOADS: list[tuple[d.DownloadKind, str]] = [
    ("xlsx", "hr_download_xlsx"),
    ("csv", "hr_download_csv"),
]


@contextmanager
def _database() -> Iterator[Database]:
    with Database.configured(settings(), migrate=False) as db:  # the server migrated on start
        yield db


def _guarded(target: Any, action: Callable[[], None]) -> None:
    """Run ``action``; a failure becomes a Finnish message in ``target`` (logged with a code)."""
    with Guard("the HR dashboard", expected=(SomequizError,)) as guard:
        action()
    if guard.failed:
        message = str(guard.expected) if guard.expected else t("hr_error", code=guard.code)
        target.value = h.wrap(h.render("message", message, "note"))


def make_downloads(filters: Filters, kinds: list[tuple[d.DownloadKind, str]]) -> list[d.Link]:
    """The downloads (kind, label key) of the records ``filters`` selects, made now."""
    return [d.download_link(d.export_file(kind, filters), t(key)) for kind, key in kinds]


def certificate_text(code: str) -> str:
    """What the store says about a certificate code, in a sentence."""
    if not code.strip():
        return t("hr_cert_empty")
    with _database() as db:
        check = Signatures(db).verify_certificate(code)
    if not check.found:
        return t("hr_cert_missing", code=check.code)
    if not check.valid:
        return t("hr_cert_altered", code=check.code)
    when = check.completed_at.date() if check.completed_at else None
    text = t(
        "hr_cert_ok",
        code=check.code,
        name=check.name or t("hr_cert_erased"),
        date=h.day(when) if when else "",
        verdict=t("hr_cert_passed") if check.passed else t("hr_cert_failed"),
    )
    if check.superseded_at is not None:
        text += " " + t("hr_cert_superseded", date=h.day(check.superseded_at.date()))
    return text


def roomy(control: Any) -> Any:
    """``control`` with its whole label shown and its own width (ipywidgets cut both)."""
    control.style.description_width = "initial"
    control.layout.width = "auto"
    control.layout.max_width = "100%"
    return control


def _in_background(target: Any, action: Callable[[], None]) -> None:
    """Run ``action`` in a thread (guarded: failures are shown in ``target``)."""
    worker = threading.Thread(
        target=lambda: _guarded(target, action), name="somequiz-downloads", daemon=True
    )
    worker.start()


class HrPage:
    """The dashboard's widgets; every part follows the unit and date filters."""

    def __init__(self, content: Content, units: list[str]) -> None:
        import ipywidgets as widgets

        self.content = content
        self.unit = widgets.Dropdown(
            description=t("hr_unit"), options=[(t("hr_all_units"), ALL), *((u, u) for u in units)]
        )
        self.since = widgets.DatePicker(description=t("hr_since"))
        self.code = widgets.Text(description=t("hr_cert_code"), placeholder="ABCD-EFGH-IJKL")
        self.check = widgets.Button(description=t("hr_cert_check"), icon="search")
        self.verdict = widgets.HTML()
        self.figures = widgets.HTML()
        self.downloads = widgets.HTML()
        self.xapi = widgets.Button(description=t("hr_download_xapi_make"), icon="cogs")
        self.xapi_link = widgets.HTML()
        self.xapi.on_click(self._make_xapi)
        for control in (self.unit, self.since, self.code, self.check, self.xapi):
            roomy(control)
        self.charts = widgets.HTML()
        self.themes = widgets.HTML()
        self.people = PagedTable(
            t("hr_people"),
            search=(["Nimi", "Henkilönumero", "Yksikkö"], t("hr_search_people")),
            status="Tila",
            order="Nimi",
        )
        self.items = PagedTable(
            t("hr_items"), search=(["Tilanne", "Kysymys", "Arvio"], t("hr_search_items")), rows=15
        )
        self.flags = PagedTable(
            t("hr_flags"), search=(["Tilanne", "Palaute"], t("hr_search_flags")), rows=10
        )
        self.unit.observe(self.redraw, names="value")
        self.since.observe(self.redraw, names="value")
        self.check.on_click(self._check)
        self.code.on_submit(self._check)
        self._made = 0  # which redraw the downloads being made belong to

    def widget(self) -> Any:
        """The page's widgets, top to bottom."""
        import ipywidgets as widgets

        def part(text: str, anchor: str, intro: str = "") -> Any:
            return widgets.HTML(h.wrap(h.render("heading", text, anchor, intro)))

        row = widgets.Layout(flex_flow="row wrap", align_items="flex-end")
        return (
            widgets.VBox(
                [
                    widgets.HTML(
                        h.wrap(
                            h.render("header", t("hr_title"), t("hr_as_of", date=h.day(d.today())))
                        )
                    ),
                    part(t("hr_filters"), "sq-hr-filters", t("hr_since_hint")),
                    widgets.HBox([self.unit, self.since], layout=row),
                    self.figures,
                    part(t("hr_downloads"), "sq-hr-downloads"),
                    self.downloads,
                    widgets.HBox([self.xapi, self.xapi_link], layout=row),
                    part(t("hr_certificate"), "sq-hr-certificate"),
                    widgets.HBox([self.code, self.check], layout=row),
                    self.verdict,
                    part(t("hr_people"), "sq-hr-people"),
                    self.people.widget,
                    self.charts,
                    self.themes,
                    part(t("hr_items"), "sq-hr-items", t("hr_items_intro")),
                    self.items.widget,
                    part(t("hr_flags"), "sq-hr-flags", t("hr_flags_intro")),
                    self.flags.widget,
                ],
                layout=widgets.Layout(max_width="75rem", margin="0 auto"),
            )
            .add_class("sq-root")
            .add_class("sq-hr")
            .add_class("sq-hr-page")
        )

    def filters(self) -> Filters:
        """What the filters select now."""
        return Filters(self.since.value, self.unit.value or None)

    def redraw(self, _change: object = None) -> None:
        """Draw every part again for the filters (downloads are made in the background)."""
        _guarded(self.figures, self._draw)

    def _draw(self) -> None:
        filters = self.filters()
        with _database() as db:
            board = d.build(Reports(db), self.content, filters)
        self.figures.value = h.wrap(h.render("figures", d.figures(board), d.scope(board)))
        self.charts.value = h.wrap(
            h.render("bars", t("hr_by_unit"), d.unit_bars(board), t("hr_none"), "sq-hr-units")
            + h.render(
                "bars", t("hr_trend"), d.trend_bars(board), t("hr_no_completions"), "sq-hr-trend"
            )
        )
        self.themes.value = h.wrap(
            h.render(
                "bars", t("hr_themes"), *d.theme_bars(board), "sq-hr-themes", t("hr_themes_intro")
            )
        )
        self.people.show(d.people_table(board))
        items, links = d.items_table(board)
        self.items.show(items, links)
        self.flags.show(d.flags_table(board, self.content))
        self._start_downloads(filters)

    def _start_downloads(self, filters: Filters) -> None:
        """Make the downloads in a thread: a workbook of many employees takes seconds."""
        self._made += 1
        mine = self._made
        self.downloads.value = h.wrap(h.render("message", t("hr_download_making"), "meta"))
        self.xapi_link.value = ""

        def make() -> None:
            links = make_downloads(filters, DOWNLOADS)
            if mine == self._made:  # the filters have not changed meanwhile
                self.downloads.value = h.wrap(h.render("downloads", links))

        _in_background(self.downloads, make)

    def _make_xapi(self, _button: object) -> None:
        filters = self.filters()
        self.xapi.disabled = True
        self.xapi_link.value = h.wrap(h.render("message", t("hr_download_making"), "meta"))

        def make() -> None:
            try:
                links = make_downloads(filters, [("xapi", "hr_download_xapi")])
                self.xapi_link.value = h.wrap(h.render("downloads", links))
            finally:
                self.xapi.disabled = False

        _in_background(self.xapi_link, make)

    def _check(self, _source: object = None) -> None:
        def check() -> None:
            self.verdict.value = h.wrap(
                h.render("message", certificate_text(self.code.value), "note")
            )

        _guarded(self.verdict, check)


def dashboard() -> None:
    """The dashboard with filters; without widgets when rendering the static report."""
    if os.environ.get(d.STATIC_ENV):
        d.show()
        return
    from IPython import display as ipd

    show: Callable[..., Any] = ipd.display  # untyped in IPython
    html: Callable[..., Any] = ipd.HTML
    with _database() as db:
        units = Reports(db).units()
    page = HrPage(load_content(settings().scenarios), units)
    # The HR styles (the course's own come with the page): a trusted file, not user text.
    show(html(f"<style>{h.stylesheet()}</style>"), page.widget())
    page.redraw()
