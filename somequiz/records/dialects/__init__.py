"""What differs between the databases the records run on: one module per SQLAlchemy backend.

A dialect module offers :class:`Dialect`'s functions; :func:`dialect` finds it by the URL's
backend name, so a new database is one module here (and a parameter of the test fixtures).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from somequiz.errors import StoreError


class Dialect(Protocol):
    """The functions every dialect module has."""

    def engine(self, url: URL) -> Engine:
        """An engine for ``url`` with the settings the records rely on."""

    def lock_migrations(self, connection: Connection) -> None:
        """Keep other processes from migrating until ``connection``'s transaction ends."""

    def problem(self, exc: SQLAlchemyError, url: URL) -> str:
        """A message a person can act on for ``exc``, or "" for the general one."""

    def backup(self, url: URL, target: Path) -> str:
        """Back ``url`` up to ``target`` while in use, or say how; what was done, in Finnish."""


def dialect(url: str | URL) -> Dialect:
    """The dialect module of ``url``'s backend."""
    name = make_url(url).get_backend_name()
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError:
        raise StoreError(
            f"Tietokantaa {name} ei tueta. Käytä SQLiteä tai PostgreSQL:ää (SOMEQUIZ_DB_URL)."
        ) from None
    return cast(Dialect, module)
