"""HR's roster file (CSV or XLSX): every row checked, with a Finnish message per bad field, before
anything is imported (``somequiz roster import``; the rows go to :mod:`somequiz.records.admin`)."""

from __future__ import annotations

import re
from collections.abc import Hashable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

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
REQUIRED = ("employee_number", "name", "unit", "start_date")
_EMPLOYEE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,49}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")


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
