"""Reading HR's roster file (CSV or Excel): every row checked, every problem named."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from somequiz.errors import RosterError
from somequiz.records.roster_file import read_roster
from somequiz.records.rows import RosterEntry

ROSTER = Path(__file__).resolve().parents[1] / "fixtures" / "roster"
INVALID = ROSTER / "invalid"


def test_valid_csv_with_bom_semicolons_and_blank_line() -> None:
    entries = read_roster(ROSTER / "valid.csv")
    assert [e.employee_number for e in entries] == ["A100", "A101", "A102"]
    assert entries[0] == RosterEntry(
        "A100", "Aino Ahonen", "Kotihoito", date(2025, 3, 1), "aino.ahonen@hameenkyro.fi"
    )
    assert entries[1].start_date == date(2025, 4, 15) and entries[1].email is None
    assert entries[1].name.startswith("=")  # stored as given; neutralised on export
    assert entries[2].name == "Åke Öberg-Ylä"


def test_xlsx_with_real_dates_and_numeric_employee_numbers(tmp_path: Path) -> None:
    path = tmp_path / "henkilosto.xlsx"
    pd.DataFrame(
        {
            "Henkilönumero": [1001, 1002],
            "Nimi": ["Aino", "Eino"],
            "Yksikkö": ["Kotihoito", "Hallinto"],
            "Aloituspäivä": [datetime(2025, 1, 2), "3.2.2025"],
            "Sähköposti": [None, "eino@example.fi"],
        }
    ).to_excel(path, index=False)
    entries = read_roster(path)
    assert [(e.employee_number, e.start_date) for e in entries] == [
        ("1001", date(2025, 1, 2)),
        ("1002", date(2025, 2, 3)),
    ]


BAD_FILES = [
    (
        "bad-date.csv",
        ["rivi 2, sarake aloituspäivä: ”31.2.2025”", "rivi 3, sarake aloituspäivä"],
    ),
    ("missing-name.csv", ["rivi 2, sarake nimi: puuttuu"]),
    ("duplicate-employee-number.csv", ["rivi 4, sarake henkilönumero: a1 on jo rivillä 2"]),
    ("missing-unit-column.csv", ["puuttuu sarake: yksikkö"]),
    ("bad-email.csv", ["rivi 2, sarake sähköposti"]),
    ("bad-employee-number.csv", ["rivi 2, sarake henkilönumero: ”A 1/2” ei kelpaa"]),
    ("not-utf8.csv", ["ei ole UTF-8-muodossa"]),
    ("no-rows.csv", ["ei ole yhtään työntekijää"]),
    ("broken-workbook.xlsx", ["ei voi lukea"]),
    ("unsupported-format.ods", ["Tiedostomuotoa .ods ei tueta"]),
]


@pytest.mark.parametrize(("name", "expected"), BAD_FILES)
def test_bad_files_are_rejected_with_every_problem(name: str, expected: list[str]) -> None:
    with pytest.raises(RosterError) as caught:
        read_roster(INVALID / name)
    message = str(caught.value)
    for part in expected:
        assert part in message
    if caught.value.problems:
        assert "mitään ei tuotu" in message


def test_every_invalid_fixture_is_tested() -> None:
    assert {p.name for p in INVALID.iterdir()} == {name for name, _ in BAD_FILES}
