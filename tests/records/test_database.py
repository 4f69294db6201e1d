"""The database: a private results folder, file and signing key."""

from __future__ import annotations

from pathlib import Path

import pytest
from records_helpers import Records, run_course

from somequiz.config import Settings
from somequiz.content.folder import Content
from somequiz.errors import StoreError
from somequiz.records.database import Database, load_secret


def test_secret_is_created_once_with_private_mode(store: Records, content: Content) -> None:
    from somequiz.config import settings

    run_course(store, content)
    key = settings().results / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_bytes().strip()) == 64
    assert not [p for p in key.parent.iterdir() if p.name.startswith(".secret-")]


def test_results_folder_and_database_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "uusi" / "results"
    store = Records.open(f"sqlite:///{folder / 'somequiz.db'}")
    try:
        assert (folder.stat().st_mode & 0o777) == 0o700
        assert ((folder / "somequiz.db").stat().st_mode & 0o777) == 0o600
        load_secret(folder)
        assert ((folder / "secret.key").stat().st_mode & 0o777) == 0o600
    finally:
        store.close()


def test_a_database_without_a_dialect_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="Tietokantaa mysql ei tueta"):
        Database("mysql://palvelin/kanta", results=tmp_path)


def test_configured_database_uses_the_settings_key(tmp_path: Path) -> None:
    options = Settings(results=tmp_path / "results", secret_key="asetettu-avain")
    with Database.configured(options) as db:
        assert db.url == f"sqlite:///{tmp_path / 'results' / 'somequiz.db'}"
        assert db.secret == b"asetettu-avain"
    assert not (tmp_path / "results" / "secret.key").exists()
