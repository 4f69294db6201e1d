"""The HR dashboard's tables and the static HTML report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from records_helpers import run_course

from somequiz.content import Content
from somequiz.dashboard import build, render_report, sections
from somequiz.store import RosterEntry, Store

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
