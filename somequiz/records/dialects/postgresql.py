"""PostgreSQL: a pooled engine, an advisory lock for migrations, and the one-statement
completion write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    bindparam,
    create_engine,
    exists,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from somequiz.errors import StoreError
from somequiz.records.rows import Completion, completion
from somequiz.records.tables import AttemptRow, CompletionRow

if TYPE_CHECKING:
    from somequiz.records.database import Database

_MIGRATION_LOCK = 782_301
_COMPLETION_INSERT = [c for c in CompletionRow.__table__.columns if c.name != "id"]
# Mark the attempt completed unless it already has a completion, and insert the completion
# only if that happened -- one statement, so one implicit transaction.
_FINISHED = (
    update(AttemptRow)
    .where(
        AttemptRow.id == bindparam("attempt_id"),
        ~exists().where(CompletionRow.attempt_id == bindparam("attempt_id")),
    )
    .values(status="completed", finished_at=bindparam("finished"))
    .returning(AttemptRow.id)
    .cte("finished")
)
_COMPLETE = (
    insert(CompletionRow)
    .from_select(
        [c.name for c in _COMPLETION_INSERT],
        select(*[bindparam(f"v_{c.name}", type_=c.type) for c in _COMPLETION_INSERT]).select_from(
            _FINISHED
        ),
    )
    .returning(CompletionRow.id)
)
_GONE = "Suoritusta ei löydy. Aloita kurssi uudelleen."


def engine(url: URL) -> Engine:
    """A pooled engine that checks a connection before handing it out."""
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def backup(url: URL, target: Path) -> str:
    """PostgreSQL is backed up with its own tool: the command to run."""
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=True)
    return (
        "PostgreSQL varmuuskopioidaan sen omalla työkalulla, esimerkiksi:\n"
        f"  pg_dump --format=custom --file={target} '{libpq}'\n"
        "Salasanan pg_dump lukee tiedostosta ~/.pgpass tai muuttujasta PGPASSWORD."
    )


def lock_migrations(connection: Connection) -> None:
    """Hold a transaction-level advisory lock, so concurrent starts migrate one at a time."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})


def problem(exc: SQLAlchemyError, url: URL) -> str:
    """Nothing more specific than the general message."""
    return ""


def complete(
    db: Database,
    attempt_id: str,
    read: Executable,
    new_row: Callable[[Any], dict[str, Any]],
) -> tuple[Completion, dict[str, Any] | None]:
    """Write the completion ``new_row`` makes of the attempt ``read`` finds, once.

    A read and one write statement, outside an explicit transaction: three round trips instead
    of six (BEGIN, a locking read, INSERT, UPDATE, COMMIT). The write marks the attempt and
    inserts its completion in one statement, so it cannot half-happen, and writes nothing if a
    completion appeared since the read (then that one is read and returned). The row written,
    if this call wrote it, comes second.
    """
    with (
        db.failures(),
        db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
    ):
        found = connection.execute(read, {"attempt_id": attempt_id}).first()
        if found is None:
            raise StoreError(_GONE)
        if found.attempt_id is None:
            row = new_row(found)
            values = {f"v_{k}": v for k, v in row.items()}
            values["attempt_id"], values["finished"] = attempt_id, row["completed_at"]
            if connection.execute(_COMPLETE, values).first() is not None:
                return completion(SimpleNamespace(**row)), row
            found = connection.execute(read, {"attempt_id": attempt_id}).first()
    if found is None or found.attempt_id is None:
        raise StoreError(_GONE)
    return completion(found), None
