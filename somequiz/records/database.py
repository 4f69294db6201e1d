"""The database the records live in: engine, transactions, failures, migrations, signing key.

SQLite under ``results/`` by default, PostgreSQL by URL (see :mod:`somequiz.records.dialects`).
Every write is its own transaction, so a learner sees feedback only for an answer that is stored.
The settings are read by the caller and passed in (:meth:`Database.configured`).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from somequiz.errors import AnswerError, StoreError
from somequiz.records.dialects import dialect
from somequiz.records.dialects.sqlite import private_folder

if TYPE_CHECKING:
    from somequiz.config import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration (tests check that it is Alembic's head): a database already there is
# opened without importing Alembic, which costs a kernel or a command ~0.7 s.
SCHEMA_REVISION = "0007"


def load_secret(results: Path, configured: str = "") -> bytes:
    """The signing key: ``configured``, or ``results/secret.key`` (created 0600 if missing)."""
    if configured:
        return configured.encode("utf-8")
    path = results / "secret.key"
    if path.exists():
        return _read_key(path)
    # Written to a private temporary file and linked into place, so a process starting at the
    # same moment never reads a half-written key: it finds either no file or the whole key.
    try:
        private_folder(results)
        fd, temporary = tempfile.mkstemp(dir=results, prefix=".secret-")
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file 0600
            handle.write(secrets.token_hex(32).encode("ascii"))
        try:
            path.hardlink_to(temporary)
        except FileExistsError:
            pass  # another process won; use its key
        finally:
            Path(temporary).unlink()
    except OSError as exc:
        raise StoreError(f"Avainta ei voi luoda kansioon {results}: {exc.strerror}.") from exc
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    if not key:
        raise StoreError(f"Avaintiedosto {path} on tyhjä. Palauta se varmuuskopiosta.")
    return key


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings its dialect relies on."""
    return dialect(url).engine(make_url(url))


def backup(url: str, target: Path) -> str:
    """Back the records at ``url`` up to ``target`` the way its database allows; what was done."""
    parsed = make_url(url)
    return dialect(parsed).backup(parsed, target)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``, the newest by default (safe from several processes)."""
    # Imported here: learner kernels never migrate, and alembic costs them memory.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        dialect(engine.url).lock_migrations(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def up_to_date(engine: Engine) -> bool:
    """Whether the database is at SCHEMA_REVISION (one query, no Alembic)."""
    try:
        with engine.connect() as connection:
            found = connection.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        return False  # no table yet, or no database: upgrade() says which
    return bool(found == SCHEMA_REVISION)


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class Database:
    """One database's connections and transactions, and the key that signs its records.

    ``results`` holds the generated ``secret.key`` unless ``secret_key`` is given. A context
    manager: leaving it releases the connections.
    """

    def __init__(
        self, url: str, *, results: Path, secret_key: str = "", migrate: bool = True
    ) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._dialect = dialect(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._results, self._secret_key = results, secret_key
        self._secret: bytes | None = None
        if migrate and not up_to_date(self.engine):
            try:
                upgrade(self.engine)
            except OperationalError as exc:
                raise StoreError(
                    self._problem(exc)
                    or "Tietokantaan ei saada yhteyttä. Tarkista SOMEQUIZ_DB_URL ja että "
                    "tietokanta on käynnissä."
                ) from exc

    @classmethod
    def configured(cls, options: Settings, *, migrate: bool = True) -> Database:
        """The database ``options`` name, with their key and results folder."""
        return cls(
            options.database_url(),
            results=options.results,
            secret_key=options.secret_key,
            migrate=migrate,
        )

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @property
    def secret(self) -> bytes:
        """The HMAC key for completions (read or created on first use)."""
        if self._secret is None:
            self._secret = load_secret(self._results, self._secret_key)
        return self._secret

    def _problem(self, exc: SQLAlchemyError) -> str:
        return self._dialect.problem(exc, self.engine.url)

    @contextmanager
    def failures(self) -> Iterator[None]:
        """Database errors as the StoreError a learner can act on; our own errors pass."""
        try:
            yield
        except (AnswerError, StoreError, IntegrityError):
            raise
        except SQLAlchemyError as exc:
            raise StoreError(
                self._problem(exc)
                or "Tallennus ei onnistunut. Yritä hetken päästä uudelleen; vastauksesi eivät "
                "katoa."
            ) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        with self.failures():
            session = self._sessions()
            try:
                with session.begin():
                    yield session
            finally:
                session.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core transaction (fewer round trips than the ORM): committed on success."""
        with self.failures(), self.engine.begin() as connection:
            yield connection
