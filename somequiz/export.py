"""HR exports: completions, overdue, theme scores and item analysis as XLSX or CSV.

Headers and dates are Finnish; every text cell is neutralised against formula injection,
because names and units come from people and files HR does not control.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from somequiz import graph
from somequiz.content import Content
from somequiz.errors import ConfigError
from somequiz.hashing import course_hash
from somequiz.roster import STATUS_LABELS, TIMEZONE, StatusRules, status_frame
from somequiz.store import Store, now
from somequiz.versions import equivalent_versions

MIN_GROUP = 5  # answer-level figures only for groups at least this big (GDPR)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out


def fi_date(day: date | None) -> str:
    """A date the Finnish way, d.m.yyyy (empty for none)."""
    return "" if day is None or pd.isna(day) else f"{day.day}.{day.month}.{day.year}"


def _yes_no(value: Any) -> str:
    return "" if value is None or pd.isna(value) else ("kyllä" if value else "ei")


def _percent(points: Any, maximum: Any) -> float | None:
    if points is None or maximum is None or pd.isna(points) or not maximum:
        return None
    return round(100 * float(points) / float(maximum), 1)


def _local_day(moment: pd.Timestamp) -> date:
    return moment.tz_convert(TIMEZONE).date()


class Tables:
    """The export's tables, computed once from the store's frames."""

    def __init__(
        self, store: Store, content: Content, filters: Filters, today: date | None = None
    ) -> None:
        self.content = content
        self.filters = filters
        self.today = today or now().date()
        versions = store.content_versions(content.course.id)
        self.rules = StatusRules.of(
            content.course, course_hash(content), equivalent_versions(versions, content)
        )
        self.roster = store.roster_frame()
        self.attempts = store.attempts_frame()
        self._store = store
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

    def _completed(self) -> pd.DataFrame:
        done = self.attempts[self.attempts["completed_at"].notna()]
        if self.filters.since is not None:
            days = done["completed_at"].map(_local_day)
            done = done[days >= self.filters.since]
        return done

    def completions(self) -> pd.DataFrame:
        """One row per employee: status, dates, score, pass and course version."""
        status = self.status
        if self.filters.since is not None:
            status = status[status["completed_on"].map(lambda d: d is not None and not pd.isna(d))]
            status = status[status["completed_on"] >= self.filters.since]
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
                "Enimmäispisteet": status["max_points"].astype("Int64"),
                "Tulos %": [
                    _percent(p, m)
                    for p, m in zip(status["points"], status["max_points"], strict=True)
                ],
                "Hyväksytty": status["passed"].map(_yes_no),
                "Kurssiversio": status["course_version"].astype("Int64"),
                "Sisältötunniste": status["course_hash"],
                "Todistuskoodi": status["certificate_code"],
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
                "Aloituspäivä": late["start_date"],
                "Määräpäivä": late["due"],
                "Myöhässä päivää": [
                    (self.today - d).days if isinstance(d, date) else None for d in late["due"]
                ],
                "Tila": late["status"].map(STATUS_LABELS),
            }
        ).reset_index(drop=True)

    def themes(self) -> pd.DataFrame:
        """Mean theme scores per unit (percent), hidden for units under MIN_GROUP learners."""
        done = self._completed()
        themes = list(dict.fromkeys(t for s in self.content.course_scenarios() for t in s.themes))
        rows = []
        groups = [(unit, part) for unit, part in done.groupby("unit", dropna=False)]
        groups.append(("Kaikki", done))
        for unit, part in groups:
            learners = part["learner_id"].nunique()
            row: dict[str, Any] = {
                "Yksikkö": "(ei yksikköä)" if pd.isna(unit) else str(unit),
                "Suorittaneita": learners,
            }
            shown = learners >= MIN_GROUP
            passed = part["passed"].astype(bool)
            row["Hyväksyttyjä %"] = round(100 * passed.mean(), 1) if shown else None
            for theme in themes:
                scores = [s.get(theme) for s in part["theme_scores"] if isinstance(s, dict)]
                values = [v for v in scores if v is not None]
                mean = round(100 * sum(values) / len(values), 1) if values and shown else None
                row[THEME_LABELS.get(theme, theme) + " %"] = mean
            row["Huomautus"] = "" if shown else SMALL_GROUP_NOTE
            rows.append(row)
        return pd.DataFrame(rows)

    def item_analysis(self) -> pd.DataFrame:
        """Per step: facility index, discrimination and the most-chosen non-best choice."""
        return item_analysis(self._store.answers_frame(), self._completed(), self.content, self)


def item_analysis(
    answers: pd.DataFrame, completed: pd.DataFrame, content: Content, tables: Tables | None = None
) -> pd.DataFrame:
    """Item statistics over first tries, from answers of completed attempts.

    Facility index: mean share of the step's points. Discrimination: correlation of the step's
    score with the rest of the course score (corrected item–total correlation).
    """
    columns = [
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
    first = answers[
        (answers["scenario_try"] == 1) & answers["attempt_id"].isin(completed["attempt_id"])
    ]
    if tables is not None and tables.filters.unit is not None:
        first = first[first["unit"] == tables.filters.unit]
    if first["learner_id"].nunique() < MIN_GROUP:
        return pd.DataFrame([dict.fromkeys(columns, None) | {"Huomautus": SMALL_GROUP_NOTE}])
    totals = completed.set_index("attempt_id")[["points", "max_points"]]
    joined = first.merge(
        totals, left_on="attempt_id", right_index=True, how="left", suffixes=("", "_course")
    )
    item = joined["points"] / joined["max_points"].where(joined["max_points"] > 0)
    rest_max = joined["max_points_course"] - joined["max_points"]
    rest = (joined["points_course"] - joined["points"]) / rest_max.where(rest_max > 0)
    joined = joined.assign(item=item, rest=rest)
    # One pass over the answers instead of a full-column comparison per step.
    parts = dict(list(joined.groupby(["scenario_id", "step_id"], sort=False)))
    rows = []
    for scenario in content.course_scenarios():
        for step in scenario.steps:
            part = parts.get((scenario.id, step.id))
            if part is None or part.empty:
                continue
            best = set(graph.best_selection(step))
            picks = part["chosen"].explode()
            wrong = picks[~picks.isin(best)].value_counts()
            top = str(wrong.index[0]) if len(wrong) else None
            texts = {c.id: c.text.fi for c in step.choices}
            shown = len(part) >= MIN_GROUP
            discrimination = None
            if shown and part["item"].std() > 0 and part["rest"].std() > 0:
                discrimination = round(float(part["item"].corr(part["rest"])), 2)
            rows.append(
                {
                    "Skenaario": scenario.title.fi,
                    "Vaihe": step.id,
                    "Kysymys": step.prompt.fi,
                    "Vastauksia": len(part),
                    "Helppousindeksi": round(float(part["item"].mean()), 2) if shown else None,
                    "Erottelukyky": discrimination,
                    "Yleisin ei-paras valinta": (
                        f"{top}: {texts.get(top, '')}" if top and shown else None
                    ),
                    "Valinnan osuus %": (
                        round(100 * int(wrong.iloc[0]) / len(part), 1) if top and shown else None
                    ),
                    "Huomautus": "" if shown else SMALL_GROUP_NOTE,
                }
            )
    return pd.DataFrame(rows, columns=columns)


def build(
    store: Store,
    content: Content,
    filters: Filters,
    today: date | None = None,
    sheets: tuple[Sheet, ...] = ("completions", "overdue", "themes", "items"),
) -> dict[Sheet, pd.DataFrame]:
    """The export tables in ``sheets`` (all by default), neutralised, keyed by sheet."""
    tables = Tables(store, content, filters, today)
    makers: dict[Sheet, Callable[[], pd.DataFrame]] = {
        "completions": tables.completions,
        "overdue": tables.overdue,
        "themes": tables.themes,
        "items": tables.item_analysis,
    }
    # Only what is asked for: a CSV of completions must not wait for the item analysis.
    return {key: neutralise_frame(makers[key]()) for key in sheets}


def write_xlsx(tables: dict[Sheet, pd.DataFrame], path: Path) -> None:
    """One workbook, a sheet per table, dates as real Excel dates shown d.m.yyyy."""
    with pd.ExcelWriter(
        path, engine="openpyxl", date_format="d.m.yyyy", datetime_format="d.m.yyyy h:mm"
    ) as writer:
        for key, frame in tables.items():
            frame.to_excel(writer, sheet_name=SHEETS[key], index=False)
            sheet = writer.sheets[SHEETS[key]]
            sheet.freeze_panes = "A2"
            for cells in sheet.columns:
                for cell in cells:
                    if cell.is_date:  # pandas leaves plain dates in ISO format
                        cell.number_format = "d.m.yyyy"
                width = max(len(str(c.value)) if c.value is not None else 0 for c in cells)
                sheet.column_dimensions[cells[0].column_letter].width = min(60, width + 2)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV as Finnish Excel opens it: UTF-8 with BOM, ';' separator, decimal comma, CRLF."""
    out = frame.copy()
    for column in out.columns:
        if out[column].map(lambda v: isinstance(v, date)).any():
            out[column] = out[column].map(lambda v: fi_date(v) if isinstance(v, date) else v)
    # CRLF as Excel writes it; it also makes the csv module quote a lone CR inside a cell.
    out.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\r\n")
