"""The HR dashboard's tables and the static HTML report."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from records_helpers import run_course

from somequiz.config import settings
from somequiz.content.folder import Content
from somequiz.records.store import RosterEntry, Store
from somequiz.reports import dashboard
from somequiz.reports.dashboard import build, download_link, export_file, render_report, sections
from somequiz.reports.export import Filters

AT = datetime(2026, 2, 3, 10, tzinfo=UTC)


def test_dashboard_tables_escape_hostile_names(store: Store, content: Content) -> None:
    store.import_roster(
        [RosterEntry("L1", "<img src=x onerror=alert(1)>", "Kotihoito", date(2025, 1, 1))]
    )
    run_course(store, content, name="Aino", employee_number="A1", at=AT)
    board = build(store, content, today=date(2026, 3, 1))
    assert board.by_unit.loc["Kotihoito", "Henkilöitä"] == 2
    assert board.by_unit.loc["Kotihoito", "Myöhässä"] == 1
    parts = dict(sections(board))
    assert isinstance(parts["Suorittaneet yksiköittäin"], bytes)
    overdue = parts["Myöhässä"]
    assert isinstance(overdue, str)
    assert "&lt;img src=x onerror=alert(1)&gt;" in overdue and "<img" not in overdue


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_report_is_static_html_without_code(
    store: Store, content: Content, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOMEQUIZ_DB_URL", db_url)
    run_course(store, content, name="Raportin Oppija", employee_number="R1", at=AT)
    output = tmp_path / "raportti.html"
    render_report(output)
    page = output.read_text(encoding="utf-8")
    assert "Suorittaneet yksiköittäin" in page and "Kysymysanalyysi" in page
    assert "dashboard()" not in page and "import" not in page.split("<body")[1][:2000]
    assert "data:image/png;base64" in page


def test_item_rows_link_to_the_studio_and_long_tables_are_cut(
    store: Store, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        run_course(store, content, name=f"Oppija {n}", employee_number=f"A{n}", at=AT)
    store.import_roster(
        [RosterEntry(f"L{n}", f"Myöhäinen {n}", "Kotihoito", date(2025, 1, 1)) for n in range(3)]
    )
    monkeypatch.setenv("SOMEQUIZ_STUDIO_URL", "https://studio.example/")
    settings.cache_clear()
    monkeypatch.setattr(dashboard, "SHOWN_ROWS", 2)
    parts = dict(sections(build(store, content, today=date(2026, 3, 1))))
    items = str(parts["Kysymysanalyysi"])
    first = content.course_scenarios()[0]
    link = f'<a href="https://studio.example/voila/render/studio.ipynb?scenario={first.id}"'
    assert link in items and "Näytetään 2 /" in items
    assert "scenario_id" not in items  # the id is in the link, not a column
    overdue = str(parts["Myöhässä"])
    assert "Näytetään 2 / 3 riviä" in overdue and overdue.count("Myöhäinen") == 2
    monkeypatch.setenv("SOMEQUIZ_STUDIO_URL", "")
    settings.cache_clear()
    assert "<a " not in str(dict(sections(build(store, content)))["Kysymysanalyysi"])


def test_downloads_are_the_exports_of_the_filtered_records(
    store: Store, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOMEQUIZ_DB_URL", store.url)
    settings.cache_clear()
    run_course(store, content, name="Aino", employee_number="A1", unit="Kotihoito", at=AT)
    run_course(store, content, name="Eino", employee_number="E1", unit="Hallinto", at=AT)
    only = Filters(unit="Kotihoito")
    workbook = export_file("xlsx", only, today=date(2026, 3, 1))
    sheets = pd.read_excel(io.BytesIO(workbook.data), sheet_name=None)
    assert workbook.filename == "suoritukset.xlsx" and list(sheets["Suoritukset"]["Nimi"]) == [
        "Aino"
    ]
    table = export_file("csv", only)
    assert table.data.startswith(b"\xef\xbb\xbfHenkil") and b"Eino" not in table.data
    statements = export_file("xapi", only).data.decode("utf-8").splitlines()
    assert statements and all(json.loads(s)["actor"]["account"]["name"] == "A1" for s in statements)
    link = download_link(table)
    url = link.split('href="', 1)[1].split('"', 1)[0]
    assert link.startswith('<a download="suoritukset.csv"')
    assert base64.b64decode(url.split(",", 1)[1]) == table.data
    monkeypatch.setattr(dashboard, "DOWNLOAD_LIMIT", 10)
    assert "somequiz export" in download_link(table) and "href" not in download_link(table)
