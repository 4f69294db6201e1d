"""`somequiz backup`: a consistent, private copy of the SQLite records while they are in use;
for PostgreSQL the pg_dump command to run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from somequiz.cli import main
from somequiz.config import settings
from somequiz.records.store import Store


def test_sqlite_backup_while_in_use_is_complete_and_private(tmp_path: Path) -> None:
    store = Store()  # the default SQLite file under the isolated results folder
    learner = store.learner(name="Varmuus Kopio", employee_number="B100", unit="Hallinto")
    store.start_attempt(learner.id, "kurssi", 1, "h" * 32)
    # The store's connection stays open: the newest rows may still be only in the -wal file.
    target = tmp_path / "talteen" / "kopio.db"
    result = CliRunner().invoke(main, ["backup", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "eheys tarkistettu" in result.output and "secret.key" in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not list(target.parent.glob(".backup-*"))
    copy = Store(f"sqlite:///{target}", migrate=False)
    found = copy.find_learner("B100")
    assert found is not None and found.name == "Varmuus Kopio"
    copy.close()
    store.close()


def test_postgres_backup_prints_the_pg_dump_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOMEQUIZ_DB_URL", "postgresql+psycopg://somequiz:salainen@db.example/sq")
    settings.cache_clear()
    result = CliRunner().invoke(main, ["backup", "-o", "sq.dump"])
    assert result.exit_code == 0, result.output
    assert "pg_dump --format=custom --file=sq.dump 'postgresql://somequiz:***@db.example/sq'" in (
        result.output
    )
    assert "salainen" not in result.output


def test_backup_without_a_database_says_what_to_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["backup", "-o", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "ei ole" in result.output and "SOMEQUIZ_RESULTS" in result.output
