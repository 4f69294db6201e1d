"""Shared fixtures: isolated settings, shipped content, SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from records_helpers import shared_database
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from somequiz.config import settings
from somequiz.content.folder import Content, load_content
from somequiz.records.store import Store

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("SOMEQUIZ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own results folder and default SQLite database."""
    results = tmp_path / "results"
    monkeypatch.setenv("SOMEQUIZ_RESULTS", str(results))
    monkeypatch.setenv("SOMEQUIZ_SCENARIOS", str(SCENARIOS))
    monkeypatch.delenv("SOMEQUIZ_DB_URL", raising=False)
    monkeypatch.delenv("SOMEQUIZ_SECRET_KEY", raising=False)
    settings.cache_clear()
    yield results
    settings.cache_clear()


@pytest.fixture(scope="session")
def content() -> Content:
    """The shipped course content."""
    return load_content(SCENARIOS)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of the PostgreSQL server; a skip locally without it, a failure in CI."""
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        reason = f"PostgreSQL at {make_url(PG_URL).render_as_string()} is not reachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires PostgreSQL. {reason}")
        pytest.skip(reason)
    return PG_URL


def _create_database(server: str, template: str | None = None) -> str:
    name = f"somequiz_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        clause = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    admin.dispose()
    return name


def _drop_database(server: str, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _url(server: str, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = _create_database(pg_server)
    try:
        yield _url(pg_server, name)
    finally:
        _drop_database(pg_server, name)


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """A migrated database that per-test databases are cloned from (cloning beats migrating)."""
    name = _create_database(pg_server)
    Store(_url(pg_server, name)).close()
    try:
        yield name
    finally:
        _drop_database(pg_server, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on a fresh database, once for SQLite and once for PostgreSQL."""
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        server: str = request.getfixturevalue("pg_server")
        name = _create_database(server, template=request.getfixturevalue("pg_template"))
        url = _url(server, name)
    opened = Store(url)
    yield opened
    opened.close()
    if name is not None:
        _drop_database(server, name)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def shared_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One store per module and backend, for modules that fill it once (in their own
    module-scoped fixture) and only read it in their tests: writes are slow under load."""
    server = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with shared_database(request.param, folder, server) as store:
        yield store
