"""Migrations: from an empty database to the newest, and from the previous revision with data."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from records_helpers import Records
from sqlalchemy import JSON, column, insert, inspect, table
from sqlalchemy.sql.expression import ColumnClause

from somequiz.config import settings
from somequiz.records.database import (
    SCHEMA_REVISION,
    current_revision,
    load_secret,
    make_engine,
    up_to_date,
    upgrade,
)
from somequiz.records.signing import Signer


def test_from_empty_database_to_newest(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)  # a second run changes nothing
    assert current_revision(engine) == SCHEMA_REVISION
    names = set(inspect(engine).get_table_names())
    assert {
        "learners",
        "attempts",
        "answers",
        "completions",
        "flags",
        "roster",
        "erasures",
        "content_versions",
    } <= names
    indexes = {i["name"] for i in inspect(engine).get_indexes("answers")}
    assert "ix_answers_answered_at" in indexes
    engine.dispose()


def test_from_previous_revision_keeps_data(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    assert "roster" not in inspect(engine).get_table_names()
    learners = table(
        "learners",
        column("id"),
        column("learner_key"),
        column("name"),
        column("employee_number"),
        column("unit"),
        column("email"),
        column("created_at"),
    )
    with engine.begin() as connection:
        connection.execute(
            insert(learners).values(
                id=1,
                learner_key="emp:E1",
                name="Ennen Päivitystä",
                employee_number="E1",
                unit="Kotihoito",
                email=None,
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
    engine.dispose()
    store = Records.open(db_url)  # migrates on start
    try:
        assert current_revision(store.db.engine) == SCHEMA_REVISION
        found = store.admin.find_learner("E1")
        assert found is not None and found.name == "Ennen Päivitystä"
        assert store.reports.roster_frame().empty
    finally:
        store.close()


def test_migrations_match_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from somequiz.records.tables import Base

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_schema_revision_is_the_newest_migration(db_url: str) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from somequiz.records.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION
    engine = make_engine(db_url)
    assert not up_to_date(engine)  # empty: Records.open() must migrate
    upgrade(engine, "0002")
    assert not up_to_date(engine)
    Records.open(db_url).close()
    assert up_to_date(engine) and current_revision(engine) == SCHEMA_REVISION
    engine.dispose()


def test_duplicate_notes_shrink_to_the_latest_per_step(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0005")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    rows = {
        "learners": [
            {"id": 1, "learner_key": "emp:F1", "name": "Huomauttaja", "created_at": moment}
        ],
        "attempts": [
            {
                "id": "a1",
                "learner_id": 1,
                "course_id": "c",
                "course_version": 1,
                "course_hash": "h",
                "lang": "fi",
                "status": "in_progress",
                "started_at": moment,
            }
        ],
        "flags": [
            {
                "id": n,
                "attempt_id": "a1",
                "scenario_id": "s",
                "step_id": step,
                "comment": f"n{n}",
                "created_at": moment,
            }
            for n, step in [(1, "x"), (2, "x"), (3, "y"), (4, "x")]
        ],
    }
    with engine.begin() as connection:
        for name, values in rows.items():
            columns: list[ColumnClause[object]] = [column(key) for key in values[0]]
            connection.execute(insert(table(name, *columns)), values)
    upgrade(engine)
    with engine.begin() as connection:
        kept = connection.execute(
            table("flags", column("id"), column("comment")).select().order_by(column("id"))
        ).all()
    assert [tuple(r) for r in kept] == [(3, "n3"), (4, "n4")]
    engine.dispose()


def _stored_before_the_seals(db_url: str) -> None:
    """A learner with a signed completion, as revision 0006 stored them."""
    engine = make_engine(db_url)
    upgrade(engine, "0006")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    completion = {
        "id": 1,
        "attempt_id": "a1",
        "learner_id": 1,
        "completed_at": moment,
        "points": 9,
        "max_points": 10,
        "passed": False,
        "theme_scores": {},
        "course_hash": "h",
        "certificate_code": None,
    }
    signer = Signer(load_secret(settings().results))
    rows = {
        "learners": [{"id": 1, "learner_key": "emp:V1", "name": "Vanha", "created_at": moment}],
        "attempts": [
            {
                "id": "a1",
                "learner_id": 1,
                "course_id": "c",
                "course_version": 1,
                "course_hash": "h",
                "lang": "fi",
                "status": "completed",
                "started_at": moment,
            }
        ],
        "completions": [
            {
                **completion,
                "signature": signer.signature(SimpleNamespace(**completion), "emp:V1"),
            }
        ],
    }
    with engine.begin() as connection:
        for name, values in rows.items():
            columns = [column(key, JSON if key == "theme_scores" else None) for key in values[0]]
            connection.execute(insert(table(name, *columns)), values)
    engine.dispose()


def test_rows_from_before_the_seals_are_reported_until_sealed(db_url: str) -> None:
    _stored_before_the_seals(db_url)
    store = Records.open(db_url)  # migrates to the seals
    try:
        report = store.signatures.verify()
        assert [a.problems for a in report.altered] == [("unsealed",)]
        assert [p.problems for p in report.learners] == [("unsealed",)]
        assert store.signatures.seal_unsealed() == 2
        assert store.signatures.verify().clean
        assert store.signatures.seal_unsealed() == 0
    finally:
        store.close()
