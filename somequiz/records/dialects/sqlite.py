"""SQLite: a private file, pragmas for concurrent writers, disk failures, online backup."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from somequiz.errors import StoreError


def private_folder(folder: Path) -> None:
    """Create ``folder`` readable by its owner only (0700), whatever the umask."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create the (SQLite) file ``path`` 0600 in a 0700 folder, before anything writes to it."""
    if path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        private_folder(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def engine(url: URL) -> Engine:
    """An engine on a private file, in WAL mode, that waits for a busy writer."""
    if url.database and url.database != ":memory:":
        private_file(Path(url.database))
    created = create_engine(url, connect_args={"timeout": 30})
    event.listen(created, "connect", _pragmas)
    return created


def lock_migrations(connection: Connection) -> None:
    """Nothing to do: SQLite's write lock already serialises migrating processes."""


def problem(exc: SQLAlchemyError, url: URL) -> str:
    """A clear message when the file cannot be written (full disk, read-only folder)."""
    name = str(getattr(getattr(exc, "orig", None), "sqlite_errorname", ""))
    where = url.database or url.render_as_string()
    if name == "SQLITE_FULL":
        return (
            f"Levy on täynnä: tietokantaan {where} ei mahdu enempää. Vapauta levytilaa ja yritä "
            "uudelleen; jo tallennetut tiedot ovat tallessa."
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
        return (
            f"Tietokantaa {where} ei voi avata kirjoitettavaksi: tiedosto tai sen kansio on vain "
            "luku -tilassa tai väärän käyttäjän omistama (SQLite kirjoittaa kansioon myös "
            "-wal- ja -shm-tiedostot). Korjaa oikeudet ja yritä uudelleen; jo tallennetut "
            "tiedot ovat tallessa."
        )
    return ""


def backup(url: URL, target: Path) -> str:
    """Copy a SQLite database to ``target`` (created 0600) while it is in use.

    SQLite's online backup API gives a consistent copy even while learners write; copying
    the file (and its -wal) by hand does not. Written beside ``target`` and renamed into place.
    """
    if not url.database:
        raise StoreError("Varmuuskopio vain tiedostossa olevasta SQLite-tietokannasta.")
    source_path = Path(url.database)
    if not source_path.is_file():
        raise StoreError(f"Tietokantaa {source_path} ei ole. Tarkista SOMEQUIZ_RESULTS.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".backup-")
    os.close(fd)  # mkstemp created it 0600; SQLite writes into it
    try:
        ok = _copy(source_path, Path(temporary))
        if ok != "ok":
            raise StoreError(f"Varmuuskopion eheystarkistus epäonnistui: {ok}. Yritä uudelleen.")
        Path(temporary).replace(target)
        return f"Varmuuskopio: {target} ({target.stat().st_size} tavua, eheys tarkistettu)."
    except sqlite3.Error as exc:
        raise StoreError(
            f"Varmuuskopio epäonnistui: {exc}. Tarkista levytila ja oikeudet."
        ) from exc
    except OSError as exc:
        raise StoreError(f"Varmuuskopiota ei voi kirjoittaa: {exc.strerror}.") from exc
    finally:
        Path(temporary).unlink(missing_ok=True)


def _copy(source_path: Path, temporary: Path) -> str:
    """Back ``source_path`` up into ``temporary``; the copy's integrity check result."""
    source = sqlite3.connect(source_path, timeout=30)
    try:
        copy = sqlite3.connect(temporary)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            return str(copy.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            copy.close()
    finally:
        source.close()
