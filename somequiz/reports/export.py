"""HR exports: completions, overdue, theme scores and item analysis as XLSX or CSV.

Headers and dates are Finnish; every text cell is neutralised against formula injection,
because names and units come from people and files HR does not control.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import xlsxwriter

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash
from somequiz.course.versions import equivalent_versions
from somequiz.errors import ConfigError
from somequiz.records.store import ItemStats, Store, now
from somequiz.reports.roster import STATUS_LABELS, TIMEZONE, StatusRules, status_frame

MIN_GROUP = 5  # answer-level figures only for groups at least this big (GDPR)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spaces, line breaks and invisible characters before a formula sign hide it from a check of
# the first character only; spreadsheets may drop them on import.
_BLANKS = " \t\r\n\u00a0\u200b\u200c\u200d\u2060\ufeff"
THEME_LABELS = {
    "media": "Media",
    "false-claims": "Virheelliset väitteet",
    "opinion-and-role": "Mielipide ja rooli",
    "confidentiality": "Salassapito",
    "customer-data": "Asiakastiedot",
    "copyright": "Tekijänoikeudet",
    "accounts-and-passwords": "Tilit ja salasanat",
    "terms-of-service": "Palveluehdot",
    "information-security": "Tietoturva",
    "law-and-sanctions": "Laki ja seuraamukset",
    "conduct": "Käytös",
}
IDENTITY_LABELS = {"sso": "kirjautunut (SSO)", "self_reported": "ilmoitettu itse"}
SHEETS = {
    "completions": "Suoritukset",
    "overdue": "Myöhässä",
    "themes": "Teemat",
    "items": "Kysymysanalyysi",
}
Sheet = Literal["completions", "overdue", "themes", "items"]
SMALL_GROUP_NOTE = f"Alle {MIN_GROUP} oppijaa: vastaustason lukuja ei näytetä tietosuojan vuoksi."


@dataclass(frozen=True)
class Filters:
    """What HR asked for: completions since a date, one unit."""

    since: date | None = None
    unit: str | None = None


def _formula(value: object) -> bool:
    """Whether a spreadsheet could read the text as a formula (after blanks it may trim)."""
    if not isinstance(value, str):
        return False
    return value.startswith(FORMULA_STARTS) or value.lstrip(_BLANKS).startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return "'" + value if _formula(value) else value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell neutralised."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        # Each distinct text checked once (units and states repeat), then replaced by lookup.
        risky = {v: neutralise(v) for v in pd.unique(values.dropna()) if _formula(v)}
        if risky:
            out[column] = values.replace(risky)
    return out


def fi_date(day: date | None) -> str:
    """A date the Finnish way, d.m.yyyy (empty for none)."""
    return "" if day is None or pd.isna(day) else f"{day.day}.{day.month}.{day.year}"


def _yes_no(value: Any) -> str:
    return "" if value is None or pd.isna(value) else ("kyllä" if value else "ei")


def local_midnight(day: date) -> datetime:
    """The moment a local day (Europe/Helsinki) starts, in UTC."""
    return datetime.combine(day, time(), ZoneInfo(TIMEZONE)).astimezone(UTC)


class Tables:
    """The export's tables, computed once from the store's frames and aggregates.

    ``prefetch`` names the aggregate tables ("themes", "items") to start in the background
    at once: the database computes them while pandas works on the status (SQLite releases
    the interpreter lock while it runs a query), which saves seconds on a big store.
    """

    def __init__(
        self,
        store: Store,
        content: Content,
        filters: Filters,
        today: date | None = None,
        prefetch: tuple[Sheet, ...] = (),
    ) -> None:
        self.content = content
        self.filters = filters
        self.today = today or now().date()
        self._store = store
        self._pending: dict[str, Future[Any]] = {}
        if prefetch:
            workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="somequiz-sums")
            if "items" in prefetch:
                self._pending["items"] = workers.submit(self._item_stats)
            if "themes" in prefetch:
                self._pending["themes"] = workers.submit(self._theme_sums)
            workers.shutdown(wait=False)
        versions = store.content_versions(content.course.id)
        self.rules = StatusRules.of(
            content.course, course_hash(content), equivalent_versions(versions, content)
        )
        # Both read at once: SQLite works on one while Python turns the other's rows into a frame.
        with ThreadPoolExecutor(max_workers=1) as reader:
            attempts = reader.submit(store.attempts_frame, details=False)
            self.roster = store.roster_frame()
            self.attempts = attempts.result()
        if filters.unit is not None:
            known = set(self.roster["unit"].dropna()) | set(self.attempts["unit"].dropna())
            if filters.unit not in known:
                listed = ", ".join(sorted(known)) or "(ei yhtään)"
                raise ConfigError(
                    f"Yksikköä ”{filters.unit}” ei ole. Valitse jokin näistä: {listed}"
                )
            self.roster = self.roster[self.roster["unit"] == filters.unit]
            self.attempts = self.attempts[self.attempts["unit"] == filters.unit]
        self.status = status_frame(self.roster, self.attempts, self.rules, self.today)

    @property
    def since(self) -> datetime | None:
        """The first moment of the ``since`` day, for the store's filters."""
        return None if self.filters.since is None else local_midnight(self.filters.since)

    def _completed(self) -> pd.DataFrame:
        done = self.attempts[self.attempts["completed_at"].notna()]
        if self.since is not None:
            done = done[done["completed_at"] >= self.since]
        return done

    def completions(self) -> pd.DataFrame:
        """One row per employee: status, dates, score, pass and course version."""
        status = self.status
        if self.filters.since is not None:
            shown = status["completed_on"].map(lambda d: d is not None and d >= self.filters.since)
            status = status[shown.astype(bool)]
        points = status["points"].astype("Float64")
        maximum = status["max_points"].astype("Float64")
        percent = (100 * points / maximum.where(maximum > 0)).round(1)
        return pd.DataFrame(
            {
                "Henkilönumero": status["employee_number"],
                "Nimi": status["name"],
                "Yksikkö": status["unit"],
                "Aloituspäivä": status["start_date"],
                "Tila": status["status"].map(STATUS_LABELS),
                "Määräpäivä": status["due"],
                "Suorituspäivä": status["completed_on"],
                "Pisteet": status["points"].astype("Int64"),
                "Tulos %": percent.astype("float64"),
                "Hyväksytty": status["passed"].map(_yes_no),
                "Kurssiversio": status["course_version"].astype("Int64"),
                "Todistuskoodi": status["certificate_code"],
                "Henkilöllisyys": status["identity"].map(IDENTITY_LABELS),
            }
        ).reset_index(drop=True)

    def overdue(self) -> pd.DataFrame:
        """Who is late: the deadline from the start date passed, or re-certification due."""
        late = self.status[self.status["status"].isin(["overdue", "recertify"])]
        return pd.DataFrame(
            {
                "Henkilönumero": late["employee_number"],
                "Nimi": late["name"],
                "Yksikkö": late["unit"],
                "Sähköposti": late["email"],
                "Määräpäivä": late["due"],
                "Myöhässä päivää": [
                    (self.today - d).days if isinstance(d, date) else None for d in late["due"]
                ],
                "Tila": late["status"].map(STATUS_LABELS),
            }
        ).reset_index(drop=True)

    def _themes(self) -> list[str]:
        return list(dict.fromkeys(t for s in self.content.course_scenarios() for t in s.themes))

    def _theme_sums(self) -> pd.DataFrame:
        return self._store.theme_sums(self._themes(), unit=self.filters.unit, since=self.since)

    def _item_stats(self) -> ItemStats:
        return self._store.item_stats(
            unit=self.filters.unit, since=self.since, learners_up_to=MIN_GROUP
        )

    def _fetched(self, name: str, compute: Callable[[], Any]) -> Any:
        """A prefetched aggregate (waiting for it), or ``compute()`` now."""
        pending = self._pending.pop(name, None)
        return pending.result() if pending is not None else compute()

    def themes(self) -> pd.DataFrame:
        """Mean theme scores per unit (percent), hidden for units under MIN_GROUP learners."""
        themes = self._themes()
        sums: pd.DataFrame = self._fetched("themes", self._theme_sums)
        # Units in order, the learners without a unit last, then everyone.
        sums = sums.sort_values("unit", na_position="last", kind="stable")
        total = sums.drop(columns="unit").sum().to_dict()
        groups = [(u, r) for u, r in zip(sums["unit"], sums.to_dict("records"), strict=True)]
        groups.append(("Kaikki", total))
        rows = []
        for unit, part in groups:
            learners = int(part["learners"])
            row: dict[str, Any] = {
                "Yksikkö": "(ei yksikköä)" if pd.isna(unit) else str(unit),
                "Suorittaneita": learners,
            }
            shown = learners >= MIN_GROUP
            row["Hyväksyttyjä %"] = (
                round(100 * float(part["passes"]) / float(part["completions"]), 1)
                if shown
                else None
            )
            for n, theme in enumerate(themes):
                count = part[f"count_{n}"]
                mean = None
                if shown and count:
                    mean = round(100 * float(part[f"sum_{n}"]) / float(count), 1)
                row[THEME_LABELS.get(theme, theme) + " %"] = mean
            row["Huomautus"] = "" if shown else SMALL_GROUP_NOTE
            rows.append(row)
        return pd.DataFrame(rows)

    def item_analysis(self, *, with_ids: bool = False) -> pd.DataFrame:
        """Per step: facility index, discrimination and the most-chosen non-best choice."""
        stats: ItemStats = self._fetched("items", self._item_stats)
        return item_analysis(stats, self.content, with_ids=with_ids)


