"""HR's roster: reading CSV/XLSX files with per-row errors, and each employee's course status."""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from somequiz.errors import RosterError
from somequiz.scenario import Course
from somequiz.store import RosterEntry

# Header spellings accepted for each field (compared case-insensitively, spaces trimmed).
COLUMNS: dict[str, tuple[str, ...]] = {
    "employee_number": ("henkilönumero", "henkilönro", "employee_number", "employee number"),
    "name": ("nimi", "name"),
    "unit": ("yksikkö", "unit"),
    "start_date": ("aloituspäivä", "aloituspvm", "start_date", "start date"),
    "email": ("sähköposti", "email", "e-mail"),
}
LABELS = {
    "employee_number": "henkilönumero",
    "name": "nimi",
    "unit": "yksikkö",
    "start_date": "aloituspäivä",
    "email": "sähköposti",
}
TIMEZONE = "Europe/Helsinki"  # dates HR sees are local dates
REQUIRED = ("employee_number", "name", "unit", "start_date")
_EMPLOYEE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,49}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")

STATUS_COLUMNS = (
    "employee_number",
    "name",
    "unit",
    "start_date",
    "email",
    "status",
    "due",
    "completed_on",
    "points",
    "max_points",
    "passed",
    "course_version",
    "course_hash",
    "certificate_code",
)
STATUS_LABELS = {
    "passed": "Suoritettu",
    "recertify": "Uusinta erääntynyt",
    "overdue": "Myöhässä",
    "in_progress": "Kesken",
    "not_started": "Aloittamatta",
}


