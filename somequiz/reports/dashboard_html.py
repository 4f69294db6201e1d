"""The HR dashboard as HTML: Finnish number and date formats, tables, figures and bar charts.

Everything goes through the autoescaping templates in ``somequiz/reports/templates/hr``: names and
units come from learners and HR files. The bars are the learner's own (``sq-bar`` of
somequiz.css), so HR and learners see one visual language and no chart library is needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from babel.dates import format_date
from babel.numbers import format_decimal

from somequiz.i18n import Messages

LOCALE = "fi_FI"
TEMPLATES = Path(__file__).parent / "templates"
_T = Messages("fi")


def number(value: float, decimals: int = 0) -> str:
    """A number the Finnish way: 1 234 and 0,46 (no decimals shown when they are zero)."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return str(format_decimal(value, format=pattern, locale=LOCALE))


def percent(value: float) -> str:
    """A percentage (0–100) the Finnish way: 97 %, 97,4 %."""
    return f"{number(value, 1)}\u00a0%"


def day(value: date) -> str:
    """A date the Finnish way: 3.12.2026."""
    return str(format_date(value, "d.M.yyyy", locale=LOCALE))


def month(year: int, number_of_month: int) -> str:
    """A month in words: joulukuu 2026."""
    return str(format_date(date(year, number_of_month, 1), "LLLL yyyy", locale=LOCALE))


def size(count: int) -> str:
    """A file size in the units people read: 812 t, 45 kt, 1,2 Mt."""
    if count < 1000:
        return f"{count}\u00a0t"
    if count < 1_000_000:
        return f"{number(count / 1000)}\u00a0kt"
    return f"{number(count / 1_000_000, 1)}\u00a0Mt"


def missing(value: Any) -> bool:
    """Whether a cell holds nothing (None, NaN, NaT, pandas' NA)."""
    return value is None or (not isinstance(value, str | date | bool) and bool(pd.isna(value)))


def cell_text(value: Any, percent_column: bool = False) -> str:
    """One table cell as text: '' for nothing, Finnish dates and numbers."""
    if missing(value):
        return ""
    if isinstance(value, bool):
        return _T("hr_yes") if value else _T("hr_no")
    if isinstance(value, date):
        return day(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if percent_column:
            return percent(float(value))
        return number(value, 0 if float(value).is_integer() else 2)
    return str(value)


@dataclass(frozen=True)
class Cell:
    """A table cell: its text and, for a link, where it leads."""

    text: str
    href: str = ""


@dataclass(frozen=True)
class Column:
    """A table column: its heading, whether it holds numbers, how it is sorted."""

    name: str
    kind: str = "short"  # "num" (right-aligned), "short" (kept on one line), "text", "long"
    sort: str = ""  # "ascending" or "descending" when the table is sorted by it


@dataclass
class Grid:
    """A table ready for the template."""

    columns: list[Column]
    rows: list[list[Cell]]
    empty: str = ""
    more: str = ""
    label: str = ""


def grid(
    frame: pd.DataFrame,
    *,
    links: Mapping[str, pd.Series] | None = None,
    empty: str = "",
    sort: tuple[str, bool] | None = None,
    total: int | None = None,
) -> Grid:
    """``frame`` as a Grid: numbers right-aligned, ``links`` (URLs by column, '' for none)
    make cells links, ``sort`` (column, descending) marks the sorted column, ``total`` > the
    frame's rows says that only a part is shown."""
    texts = {
        c: [cell_text(v, str(c).endswith("%")) for v in frame[c].tolist()] for c in frame.columns
    }
    columns = [
        Column(str(c), _kind(frame[c], texts[c]), _aria_sort(str(c), sort)) for c in frame.columns
    ]
    urls = {str(c): [str(u) for u in s.tolist()] for c, s in (links or {}).items()}
    rows = [
        [Cell(texts[c][n], urls[str(c)][n] if str(c) in urls else "") for c in frame.columns]
        for n in range(len(frame))
    ]
    more = ""
    if total is not None and total > len(frame):
        more = _T("hr_more_rows", shown=number(len(frame)), total=number(total))
    return Grid(columns, rows, empty or _T("hr_none"), more)


def _kind(values: pd.Series, texts: list[str]) -> str:
    """How a column is laid out: numbers right, short texts on one line, long ones wrapped."""
    if pd.api.types.is_numeric_dtype(values):
        return "num"
    longest = max((len(text) for text in texts), default=0)
    return "short" if longest <= 30 else "text" if longest <= 60 else "long"


def _aria_sort(name: str, sort: tuple[str, bool] | None) -> str:
    if sort is None or sort[0] != name:
        return ""
    return "descending" if sort[1] else "ascending"


@dataclass(frozen=True)
class Bar:
    """One bar of a bar chart: its label, its value as text, its length (0–1)."""

    label: str
    value: str
    fraction: float


@dataclass(frozen=True)
class Figure:
    """A key figure at the top of the dashboard."""

    kind: str
    label: str
    value: str
    note: str = ""


@cache
def environment() -> jinja2.Environment:
    """The HR templates' environment (autoescaped, strict, the catalogue as ``t``)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["t"] = _T
    return env


def render(macro: str, *args: Any) -> str:
    """The markup of one of the dashboard's macros (templates/hr/parts.html.j2)."""
    module = environment().get_template("hr/parts.html.j2").module
    return str(getattr(module, macro)(*args))


def stylesheet() -> str:
    """The HR styles (tokens and learner styles come from somequiz.css)."""
    return (TEMPLATES / "hr" / "hr.css").read_text(encoding="utf-8")


def wrap(markup: str) -> str:
    """``markup`` inside the course's style root, where the stylesheet's tokens apply."""
    return f'<div class="sq-root sq-hr" lang="fi">{markup}</div>'


def fraction(part: float, whole: float) -> float:
    """``part / whole`` between 0 and 1 (0 for nothing)."""
    if not whole or math.isnan(whole):
        return 0.0
    return max(0.0, min(1.0, part / whole))