ITEM_COLUMNS = [
    "Skenaario",
    "Vaihe",
    "Kysymys",
    "Vastauksia",
    "Helppousindeksi",
    "Erottelukyky",
    "Yleisin ei-paras valinta",
    "Valinnan osuus %",
    "Huomautus",
]


def _correlation(
    n: float, sx: float, sy: float, sxx: float, syy: float, sxy: float
) -> float | None:
    """Pearson's r from sums; None when either variable does not vary."""
    vx, vy = n * sxx - sx * sx, n * syy - sy * sy
    # Sums of equal values leave rounding noise, not variance: compare with the magnitude.
    if n < 2 or vx <= 1e-9 * n * sxx or vy <= 1e-9 * n * syy:
        return None
    return (n * sxy - sx * sy) / math.sqrt(vx * vy)


def item_analysis(stats: ItemStats, content: Content, *, with_ids: bool = False) -> pd.DataFrame:
    """Item statistics over first tries of completed attempts (sums from the store).

    Facility index: mean share of the step's points. Discrimination: correlation of the step's
    score with the rest of the course score (corrected item–total correlation). ``with_ids``
    adds the scenario's id as ``scenario_id`` (for links).
    """
    columns = ITEM_COLUMNS + (["scenario_id"] if with_ids else [])
    if stats.learners < MIN_GROUP:
        return pd.DataFrame([dict.fromkeys(columns, None) | {"Huomautus": SMALL_GROUP_NOTE}])
    choices = stats.choices
    sums = ["answers", "items", "item_sum", "pairs", "sx", "sy", "sxx", "syy", "sxy"]
    steps: dict[Any, dict[str, float]] = {
        key: {str(k): float(v) for k, v in row.items()}
        for key, row in choices.groupby(["scenario_id", "step_id"], sort=False)[sums]
        .sum()
        .to_dict("index")
        .items()
    }
    picks: dict[tuple[str, str], dict[str, int]] = {}
    for sid, step_id, chosen, answers in zip(
        choices["scenario_id"],
        choices["step_id"],
        choices["chosen"],
        choices["answers"],
        strict=True,
    ):
        counts = picks.setdefault((sid, step_id), {})
        for choice in chosen:
            counts[choice] = counts.get(choice, 0) + int(answers)
    rows = []
    for scenario in content.course_scenarios():
        for step in scenario.steps:
            key = (scenario.id, step.id)
            part = steps.get(key)
            if part is None:
                continue
            answered = int(part["answers"])
            best = set(graph.best_selection(step))
            # The most chosen non-best choice; ties go to the one listed first in the step.
            order = {c.id: n for n, c in enumerate(step.choices)}
            wrong = [(c, n) for c, n in picks[key].items() if c not in best and n]
            top = min(wrong, key=lambda w: (-w[1], order.get(w[0], len(order)), w[0]), default=None)
            texts = {c.id: c.text.fi for c in step.choices}
            shown = answered >= MIN_GROUP
            discrimination = None
            if shown:
                r = _correlation(*(part[k] for k in ("pairs", "sx", "sy", "sxx", "syy", "sxy")))
                discrimination = None if r is None else round(r, 2)
            facility = part["item_sum"] / part["items"] if part["items"] else None
            row = {
                "Skenaario": scenario.title.fi,
                "Vaihe": step.id,
                "Kysymys": step.prompt.fi,
                "Vastauksia": answered,
                "Helppousindeksi": round(facility, 2) if shown and facility is not None else None,
                "Erottelukyky": discrimination,
                "Yleisin ei-paras valinta": (
                    f"{top[0]}: {texts.get(top[0], '')}" if top and shown else None
                ),
                "Valinnan osuus %": round(100 * top[1] / answered, 1) if top and shown else None,
                "Huomautus": "" if shown else SMALL_GROUP_NOTE,
            }
            if with_ids:
                row["scenario_id"] = scenario.id
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)


