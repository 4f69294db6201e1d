"""The records commands end to end: exit codes, Finnish messages, never a traceback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from records_helpers import run_course
from sqlalchemy import update

from somequiz.cli import main
from somequiz.config import settings
from somequiz.content.folder import Content
from somequiz.records.store import Store
from somequiz.records.tables import CompletionRow

ROSTER = Path(__file__).resolve().parent / "fixtures" / "roster"


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SOMEQUIZ_DB_URL", db_url)
    settings.cache_clear()
    return CliRunner()


def run(runner: CliRunner, *args: str, ok: bool = True) -> Result:
    result = runner.invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert (result.exit_code == 0) is ok, result.output
    assert "Traceback" not in result.output
    return result


def test_demo_data_verify_and_exports(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    assert "versio 0006" in run(cli, "db", "upgrade").output
    assert "Luotu 8 oppijaa" in run(cli, "demo-data", "--learners", "8", "--seed", "7").output
    assert "ovat muuttumattomia" in run(cli, "verify").output
    run(cli, "export", "--format", "xlsx", "-o", str(tmp_path / "a.xlsx"))
    sheets = pd.read_excel(tmp_path / "a.xlsx", sheet_name=None)
    assert len(sheets["Suoritukset"]) == 8
    run(cli, "export", "--format", "csv", "--sheet", "overdue", "-o", str(tmp_path / "a.csv"))
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbfHenkil")
    run(cli, "export", "--format", "xapi", "--since", "1.1.2000", "-o", str(tmp_path / "a.jsonl"))
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines and all(json.loads(line)["version"] == "1.0.3" for line in lines)
    bad = run(cli, "export", "--unit", "Ei tällaista", ok=False)
    assert "Virhe: Yksikköä ”Ei tällaista” ei ole" in bad.output
    bad = run(cli, "export", "--since", "31.2.2025", ok=False)
    assert "ei ole päivämäärä" in bad.output

    store = Store(db_url)
    try:
        code = store.attempts_frame()["certificate_code"].dropna().iloc[0]
        assert "on aito" in run(cli, "verify", "--certificate", code).output
        with store.session() as s:
            s.execute(
                update(CompletionRow)
                .where(CompletionRow.certificate_code == code)
                .values(points=CompletionRow.points + 1)
            )
    finally:
        store.close()
    tampered = run(cli, "verify", ok=False)
    assert code in tampered.output and "allekirjoitus ei täsmää" in tampered.output
    assert "MUUTETTU" in run(cli, "verify", "--certificate", code, ok=False).output
    assert "ei löydy" in run(cli, "verify", "--certificate", "AAAA-BBBB-CCCC", ok=False).output


def test_roster_import_and_erase(cli: CliRunner, db_url: str) -> None:
    bad = run(cli, "roster", "import", str(ROSTER / "invalid" / "bad-date.csv"), ok=False)
    assert "rivi 2, sarake aloituspäivä" in bad.output and "mitään ei tuotu" in bad.output
    good = run(cli, "roster", "import", str(ROSTER / "valid.csv"))
    assert "3 uutta" in good.output
    assert "ei löydy" in run(cli, "erase", "--learner", "A100", "--yes", ok=False).output
    run(cli, "demo-data", "--learners", "3", "--seed", "1")
    store = Store(db_url)
    try:
        number = str(store.attempts_frame()["employee_number"].iloc[0])
    finally:
        store.close()
    erased = run(cli, "erase", "--learner", number, "--yes")
    assert "Poistettu: henkilötiedot" in erased.output
    assert "ei löydy" in run(cli, "erase", "--learner", number, "--yes", ok=False).output


def test_retention_needs_a_period(cli: CliRunner) -> None:
    assert "SOMEQUIZ_RETENTION_YEARS" in run(cli, "db", "retention", ok=False).output
    assert "Poistettu 0" in run(cli, "db", "retention", "--years", "2").output


def test_unreachable_database_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOMEQUIZ_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    settings.cache_clear()
    result = run(CliRunner(), "verify", ok=False)
    assert "Tietokantaan ei saada yhteyttä" in result.output


def test_verify_says_when_a_certificate_was_superseded(
    cli: CliRunner, db_url: str, content: Content
) -> None:
    store = Store(db_url)
    try:
        first_day = datetime(2026, 3, 2, 9, tzinfo=UTC)
        _, first = run_course(store, content, employee_number="S1", at=first_day)
        _, second = run_course(store, content, employee_number="S1", at=first_day.replace(day=20))
        _, failed = run_course(store, content, employee_number="S2", best=False)
    finally:
        store.close()
    assert first.certificate_code and second.certificate_code
    assert failed.certificate_code is None  # a failed course has no certificate
    old = run(cli, "verify", "--certificate", first.certificate_code).output
    assert "on aito" in old and "Todistus on korvattu" in old and "20.3.2026" in old
    current = run(cli, "verify", "--certificate", second.certificate_code).output
    assert "on aito" in current and "korvattu" not in current