def _read_frame(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in {".xlsx", ".xlsm"}:
            return pd.read_excel(path, dtype=object, engine="openpyxl")
        if suffix in {".csv", ".txt"}:
            # sep=None sniffs ';' (Finnish Excel) or ','; utf-8-sig drops Excel's BOM.
            return pd.read_csv(
                path,
                sep=None,
                engine="python",
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                skip_blank_lines=False,
            )
    except FileNotFoundError:
        raise RosterError(f"Tiedostoa {path} ei ole. Tarkista polku.") from None
    except UnicodeDecodeError:
        raise RosterError(
            f"Tiedosto {path.name} ei ole UTF-8-muodossa. Tallenna se Excelistä muodossa "
            "”CSV UTF-8 (luetteloerotin)” ja yritä uudelleen."
        ) from None
    except Exception as exc:  # pandas and openpyxl raise many kinds for a broken file
        raise RosterError(
            f"Tiedostoa {path.name} ei voi lukea ({exc.__class__.__name__}). Tarkista, että se "
            "on CSV- tai XLSX-tiedosto, jonka ensimmäisellä rivillä ovat sarakkeiden nimet."
        ) from None
    raise RosterError(
        f"Tiedostomuotoa {suffix or '(ei päätettä)'} ei tueta. Käytä .csv- tai .xlsx-tiedostoa."
    )


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores employee numbers as numbers
    return str(value).strip()


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _column_map(frame: pd.DataFrame) -> dict[str, Hashable]:
    found: dict[str, Hashable] = {}
    for column in frame.columns:
        header = str(column).strip().casefold()
        for field, names in COLUMNS.items():
            if header in names and field not in found:
                found[field] = column
    return found


def read_roster(path: Path) -> list[RosterEntry]:
    """Every row of a roster file, or RosterError listing every bad row (line, field, fix)."""
    frame = _read_frame(path)
    columns = _column_map(frame)
    missing = [LABELS[f] for f in REQUIRED if f not in columns]
    if missing:
        raise RosterError(
            f"Tiedostosta {path.name} puuttuu sarake: {', '.join(missing)}. Ensimmäisellä rivillä "
            "pitää olla sarakkeet henkilönumero; nimi; yksikkö; aloituspäivä (sähköposti "
            "vapaaehtoinen)."
        )
    problems: list[str] = []
    entries: list[RosterEntry] = []
    first_line: dict[str, int] = {}
    for index, record in enumerate(frame.to_dict("records")):
        line = index + 2  # line 1 is the header
        values = {f: record[c] for f, c in columns.items()}
        texts = {f: _text(v) for f, v in values.items()}
        if not any(texts.values()):
            continue  # an empty line

        def bad(field: str, what: str, line: int = line) -> None:
            problems.append(f"rivi {line}, sarake {LABELS[field]}: {what}")

        number, name, unit = texts["employee_number"], texts["name"], texts["unit"]
        if not number:
            bad("employee_number", "puuttuu. Lisää työntekijän henkilönumero.")
        elif not _EMPLOYEE_NUMBER.match(number):
            bad(
                "employee_number",
                f"”{number}” ei kelpaa. Käytä vain kirjaimia, numeroita ja väliviivaa "
                "(enintään 50 merkkiä).",
            )
        elif number.upper() in first_line:
            bad(
                "employee_number",
                f"{number} on jo rivillä {first_line[number.upper()]}. Poista toinen riveistä.",
            )
        else:
            first_line[number.upper()] = line
        if not name:
            bad("name", "puuttuu. Lisää työntekijän nimi.")
        elif len(name) > 200:
            bad("name", "on yli 200 merkkiä pitkä. Lyhennä nimeä.")
        if not unit:
            bad("unit", "puuttuu. Lisää yksikkö, jossa työntekijä työskentelee.")
        elif len(unit) > 200:
            bad("unit", "on yli 200 merkkiä pitkä. Lyhennä yksikön nimeä.")
        start = _date(values["start_date"])
        if not texts["start_date"]:
            bad("start_date", "puuttuu. Lisää aloituspäivä muodossa p.k.vvvv, esim. 1.3.2025.")
        elif start is None:
            bad(
                "start_date",
                f"”{texts['start_date']}” ei ole päivämäärä. Kirjoita muodossa p.k.vvvv, "
                "esim. 1.3.2025.",
            )
        email = texts.get("email", "") or None
        if email is not None and (len(email) > 200 or not _EMAIL.match(email)):
            bad("email", f"”{email}” ei ole sähköpostiosoite. Korjaa se tai jätä tyhjäksi.")
        if start is not None and number and name and unit:
            entries.append(RosterEntry(number.upper(), name, unit, start, email))
    if problems:
        raise RosterError(
            f"Tiedostossa {path.name} on {len(problems)} virhettä; mitään ei tuotu. "
            "Korjaa rivit ja tuo tiedosto uudelleen:",
            problems,
        )
    if not entries:
        raise RosterError(f"Tiedostossa {path.name} ei ole yhtään työntekijää.")
    return entries


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class StatusRules:
    """What a status depends on: the course's deadlines and which content versions still count.

    ``valid_versions`` holds the content hashes whose passes stay valid (today's and those that
    differ only in wording); None when the course does not re-certify on content changes.
    """

    deadline_days: int
    recertify_months: int
    course_hash: str
    valid_versions: frozenset[str] | None = None

    @classmethod
    def of(
        cls, course: Course, course_hash: str, equivalent: frozenset[str] = frozenset()
    ) -> StatusRules:
        """The rules of ``course`` now (``equivalent``: see versions.equivalent_versions)."""
        valid = equivalent | {course_hash} if course.recertify_on_material_change else None
        return cls(course.deadline_days, course.recertify_months, course_hash, valid)

    def outdated(self, version: str) -> bool:
        """Whether a pass on content ``version`` is due again because the content changed."""
        return self.valid_versions is not None and version not in self.valid_versions


def status_frame(
    roster: pd.DataFrame, attempts: pd.DataFrame, rules: StatusRules, today: date
) -> pd.DataFrame:
    """One row per employee (roster first, then learners not on it): STATUS_COLUMNS."""
    done = attempts[attempts["completed_at"].notna()].copy()
    done["key"] = done["employee_number"].fillna("#" + done["learner_id"].astype(str))
    done = done.sort_values("completed_at")
    latest = done.groupby("key").tail(1).set_index("key")
    passes = done[done["passed"] == True].groupby("key").tail(1).set_index("key")  # noqa: E712
    open_keys = set(
        attempts.loc[attempts["status"] == "in_progress", "employee_number"].dropna()
    ) | set("#" + attempts.loc[attempts["status"] == "in_progress", "learner_id"].astype(str))
    people = roster.assign(key=roster["employee_number"]).copy()
    others = latest[~latest.index.isin(people["key"])].reset_index()
    extra = pd.DataFrame(
        {
            "key": others["key"],
            "employee_number": others["employee_number"],
            "name": others["name"],
            "unit": others["unit"],
            "start_date": None,
            "email": None,
        }
    )
    people = pd.concat([people, extra], ignore_index=True) if len(extra) else people
    # Plain dicts: a .loc lookup per employee is slow for tens of thousands of people.
    pass_rows: dict[Hashable, dict[Hashable, Any]] = passes.to_dict("index")
    latest_rows: dict[Hashable, dict[Hashable, Any]] = latest.to_dict("index")
    rows = []
    for person in people.to_dict("records"):
        key = person["key"]
        chosen = pass_rows.get(key)
        if chosen is None:
            chosen = latest_rows.get(key)
        start = person["start_date"] if isinstance(person["start_date"], date) else None
        due = start and date.fromordinal(start.toordinal() + rules.deadline_days)
        if key in pass_rows:
            passed_on = pass_rows[key]["completed_at"].tz_convert(TIMEZONE).date()
            recert = add_months(passed_on, rules.recertify_months)
            stale = rules.outdated(pass_rows[key]["course_hash"])
            status = "recertify" if stale or recert <= today else "passed"
            due = today if stale else recert
        elif due is not None and due < today:
            status = "overdue"
        elif key in open_keys or key in latest_rows:
            status = "in_progress"
        else:
            status = "not_started"
        rows.append(
            {
                "employee_number": person["employee_number"],
                "name": person["name"],
                "unit": person["unit"],
                "start_date": start,
                "email": person["email"],
                "status": status,
                "due": due,
                "completed_on": (
                    None if chosen is None else chosen["completed_at"].tz_convert(TIMEZONE).date()
                ),
                "points": None if chosen is None else chosen["points"],
                "max_points": None if chosen is None else chosen["max_points"],
                "passed": None if chosen is None else bool(chosen["passed"]),
                "course_version": None if chosen is None else chosen["course_version"],
                "course_hash": None if chosen is None else chosen["course_hash"],
                "certificate_code": None if chosen is None else chosen["certificate_code"],
            }
        )
    return pd.DataFrame(rows, columns=list(STATUS_COLUMNS))