class Sheets(Mapping[Sheet, pd.DataFrame]):
    """The export's tables by sheet, each made and neutralised when first read.

    Lazily, so that a workbook writes its first sheets while the database is still summing
    up the aggregates of the last ones in background threads (see Tables).
    """

    def __init__(self, makers: dict[Sheet, Callable[[], pd.DataFrame]]) -> None:
        self._makers = makers
        self._made: dict[Sheet, pd.DataFrame] = {}

    def __getitem__(self, key: Sheet) -> pd.DataFrame:
        if key not in self._made:
            self._made[key] = neutralise_frame(self._makers[key]())
        return self._made[key]

    def __iter__(self) -> Iterator[Sheet]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


def build(
    store: Store,
    content: Content,
    filters: Filters,
    today: date | None = None,
    sheets: tuple[Sheet, ...] = ("completions", "overdue", "themes", "items"),
) -> Sheets:
    """The export tables in ``sheets`` (all by default), neutralised, keyed by sheet."""
    aggregates = tuple(key for key in sheets if key in ("items", "themes"))
    tables = Tables(store, content, filters, today, prefetch=aggregates)
    makers: dict[Sheet, Callable[[], pd.DataFrame]] = {
        "completions": tables.completions,
        "overdue": tables.overdue,
        "themes": tables.themes,
        "items": tables.item_analysis,
    }
    # Only what is asked for: a CSV of completions must not wait for the item analysis.
    return Sheets({key: makers[key] for key in sheets})


