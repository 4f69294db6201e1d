"""A table for the HR dashboard that HR can search, filter by status, sort and page through.

All of it happens in the kernel: the page gets one page of rows at a time as HTML (through
the dashboard's autoescaping templates), so 100 000 employees cost the browser 25 rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from somequiz.i18n import Messages
from somequiz.reports import dashboard_html as h

if TYPE_CHECKING:
    import ipywidgets as widgets

PAGE_ROWS = 25
t = Messages("fi")


def _sort_key(values: pd.Series) -> pd.Series:
    """Texts compared without case (å, ä, ö come after z, as in Finnish); others as they are."""
    if values.dtype == object:
        return values.map(lambda v: v.casefold() if isinstance(v, str) else v)
    return values


def _search_text(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Each row's searchable text, lower-cased once."""
    if not columns:
        return pd.Series("", index=frame.index)
    texts = frame[columns].astype("string").fillna("")
    return texts.agg(" ".join, axis=1).str.casefold()


class PagedTable:
    """A table widget: a search field, a status filter, sorting and pages of PAGE_ROWS rows."""

    def __init__(
        self,
        label: str,
        *,
        search: tuple[list[str], str],
        status: str | None = None,
        rows: int = PAGE_ROWS,
        order: str = "",
    ) -> None:
        """``search``: the columns searched and the search field's hint; ``status``: the
        column the status filter picks from; ``order``: the column sorted by at first (none: the
        frame's own order)."""
        import ipywidgets as widgets

        self.label = label
        self.rows = rows
        self._order = order
        self._search_columns = search[0]
        self._status_column = status
        self.frame = pd.DataFrame()
        self.links: Mapping[str, pd.Series] = {}
        self.page = 0
        self._haystack = pd.Series(dtype="string")
        self.query = widgets.Text(description=t("hr_search"), placeholder=search[1])
        self.status = widgets.Dropdown(
            description=t("hr_status"), options=[(t("hr_all_statuses"), "")]
        )
        self.sort = widgets.Dropdown(description=t("hr_sort"), options=[])
        self.descending = widgets.Dropdown(
            description=t("hr_order"),
            options=[(t("hr_ascending"), False), (t("hr_descending"), True)],
        )
        self.previous = widgets.Button(description=t("hr_prev"), icon="chevron-left")
        self.next = widgets.Button(description=t("hr_next"), icon="chevron-right")
        self.position = widgets.HTML()
        self.body = widgets.HTML()
        self.widget = self._lay_out(bool(search[0]), status is not None)

    def _lay_out(self, searched: bool, by_status: bool) -> widgets.VBox:
        """The controls above the table (each redraws it), the table, and the page buttons."""
        import ipywidgets as widgets

        for control in (self.query, self.status, self.sort, self.descending):
            control.observe(self._first_page, names="value")
            control.style.description_width = "initial"
            control.layout.width = "auto"
            control.layout.max_width = "100%"
        for button in (self.previous, self.next):
            button.layout.width = "auto"
        self.previous.on_click(lambda _b: self._turn(-1))
        self.next.on_click(lambda _b: self._turn(1))
        controls = [self.query] if searched else []
        controls += [self.status] if by_status else []
        controls += [self.sort, self.descending]
        box = widgets.VBox(
            [
                widgets.HBox(
                    controls, layout=widgets.Layout(flex_flow="row wrap", align_items="center")
                ),
                self.body,
                widgets.HBox(
                    [self.previous, self.position, self.next],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
                ),
            ]
        )
        box.add_class("sq-hr-paged")
        return box

    def show(self, frame: pd.DataFrame, links: Mapping[str, pd.Series] | None = None) -> None:
        """Show ``frame`` (``links``: URLs by column, aligned with the frame) from page 1."""
        self.frame = frame.reset_index(drop=True)
        self.links = {c: s.reset_index(drop=True) for c, s in (links or {}).items()}
        self._haystack = _search_text(self.frame, [c for c in self._search_columns if c in frame])
        if self._status_column in self.frame:
            present = sorted(self.frame[self._status_column].dropna().unique())
            self.status.options = [(t("hr_all_statuses"), ""), *((s, s) for s in present)]
            self.status.value = ""  # new options leave the dropdown showing nothing
        names = [str(c) for c in self.frame.columns]
        if [name for _, name in self.sort.options[1:]] != names:
            self.sort.options = [(t("hr_sort_none"), ""), *((name, name) for name in names)]
            self.sort.value = self._order if self._order in names else ""
        self._first_page()

    def selected(self) -> pd.DataFrame:
        """The rows the search and status filter leave, sorted."""
        frame = self.frame
        query = str(self.query.value).strip().casefold()
        if query:
            frame = frame[self._haystack.str.contains(query, regex=False)]
        if self.status.value and self._status_column in frame:
            frame = frame[frame[self._status_column] == self.status.value]
        if self.sort.value and self.sort.value in frame:
            frame = frame.sort_values(
                self.sort.value,
                ascending=not self.descending.value,
                na_position="last",
                kind="stable",
                key=_sort_key,
            )
        return frame

    def _first_page(self, _change: object = None) -> None:
        self.page = 0
        self.render()

    def _turn(self, step: int) -> None:
        self.page += step
        self.render()

    def render(self) -> None:
        """Draw the current page."""
        chosen = self.selected()
        pages = max(1, -(-len(chosen) // self.rows))
        self.page = min(max(self.page, 0), pages - 1)
        shown = chosen.iloc[self.page * self.rows : (self.page + 1) * self.rows]
        links = {c: s.loc[shown.index] for c, s in self.links.items()}
        sort = (str(self.sort.value), bool(self.descending.value)) if self.sort.value else None
        grid = h.grid(shown, links=links, sort=sort)
        grid.label = self.label
        self.body.value = h.wrap(h.render("table", grid))
        self.position.value = h.wrap(
            h.render(
                "position",
                t("hr_page", page=self.page + 1, pages=pages, rows=h.number(len(chosen))),
            )
        )
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
