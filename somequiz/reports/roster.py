"""HR's roster: reading CSV/XLSX files with per-row errors, and each employee's course status."""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from somequiz.content.models import Course
from somequiz.content.text import plain_name
from somequiz.errors import RosterError
from somequiz.records.rows import RosterEntry

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
    "identity",
)
STATUS_LABELS = {
    "passed": "Suoritettu",
    "recertify": "Uusinta erääntynyt",
    "failed_final": "Hylätty – yritykset käytetty",
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


def _number_problem(number: str, first_line: dict[str, int], line: int) -> str | None:
    """What is wrong with a row's employee number (``first_line``: where each was first)."""
    if not number:
        return "puuttuu. Lisää työntekijän henkilönumero."
    if not _EMPLOYEE_NUMBER.match(number):
        return (
            f"”{number}” ei kelpaa. Käytä vain kirjaimia, numeroita ja väliviivaa "
            "(enintään 50 merkkiä)."
        )
    if number.upper() in first_line:
        return f"{number} on jo rivillä {first_line[number.upper()]}. Poista toinen riveistä."
    first_line[number.upper()] = line
    return None


def _text_problem(value: str, missing: str, what: str) -> str | None:
    if not value:
        return f"puuttuu. {missing}"
    if len(value) > 200:
        return f"on yli 200 merkkiä pitkä. Lyhennä {what}."
    return None


def _row_problems(
    texts: dict[str, str], start: date | None, first_line: dict[str, int], line: int
) -> dict[str, str | None]:
    """Each field's problem in one row (None where the field is fine)."""
    email = texts.get("email", "")
    when = texts["start_date"]
    return {
        "employee_number": _number_problem(texts["employee_number"], first_line, line),
        "name": _text_problem(plain_name(texts["name"]), "Lisää työntekijän nimi.", "nimeä"),
        "unit": _text_problem(
            texts["unit"], "Lisää yksikkö, jossa työntekijä työskentelee.", "yksikön nimeä"
        ),
        "start_date": (
            "puuttuu. Lisää aloituspäivä muodossa p.k.vvvv, esim. 1.3.2025."
            if not when
            else f"”{when}” ei ole päivämäärä. Kirjoita muodossa p.k.vvvv, esim. 1.3.2025."
            if start is None
            else None
        ),
        "email": (
            f"”{email}” ei ole sähköpostiosoite. Korjaa se tai jätä tyhjäksi."
            if email and (len(email) > 200 or not _EMAIL.match(email))
            else None
        ),
    }


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
        start = _date(values["start_date"])
        found = _row_problems(texts, start, first_line, line)
        problems += [f"rivi {line}, sarake {LABELS[f]}: {p}" for f, p in found.items() if p]
        number, name, unit = texts["employee_number"], plain_name(texts["name"]), texts["unit"]
        if start is not None and number and name and unit:
            entries.append(
                RosterEntry(number.upper(), name, unit, start, texts.get("email") or None)
            )
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


def _local_days(moments: pd.Series) -> pd.Series:
    """UTC timestamps as local calendar days (naive midnights); NaT stays NaT."""
    days: pd.Series = moments.dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    return days


def _dates(days: pd.Series) -> list[date | None]:
    """Naive midnights as plain dates, None for NaT (what the exports and tables expect)."""
    found = np.array(days.dt.date.to_numpy(dtype=object))
    found[days.isna().to_numpy()] = None
    plain: list[date | None] = found.tolist()
    return plain


def _identity(sso: object) -> str | None:
    """How the learner was identified: by SSO, or by what they typed themselves."""
    if sso is None or sso is pd.NA or (isinstance(sso, float) and np.isnan(sso)):
        return None
    return "sso" if bool(sso) else "self_reported"


def _keyed(attempts: pd.DataFrame) -> pd.DataFrame:
    """``attempts`` with a ``key`` per person, oldest completion first.

    Learners without an employee number (or erased) are their own key, never on the roster.
    """
    key = attempts["employee_number"].fillna("#" + attempts["learner_id"].astype(str))
    return attempts.assign(key=key).sort_values("completed_at", kind="stable")


def _people(roster: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """The roster's rows, then the ``known`` learners (by key) who are not on it."""
    others = known[~known.index.isin(roster["employee_number"])]
    listed = pd.DataFrame(
        {
            "key": roster["employee_number"],
            **{c: roster[c] for c in ("employee_number", "name", "unit", "start_date", "email")},
        }
    )
    unlisted = pd.DataFrame(
        {
            "key": others.index,
            **{c: others[c].to_numpy() for c in ("employee_number", "name", "unit")},
            "start_date": None,
            "email": None,
        }
    )
    return pd.concat([listed, unlisted], ignore_index=True)


def _due_and_status(
    keys: pd.Series,
    start: pd.Series,
    passes: pd.DataFrame,
    flags: tuple[pd.Series, pd.Series],
    rules: StatusRules,
    today: date,
) -> tuple[np.ndarray, pd.Series]:
    """Each person's status and due day; ``flags``: whether they completed, have one open."""
    completed, open_now = flags
    has_pass = keys.isin(passes.index).to_numpy()
    pass_day = _local_days(passes["completed_at"].reindex(keys)).reset_index(drop=True)
    recert = pass_day + pd.DateOffset(months=rules.recertify_months)
    if rules.valid_versions is None:
        stale = pd.Series(False, index=keys.index)
    else:
        stale = ~passes["course_hash"].reindex(keys).isin(rules.valid_versions)
        stale = stale.reset_index(drop=True) & has_pass
    deadline = start + pd.Timedelta(days=rules.deadline_days)
    now = pd.Timestamp(today)
    status = np.select(
        [
            has_pass & (stale | (recert <= now)).to_numpy(),
            has_pass,
            (completed & ~open_now).to_numpy(),
            (deadline < now).to_numpy(),  # NaT compares False: no start date, no deadline
            open_now.to_numpy(),
        ],
        ["recertify", "passed", "failed_final", "overdue", "in_progress"],
        default="not_started",
    )
    return status, deadline.where(~has_pass, recert.where(~stale, now))


def status_frame(
    roster: pd.DataFrame, attempts: pd.DataFrame, rules: StatusRules, today: date
) -> pd.DataFrame:
    """One row per employee (roster first, then learners not on it): STATUS_COLUMNS.

    A pass counts until ``recertify_months`` after its local day, or until the content changed
    materially (due today then). Without a pass: failed with tries used when the latest
    completion failed and no new attempt is open; else overdue once ``deadline_days`` after
    the start date have gone, else in progress (an open attempt), else not started. Learners
    not on the roster are listed once they have started (an open or completed attempt).
    The result shown is the latest pass, or the latest completion when there is no pass.
    """
    keyed = _keyed(attempts)
    done = keyed[keyed["completed_at"].notna()]
    latest = done.drop_duplicates("key", keep="last").set_index("key")
    passes = done[done["passed"] == True].drop_duplicates("key", keep="last")  # noqa: E712
    passes = passes.set_index("key")
    started = keyed[keyed["status"] == "in_progress"].drop_duplicates("key", keep="last")
    started = started.set_index("key")
    people = _people(roster, pd.concat([latest, started[~started.index.isin(latest.index)]]))
    keys = people["key"]
    # The row whose figures are shown: the latest pass, else the latest completion.
    shown = pd.concat([passes, latest[~latest.index.isin(passes.index)]])
    chosen = shown.reindex(keys).reset_index(drop=True)
    start = pd.to_datetime(people["start_date"])
    flags = (keys.isin(latest.index), keys.isin(started.index))
    status, due = _due_and_status(keys, start, passes, flags, rules, today)
    return _status_table(people, chosen, start, status, due)


def _status_table(
    people: pd.DataFrame,
    chosen: pd.DataFrame,
    start: pd.Series,
    status: np.ndarray,
    due: pd.Series,
) -> pd.DataFrame:
    """The STATUS_COLUMNS of each person from their figures."""
    passed = chosen["passed"]
    return pd.DataFrame(
        {
            "employee_number": people["employee_number"],
            "name": people["name"],
            "unit": people["unit"],
            "start_date": _dates(start),
            "email": people["email"],
            "status": status,
            "due": _dates(due),
            "completed_on": _dates(_local_days(chosen["completed_at"])),
            "points": chosen["points"].astype("Int64"),
            "max_points": chosen["max_points"].astype("Int64"),
            "passed": [
                bool(v) if known else None
                for v, known in zip(passed.tolist(), passed.notna().tolist(), strict=True)
            ],
            "course_version": chosen["course_version"].astype("Int64"),
            "course_hash": chosen["course_hash"],
            "certificate_code": chosen["certificate_code"],
            "identity": chosen["sso"].map(_identity),
        },
        columns=list(STATUS_COLUMNS),
    )