def _width(name: str, values: pd.Series) -> int:
    """A column wide enough for its header and longest text (numbers and dates fit in 12)."""
    longest = 10
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        found = values.str.len().max()
        longest = int(found) if pd.notna(found) else 0
    return min(60, max(len(name), longest) + 2)


def write_xlsx(tables: Mapping[Sheet, pd.DataFrame], path: Path) -> None:
    """One workbook, a sheet per table, dates shown d.m.yyyy, texts kept as texts.

    XlsxWriter in its streaming mode (``constant_memory``), a row at a time: through
    ``DataFrame.to_excel`` the same workbook took twice as long for 100 000 employees
    (bench/README.md). Texts never become formulas, links or numbers, whatever they start with.
    """
    options = {
        "constant_memory": True,
        "default_date_format": "d.m.yyyy",
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        bold = book.add_format({"bold": True})
        for key, frame in tables.items():
            sheet = book.add_worksheet(SHEETS[key])
            sheet.freeze_panes(1, 0)
            names = [str(c) for c in frame.columns]
            for number, name in enumerate(names):
                sheet.set_column(number, number, _width(name, frame.iloc[:, number]))
            columns = [v.astype(object).where(v.notna(), None).tolist() for _, v in frame.items()]
            sheet.write_row(0, 0, names, bold)
            # Streaming mode writes a row out once the next one starts: rows strictly in order.
            for row, cells in enumerate(zip(*columns, strict=True), start=1):
                sheet.write_row(row, 0, cells)


def _csv_texts(values: pd.Series) -> list[Any]:
    """A column as the CSV's texts: d.m.yyyy dates, decimal commas, '' for empty."""
    present = values.notna().to_numpy()
    if pd.api.types.is_float_dtype(values):
        texts = values.astype(str).str.replace(".", ",", regex=False)
    elif pd.api.types.is_numeric_dtype(values):
        texts = values.astype(str)
    elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in {
        "date",
        "mixed",
    }:
        # Few distinct days: format each once.
        days = {v: fi_date(v) for v in pd.unique(values) if isinstance(v, date)}
        texts = pd.Series([days.get(v, v) if isinstance(v, date) else v for v in values])
    else:
        texts = values
    cells: list[Any] = np.where(present, texts.to_numpy(dtype=object), "").tolist()
    return cells


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV as Finnish Excel opens it: UTF-8 with BOM, ';' separator, decimal comma, CRLF.

    Columns are turned into text at once and handed to the csv module: the same bytes as
    pandas' to_csv(sep=";", decimal=","), a fifth of the time.
    """
    columns = [_csv_texts(frame[c]) for c in frame.columns]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        # CRLF as Excel writes it; it also makes the csv module quote a lone CR inside a cell.
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow([str(c) for c in frame.columns])
        writer.writerows(zip(*columns, strict=True))
