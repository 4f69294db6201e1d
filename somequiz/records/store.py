"""The records store: learners, attempts, answers, completions and flags over SQLAlchemy.

SQLite under ``results/`` by default, PostgreSQL by URL. Every write is its own
transaction and idempotent, so a learner sees feedback only for an answer that is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Float,
    Select,
    and_,
    bindparam,
    case,
    cast,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    text,
    union,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from somequiz.config import settings
from somequiz.engine.scoring import Answer, CourseResult
from somequiz.errors import AnswerError, IdentityError, StoreError
from somequiz.records.tables import (
    AnswerRow,
    AttemptRow,
    CompletionRow,
    ContentVersionRow,
    ErasureRow,
    FlagRow,
    LearnerRow,
    RosterRow,
)

if TYPE_CHECKING:
    # pandas is imported only when a frame is asked for: the learner kernel never needs it.
    import pandas as pd

_MIGRATIONS = Path(__file__).with_name("migrations")
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")
_PG_MIGRATION_LOCK = 782_301
MAX_FLAG = 2000  # characters kept of one note
FLAGS_SHOWN = 500  # notes a staff table shows at most (the newest)
# The newest migration (tests check that it is Alembic's head): a database already there is
# opened without importing Alembic, which costs a kernel or a command ~0.7 s.
SCHEMA_REVISION = "0006"


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    # A PostgreSQL session in another time zone returns the same instant with another offset.
    return _aware(moment).astimezone(UTC)


@dataclass(frozen=True)
class Learner:
    """A learner as the course knows them."""

    id: int
    key: str
    name: str
    employee_number: str | None
    unit: str | None


@dataclass(frozen=True)
class Attempt:
    """One go at the course."""

    id: str
    learner_id: int
    course_id: str
    course_hash: str
    status: str
    started_at: datetime
    lang: str


@dataclass(frozen=True)
class StoredAnswer:
    """A stored answer, enough to replay a scenario run."""

    id: str
    scenario_id: str
    scenario_try: int
    step_id: str
    chosen: tuple[str, ...]
    points: int
    severity: str
    answered_at: datetime

    def as_answer(self) -> Answer:
        """The engine's view of this answer."""
        return Answer(self.step_id, self.chosen)


@dataclass(frozen=True)
class Completion:
    """A finished course with its certificate code."""

    attempt_id: str
    completed_at: datetime
    points: int
    max_points: int
    passed: bool
    theme_scores: dict[str, float]
    certificate_code: str | None


@dataclass(frozen=True)
class ItemStats:
    """Item-analysis sums from the store: ``learners`` is how many learners answered (at most
    the cap asked for); each
    row of ``choices`` is one step and one distinct choice (``scenario_id``, ``step_id``,
    ``chosen`` as a tuple) with ``answers``, the ``items`` scored and their ``item_sum``
    (item score = points / step maximum), and over the ``pairs`` where both the item score x
    and the rest-of-course score y exist: ``sx``, ``sy``, ``sxx``, ``syy``, ``sxy``."""

    learners: int
    choices: pd.DataFrame


@dataclass(frozen=True)
class RosterEntry:
    """One employee of an imported roster."""

    employee_number: str
    name: str
    unit: str
    start_date: date
    email: str | None = None


@dataclass(frozen=True)
class RosterImport:
    """How a roster import changed the stored roster."""

    added: int
    updated: int
    removed: int


@dataclass(frozen=True)
class Erasure:
    """What an erasure deleted and kept."""

    learner_id: int
    answers_deleted: int
    flags_deleted: int
    completions_kept: int


@dataclass(frozen=True)
class Altered:
    """A completion whose stored fields no longer match their signature."""

    completion_id: int
    attempt_id: str
    certificate_code: str | None
    reason: str


@dataclass(frozen=True)
class Verification:
    """The outcome of checking every completion."""

    checked: int
    altered: list[Altered]


@dataclass(frozen=True)
class CertificateCheck:
    """The outcome of checking one certificate code."""

    code: str
    found: bool
    valid: bool
    completed_at: datetime | None
    passed: bool | None
    name: str | None
    superseded_at: datetime | None = None


def same_name(a: str, b: str) -> bool:
    """Whether two names are the same person's name as typed (case and spacing aside)."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def learner_key(
    *,
    employee_number: str | None = None,
    name: str = "",
    unit: str | None = None,
    external_id: str | None = None,
) -> str:
    """The identity a learner is found by again: SSO id, employee number, or name and unit."""
    if external_id:
        return f"sso:{external_id.strip()}"
    if employee_number:
        return f"emp:{employee_number.strip().upper()}"
    return f"name:{' '.join(name.casefold().split())}|{(unit or '').casefold().strip()}"


def load_secret(results: Path) -> bytes:
    """The signing key from settings, or from ``results/secret.key`` (created 0600 if missing)."""
    configured = settings().secret_key
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _disk_problem(exc: SQLAlchemyError, url: str) -> str:
    """A clear message when a SQLite file cannot be written (full disk, read-only folder)."""
    name = str(getattr(getattr(exc, "orig", None), "sqlite_errorname", ""))
    where = make_url(url).database or url
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


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings the store relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def backup_sqlite(url: str, target: Path) -> None:
    """Copy a SQLite database to ``target`` (created 0600) while it is in use.

    SQLite's online backup API gives a consistent copy even while learners write; copying
    the file (and its -wal) by hand does not. Written beside ``target`` and renamed into place.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise StoreError("Varmuuskopio tällä komennolla vain SQLite-tietokannasta.")
    source_path = Path(parsed.database)
    if not source_path.is_file():
        raise StoreError(f"Tietokantaa {source_path} ei ole. Tarkista SOMEQUIZ_RESULTS.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".backup-")
    os.close(fd)  # mkstemp created it 0600; SQLite writes into it
    try:
        source = sqlite3.connect(source_path, timeout=30)
        try:
            copy = sqlite3.connect(temporary)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                ok = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
        finally:
            source.close()
        if ok != "ok":
            raise StoreError(f"Varmuuskopion eheystarkistus epäonnistui: {ok}. Yritä uudelleen.")
        Path(temporary).replace(target)
    except sqlite3.Error as exc:
        raise StoreError(
            f"Varmuuskopio epäonnistui: {exc}. Tarkista levytila ja oikeudet."
        ) from exc
    except OSError as exc:
        raise StoreError(f"Varmuuskopiota ei voi kirjoittaa: {exc.strerror}.") from exc
    finally:
        Path(temporary).unlink(missing_ok=True)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``, the newest by default (safe from several processes)."""
    # Imported here: learner kernels never migrate, and alembic costs them memory.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
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


class Store:
    """All reads and writes of course records."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or settings().database_url()
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._secret: bytes | None = None
        if migrate and not up_to_date(self.engine):
            try:
                upgrade(self.engine)
            except OperationalError as exc:
                raise StoreError(
                    _disk_problem(exc, self.url)
                    or "Tietokantaan ei saada yhteyttä. Tarkista SOMEQUIZ_DB_URL ja että "
                    "tietokanta on käynnissä."
                ) from exc

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Database errors as the StoreError a learner can act on; our own errors pass."""
        try:
            yield
        except (AnswerError, StoreError, IntegrityError):
            raise
        except SQLAlchemyError as exc:
            raise StoreError(
                _disk_problem(exc, self.url)
                or "Tallennus ei onnistunut. Yritä hetken päästä uudelleen; vastauksesi eivät "
                "katoa."
            ) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        with self._failures():
            session = self._sessions()
            try:
                with session.begin():
                    yield session
            finally:
                session.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core transaction (fewer round trips than the ORM): committed on success."""
        with self._failures(), self.engine.begin() as connection:
            yield connection

    @property
    def secret(self) -> bytes:
        """The HMAC key for completions."""
        if self._secret is None:
            self._secret = load_secret(settings().results)
        return self._secret

    # Learners and attempts

    def learner(
        self,
        *,
        name: str,
        employee_number: str | None = None,
        unit: str | None = None,
        email: str | None = None,
        external_id: str | None = None,
    ) -> Learner:
        """Find the learner by identity, or create them; updates the unit.

        The identity rule: an employee number belongs to one name, as HR's roster has it or
        as first stored. A sign-in with the number and another name is refused (IdentityError),
        so nobody continues or renames someone else's course; names change only through HR
        (roster import). With SSO the header's name is the identity and is kept up to date.
        """
        key = learner_key(
            employee_number=employee_number, name=name, unit=unit, external_id=external_id
        )
        for _ in range(2):
            try:
                with self.session() as s:
                    row = s.scalars(select(LearnerRow).where(LearnerRow.learner_key == key)).first()
                    official = self._official_name(s, row, name, employee_number, external_id)
                    if row is None:
                        row = LearnerRow(
                            learner_key=key,
                            name=official,
                            employee_number=employee_number,
                            unit=unit,
                            email=email,
                            created_at=now(),
                        )
                        s.add(row)
                    else:
                        row.name, row.unit, row.erased_at = official, unit or row.unit, None
                    s.flush()
                    return Learner(row.id, key, row.name, row.employee_number, row.unit)
            except IntegrityError:
                continue  # another process created the same learner a moment ago
        raise StoreError("Oppijan tallennus ei onnistunut. Yritä uudelleen.")

    @staticmethod
    def _official_name(
        s: Session,
        row: LearnerRow | None,
        typed: str,
        employee_number: str | None,
        external_id: str | None,
    ) -> str:
        """The name a sign-in may use: the roster's or the stored one; typed must match it."""
        if external_id or not employee_number:
            return typed
        roster = s.get(RosterRow, employee_number.strip().upper())
        known = roster.name if roster is not None else None
        if known is None and row is not None and row.erased_at is None:
            known = row.name
        if known is None:
            return typed
        if not same_name(known, typed):
            raise IdentityError(employee_number)
        return known

    def open_attempt(self, learner_id: int, course_id: str) -> Attempt | None:
        """The learner's latest unfinished attempt at the course, if any."""
        with self.session() as s:
            row = s.scalars(
                select(AttemptRow)
                .where(
                    AttemptRow.learner_id == learner_id,
                    AttemptRow.course_id == course_id,
                    AttemptRow.status == "in_progress",
                )
                .order_by(AttemptRow.started_at.desc())
            ).first()
            return _attempt(row) if row else None

    def start_attempt(
        self,
        learner_id: int,
        course_id: str,
        course_version: int,
        course_hash: str,
        lang: str = "fi",
        *,
        at: datetime | None = None,
    ) -> Attempt:
        """A new attempt at the course (``at`` backdates it, for demo data and tests)."""
        attempt = Attempt(
            id=str(uuid.uuid4()),
            learner_id=learner_id,
            course_id=course_id,
            course_hash=course_hash,
            status="in_progress",
            started_at=_aware(at or now()),
            lang=lang,
        )
        with self.transaction() as connection:
            connection.execute(
                insert(AttemptRow).values(
                    id=attempt.id,
                    learner_id=learner_id,
                    course_id=course_id,
                    course_version=course_version,
                    course_hash=course_hash,
                    lang=lang,
                    status="in_progress",
                    started_at=attempt.started_at,
                )
            )
        return attempt

    # Answers

    def record_answer(
        self,
        *,
        answer_id: str,
        attempt_id: str,
        scenario_id: str,
        scenario_version: int,
        scenario_hash: str,
        scenario_try: int,
        step_id: str,
        chosen: Sequence[str],
        points: int,
        max_points: int,
        severity: str,
        at: datetime | None = None,
    ) -> StoredAnswer:
        """Store an answer once; the same answer id again returns the stored one."""
        moment = at or now()
        # Order by a per-attempt sequence, not by clock: servers' clocks may differ. Computed
        # inside the INSERT: one round trip instead of a SELECT and an INSERT.
        seq = (
            select(func.coalesce(func.max(AnswerRow.seq), 0) + 1)
            .where(AnswerRow.attempt_id == attempt_id)
            .scalar_subquery()
        )
        values = {
            "id": answer_id,
            "attempt_id": attempt_id,
            "scenario_id": scenario_id,
            "scenario_version": scenario_version,
            "scenario_hash": scenario_hash,
            "scenario_try": scenario_try,
            "step_id": step_id,
            "chosen": json.dumps(list(chosen)),
            "points": points,
            "max_points": max_points,
            "severity": severity,
            "answered_at": moment,
        }
        try:
            with self.transaction() as connection:
                connection.execute(insert(AnswerRow).values({**values, "seq": seq}))
        except IntegrityError:
            with self.transaction() as connection:
                existing = connection.execute(
                    select(*_ANSWER_COLUMNS).where(AnswerRow.id == answer_id)
                ).first()
            if existing is not None and existing.step_id == step_id:
                return _answer(existing)
            raise AnswerError("Tähän kohtaan on jo vastattu.") from None
        return StoredAnswer(
            answer_id,
            scenario_id,
            scenario_try,
            step_id,
            tuple(chosen),
            points,
            severity,
            _aware(moment),
        )

    def answers(self, attempt_id: str) -> list[StoredAnswer]:
        """The attempt's answers in the order they were given."""
        with self.transaction() as connection:
            rows = connection.execute(
                select(*_ANSWER_COLUMNS)
                .where(AnswerRow.attempt_id == attempt_id)
                .order_by(AnswerRow.seq)
            ).all()
        return [_answer(r) for r in rows]

    # Completions

    def _sign(self, fields: dict[str, Any]) -> str:
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hmac.new(self.secret, canonical.encode("utf-8"), hashlib.sha256).hexdigest()

    def _certificate_code(self, attempt_id: str) -> str:
        digest = hmac.new(self.secret, attempt_id.encode("ascii"), hashlib.sha256).hexdigest()
        code = digest[:12].upper()
        return f"{code[:4]}-{code[4:8]}-{code[8:]}"

    @staticmethod
    def signed_fields(row: Any, learner_key: str) -> dict[str, Any]:
        """The canonical fields a completion's signature covers."""
        return {
            "attempt_id": row.attempt_id,
            "learner": learner_key,
            "completed_at": _utc(row.completed_at).isoformat(timespec="seconds"),
            "points": row.points,
            "max_points": row.max_points,
            "passed": row.passed,
            "theme_scores": {k: round(v, 4) for k, v in sorted(row.theme_scores.items())},
            "course_hash": row.course_hash,
            "certificate_code": row.certificate_code,
        }

    def record_completion(
        self, attempt_id: str, result: CourseResult, *, at: datetime | None = None
    ) -> Completion:
        """Finish the attempt and store its signed result, once.

        The attempt's learner is read first (the signature covers their key); the completion
        and the attempt's new status are then written together, all or nothing. A concurrent
        call for the same attempt hits the unique attempt_id and returns the first's record.
        """
        try:
            if self.engine.dialect.name == "postgresql":
                return self._record_completion_pg(attempt_id, result, at)
            with self.transaction() as connection:
                found = connection.execute(_READ_ATTEMPT, {"attempt_id": attempt_id}).first()
                if found is None:
                    raise StoreError("Suoritusta ei löydy. Aloita kurssi uudelleen.")
                if found.attempt_id is not None:
                    return _completion(found)
                row = self._new_completion(attempt_id, found, result, at)
                moment = row["completed_at"]
                connection.execute(_INSERT_COMPLETION, row)
                connection.execute(
                    _FINISH_ATTEMPT,
                    {"attempt_id": attempt_id, "new_status": "completed", "finished": moment},
                )
                return _completion(SimpleNamespace(**row))
        except IntegrityError:
            existing = self.completion(attempt_id)
            if existing is None:
                raise
            return existing

    def _record_completion_pg(
        self, attempt_id: str, result: CourseResult, at: datetime | None
    ) -> Completion:
        """PostgreSQL: a read and one write statement, outside an explicit transaction.

        Three round trips instead of six (BEGIN, a locking read, INSERT, UPDATE, COMMIT); the
        write marks the attempt and inserts its completion in one statement, so it cannot
        half-happen. It writes nothing if a completion appeared since the read.
        """
        with (
            self._failures(),
            self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
        ):
            found = connection.execute(_READ_ATTEMPT, {"attempt_id": attempt_id}).first()
            if found is None:
                raise StoreError("Suoritusta ei löydy. Aloita kurssi uudelleen.")
            if found.attempt_id is None:
                row = self._new_completion(attempt_id, found, result, at)
                values = {f"v_{k}": v for k, v in row.items()}
                values["attempt_id"], values["finished"] = attempt_id, row["completed_at"]
                if connection.execute(_COMPLETE_PG, values).first() is not None:
                    return _completion(SimpleNamespace(**row))
                found = connection.execute(_READ_ATTEMPT, {"attempt_id": attempt_id}).first()
        if found is None or found.attempt_id is None:
            raise StoreError("Suoritusta ei löydy. Aloita kurssi uudelleen.")
        return _completion(found)

    def _new_completion(
        self, attempt_id: str, found: Any, result: CourseResult, at: datetime | None
    ) -> dict[str, Any]:
        """The signed completion row of ``found`` (the attempt as _READ_ATTEMPT reads it)."""
        row: dict[str, Any] = {
            "attempt_id": attempt_id,
            "learner_id": found.learner_id,
            "completed_at": (at or now()).astimezone(UTC).replace(microsecond=0),
            "points": result.points,
            "max_points": result.max_points,
            "passed": result.passed,
            "theme_scores": {k: round(v, 4) for k, v in result.theme_scores.items()},
            "course_hash": found.course_hash,
            "certificate_code": self._certificate_code(attempt_id) if result.passed else None,
        }
        # A plain dict, not an ORM object: instrumented attributes cost as much as a round trip.
        row["signature"] = self._sign(self.signed_fields(SimpleNamespace(**row), found.learner_key))
        return row

    def completion(self, attempt_id: str) -> Completion | None:
        """The attempt's completion, if it has one."""
        with self.transaction() as connection:
            row = connection.execute(
                select(*_COMPLETION_COLUMNS).where(CompletionRow.attempt_id == attempt_id)
            ).first()
        return _completion(row) if row else None

    def standing(self, learner_id: int, course_id: str, course_version: int) -> Completion | None:
        """The completion that decides a returning learner's standing in this course version.

        Their latest passed completion if any (a pass stands until a later pass replaces
        it), otherwise their latest failed one (tries spent), otherwise None.
        """
        with self.transaction() as connection:
            row = connection.execute(
                select(*_COMPLETION_COLUMNS)
                .join(AttemptRow, AttemptRow.id == CompletionRow.attempt_id)
                .where(
                    AttemptRow.learner_id == learner_id,
                    AttemptRow.course_id == course_id,
                    AttemptRow.course_version == course_version,
                )
                .order_by(CompletionRow.passed.desc(), CompletionRow.completed_at.desc())
            ).first()
        return _completion(row) if row else None

    def flag(self, attempt_id: str, scenario_id: str, step_id: str, comment: str) -> None:
        """Store a learner's note that a step was unclear; a second note replaces the first."""
        where = (
            FlagRow.attempt_id == attempt_id,
            FlagRow.scenario_id == scenario_id,
            FlagRow.step_id == step_id,
        )
        values = {"comment": comment[:MAX_FLAG], "created_at": now()}
        for _ in range(2):
            try:
                with self.transaction() as connection:
                    if connection.execute(update(FlagRow).where(*where).values(values)).rowcount:
                        return
                    connection.execute(
                        insert(FlagRow).values(
                            attempt_id=attempt_id,
                            scenario_id=scenario_id,
                            step_id=step_id,
                            **values,
                        )
                    )
                    return
            except IntegrityError:
                continue  # the same note was stored a moment ago by another tab: update it
        raise StoreError("Huomautuksen tallennus ei onnistunut. Yritä uudelleen.")

    # Roster

    def import_roster(
        self, entries: Sequence[RosterEntry], *, replace: bool = False
    ) -> RosterImport:
        """Insert or update roster rows in one transaction; ``replace`` drops everyone else."""
        moment = now()
        with self.session() as s:
            existing = {r.employee_number: r for r in s.scalars(select(RosterRow))}
            added = updated = 0
            for entry in entries:
                row = existing.pop(entry.employee_number, None)
                if row is None:
                    s.add(
                        RosterRow(
                            employee_number=entry.employee_number,
                            name=entry.name,
                            unit=entry.unit,
                            start_date=entry.start_date,
                            email=entry.email,
                            imported_at=moment,
                        )
                    )
                    added += 1
                else:
                    row.name, row.unit, row.email = entry.name, entry.unit, entry.email
                    row.start_date, row.imported_at = entry.start_date, moment
                    updated += 1
            removed = 0
            if replace and existing:
                removed = len(existing)
                s.execute(delete(RosterRow).where(RosterRow.employee_number.in_(list(existing))))
        return RosterImport(added, updated, removed)

    # Privacy

    def find_learner(self, ref: str) -> Learner | None:
        """The learner by employee number, or by internal id when ``ref`` is ``#<id>``."""
        with self.session() as s:
            if ref.startswith("#") and ref[1:].isdigit():
                row = s.get(LearnerRow, int(ref[1:]))
            else:
                key = learner_key(employee_number=ref)
                row = s.scalars(select(LearnerRow).where(LearnerRow.learner_key == key)).first()
            if row is None or row.erased_at is not None:
                return None
            return Learner(row.id, row.learner_key, row.name, row.employee_number, row.unit)

    def erase_learner(self, learner_id: int) -> Erasure:
        """Delete a person's personal data, answers and notes; completions stay, anonymous.

        The unit is kept so that unit aggregates stay right; the completions are signed again
        under the anonymous identity so that ``verify`` still vouches for them.
        """
        with self.session() as s:
            learner = s.get(LearnerRow, learner_id, with_for_update=True)
            if learner is None:
                raise StoreError(f"Oppijaa {learner_id} ei ole. Tarkista tunniste.")
            attempts = select(AttemptRow.id).where(AttemptRow.learner_id == learner_id)
            answers = s.execute(delete(AnswerRow).where(AnswerRow.attempt_id.in_(attempts)))
            flags = s.execute(delete(FlagRow).where(FlagRow.attempt_id.in_(attempts)))
            if learner.employee_number:
                s.execute(
                    delete(RosterRow).where(RosterRow.employee_number == learner.employee_number)
                )
            moment = now()
            learner.learner_key = f"erased:{learner_id}"
            learner.name, learner.employee_number, learner.email = "", None, None
            learner.erased_at = moment
            completions = s.scalars(
                select(CompletionRow).where(CompletionRow.learner_id == learner_id)
            ).all()
            for row in completions:
                row.signature = self._sign(self.signed_fields(row, learner.learner_key))
            erasure = Erasure(
                learner_id=learner_id,
                answers_deleted=_rowcount(answers),
                flags_deleted=_rowcount(flags),
                completions_kept=len(completions),
            )
            s.add(ErasureRow(erased_at=moment, **asdict(erasure)))
            return erasure

    def delete_answers_before(self, cutoff: datetime) -> int:
        """Delete answers and learner notes given before ``cutoff``; the number of answers."""
        with self.session() as s:
            result = s.execute(delete(AnswerRow).where(AnswerRow.answered_at < cutoff))
            s.execute(delete(FlagRow).where(FlagRow.created_at < cutoff))
            return _rowcount(result)

    def apply_retention(self, years: int, *, today: date | None = None) -> int:
        """Delete answers older than ``years`` years; the number deleted."""
        if years < 1:
            raise StoreError("Säilytysajan pitää olla vähintään 1 vuosi.")
        day = today or now().date()
        try:
            cutoff_day = day.replace(year=day.year - years)
        except ValueError:  # 29 February
            cutoff_day = day.replace(year=day.year - years, day=28)
        return self.delete_answers_before(datetime.combine(cutoff_day, time(), UTC))

    # Tamper evidence

    def verify(self) -> Verification:
        """Recompute every completion's signature and certificate code; list altered rows."""
        altered: list[Altered] = []
        checked = 0
        with self.session() as s:
            rows = s.execute(
                select(CompletionRow, LearnerRow.learner_key)
                .join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
                .order_by(CompletionRow.id)
                .execution_options(yield_per=1000)
            )
            for row, key in rows:
                checked += 1
                problems = []
                if not hmac.compare_digest(row.signature, self._sign(self.signed_fields(row, key))):
                    problems.append("allekirjoitus ei täsmää (tietoja on muutettu)")
                if row.passed and row.certificate_code != self._certificate_code(row.attempt_id):
                    problems.append("todistuskoodi ei kuulu tälle suoritukselle")
                if problems:
                    altered.append(
                        Altered(row.id, row.attempt_id, row.certificate_code, "; ".join(problems))
                    )
        return Verification(checked, altered)

    def verify_certificate(self, code: str) -> CertificateCheck:
        """Whether ``code`` belongs to a stored, unaltered completion."""
        normal = "".join(ch for ch in code.upper() if ch.isalnum())
        formatted = f"{normal[:4]}-{normal[4:8]}-{normal[8:]}"
        with self.session() as s:
            found = s.execute(
                select(CompletionRow, LearnerRow)
                .join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
                .where(CompletionRow.certificate_code == formatted)
            ).first()
            if found is None:
                return CertificateCheck(formatted, False, False, None, None, None)
            row, learner = found
            valid = hmac.compare_digest(
                row.signature, self._sign(self.signed_fields(row, learner.learner_key))
            ) and row.certificate_code == self._certificate_code(row.attempt_id)
            return CertificateCheck(
                formatted,
                True,
                valid,
                _utc(row.completed_at),
                row.passed,
                learner.name or None,
                self._superseded_at(s, row),
            )

    @staticmethod
    def _superseded_at(s: Session, row: CompletionRow) -> datetime | None:
        """When a later passed completion of the same course replaced this certificate."""
        course = select(AttemptRow.course_id).where(AttemptRow.id == row.attempt_id)
        later = s.execute(
            select(func.min(CompletionRow.completed_at))
            .join(AttemptRow, AttemptRow.id == CompletionRow.attempt_id)
            .where(
                CompletionRow.learner_id == row.learner_id,
                CompletionRow.passed.is_(True),
                CompletionRow.completed_at > row.completed_at,
                AttemptRow.course_id == course.scalar_subquery(),
            )
        ).scalar()
        return _utc(later) if later is not None else None

    # Reading for exports and the dashboard

    def roster_frame(self) -> pd.DataFrame:
        """The roster: employee_number, name, unit, start_date, email."""
        stmt = select(
            RosterRow.employee_number,
            RosterRow.name,
            RosterRow.unit,
            RosterRow.start_date,
            RosterRow.email,
        ).order_by(RosterRow.employee_number)
        import pandas as pd

        frame = self._frame(stmt)
        frame["start_date"] = pd.to_datetime(frame["start_date"]).dt.date
        return frame

    def attempts_frame(self, *, details: bool = True) -> pd.DataFrame:
        """Every attempt with its learner and, when finished, its completion.

        Without ``details`` only what statuses and reports need (no course id, language,
        start and finish times or erasure time): a quarter faster on a big store. Theme scores
        are left out (decoding 100 000 JSON documents costs seconds): see :meth:`theme_sums`.
        """
        extra = (
            LearnerRow.erased_at,
            AttemptRow.course_id,
            AttemptRow.lang,
            AttemptRow.started_at,
            AttemptRow.finished_at,
        )
        stmt = (
            select(
                AttemptRow.id.label("attempt_id"),
                AttemptRow.learner_id,
                LearnerRow.employee_number,
                LearnerRow.name,
                LearnerRow.unit,
                # Signed in through SSO, or identity typed by the learner ("ilmoitettu itse").
                LearnerRow.learner_key.startswith("sso:").label("sso"),
                AttemptRow.course_version,
                AttemptRow.course_hash,
                AttemptRow.status,
                CompletionRow.completed_at,
                CompletionRow.points,
                CompletionRow.max_points,
                CompletionRow.passed,
                CompletionRow.certificate_code,
                *(extra if details else ()),
            )
            .join(LearnerRow, LearnerRow.id == AttemptRow.learner_id)
            .outerjoin(CompletionRow, CompletionRow.attempt_id == AttemptRow.id)
            .order_by(AttemptRow.started_at, AttemptRow.id)
        )
        times = ("erased_at", "started_at", "finished_at") if details else ()
        return self._frame(stmt, (*times, "completed_at"))

    def units(self) -> list[str]:
        """Every unit on the roster or of a learner, sorted."""
        with self.engine.connect() as connection:
            found = connection.scalars(
                union(
                    select(RosterRow.unit),
                    select(LearnerRow.unit).where(LearnerRow.unit.is_not(None)),
                )
            ).all()
        return sorted({str(u) for u in found})

    # Aggregates for the exports and the dashboard: computed by the database, so that a
    # report reads a few hundred rows instead of every answer.

    @staticmethod
    def _completed_in(
        stmt: _Query, unit: str | None, since: datetime | None, *, joined: bool = False
    ) -> _Query:
        """``stmt`` over completions limited to a learner unit and a first moment."""
        if unit is not None:
            if not joined:
                stmt = stmt.join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
            stmt = stmt.where(LearnerRow.unit == unit)
        if since is not None:
            stmt = stmt.where(CompletionRow.completed_at >= since.astimezone(UTC))
        return stmt

    def theme_sums(
        self, themes: Sequence[str], *, unit: str | None = None, since: datetime | None = None
    ) -> pd.DataFrame:
        """Completions per learner unit: ``unit``, ``learners``, ``completions``, ``passes``,
        and per theme ``n`` (position in ``themes``) ``sum_<n>`` and ``count_<n>`` of scores.

        Sums and counts rather than means, so units add up to the whole (a learner has one
        unit). Completions since ``since`` (a moment), of learners in ``unit``.
        """
        columns: list[Any] = [
            LearnerRow.unit.label("unit"),
            func.count(func.distinct(CompletionRow.learner_id)).label("learners"),
            func.count().label("completions"),
            func.sum(case((CompletionRow.passed, 1), else_=0)).label("passes"),
        ]
        for n, theme in enumerate(themes):
            score = CompletionRow.theme_scores[theme].as_float()
            columns += [func.sum(score).label(f"sum_{n}"), func.count(score).label(f"count_{n}")]
        stmt = (
            select(*columns)
            .join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
            .group_by(LearnerRow.unit)
        )
        return self._frame(self._completed_in(stmt, unit, since, joined=True))

    def item_stats(
        self,
        *,
        unit: str | None = None,
        since: datetime | None = None,
        learners_up_to: int | None = None,
    ) -> ItemStats:
        """Sums for the item analysis over first tries of completed attempts, per step and
        distinct choice (see :class:`ItemStats`); completions filtered as in theme_sums.

        ``learners_up_to`` stops counting learners there: enough to apply a group-size rule.
        """
        item = case(
            (AnswerRow.max_points > 0, cast(AnswerRow.points, Float) / AnswerRow.max_points)
        )
        # The rest of the course: the attempt's score without this step.
        rest_max = CompletionRow.max_points - AnswerRow.max_points
        rest = case((rest_max > 0, cast(CompletionRow.points - AnswerRow.points, Float) / rest_max))
        both = and_(AnswerRow.max_points > 0, rest_max > 0)
        x, y = case((both, item)), case((both, rest))
        stmt = (
            select(
                AnswerRow.scenario_id,
                AnswerRow.step_id,
                AnswerRow.chosen,
                func.count().label("answers"),
                func.count(item).label("items"),
                func.sum(item).label("item_sum"),
                func.count(x).label("pairs"),
                func.sum(x).label("sx"),
                func.sum(y).label("sy"),
                func.sum(x * x).label("sxx"),
                func.sum(y * y).label("syy"),
                func.sum(x * y).label("sxy"),
            )
            .join(CompletionRow, CompletionRow.attempt_id == AnswerRow.attempt_id)
            .where(AnswerRow.scenario_try == 1)
            .group_by(AnswerRow.scenario_id, AnswerRow.step_id, AnswerRow.chosen)
        )
        first_try = exists().where(
            AnswerRow.attempt_id == CompletionRow.attempt_id, AnswerRow.scenario_try == 1
        )
        learners = self._completed_in(
            select(CompletionRow.learner_id).where(first_try).distinct(), unit, since
        )
        if learners_up_to is not None:
            learners = learners.limit(learners_up_to)
        with self.engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(learners.subquery())) or 0
        frame = self._frame(self._completed_in(stmt, unit, since))
        frame["chosen"] = [tuple(json.loads(c)) for c in frame["chosen"]]
        return ItemStats(int(count), frame)

    def answers_frame(self) -> pd.DataFrame:
        """Every stored answer with its attempt's learner and unit."""
        stmt = (
            select(
                AnswerRow.id.label("answer_id"),
                AnswerRow.attempt_id,
                AttemptRow.learner_id,
                LearnerRow.unit,
                AnswerRow.scenario_id,
                AnswerRow.scenario_version,
                AnswerRow.scenario_hash,
                AnswerRow.scenario_try,
                AnswerRow.step_id,
                AnswerRow.seq,
                AnswerRow.chosen,
                AnswerRow.points,
                AnswerRow.max_points,
                AnswerRow.severity,
                AnswerRow.answered_at,
            )
            .join(AttemptRow, AttemptRow.id == AnswerRow.attempt_id)
            .join(LearnerRow, LearnerRow.id == AttemptRow.learner_id)
            .order_by(AnswerRow.attempt_id, AnswerRow.seq)
        )
        frame = self._frame(stmt, ("answered_at",))
        frame["chosen"] = [tuple(json.loads(c)) for c in frame["chosen"]]
        return frame

    def save_content_version(
        self, course_id: str, course_version: int, course_hash: str, snapshot: str
    ) -> None:
        """Keep the content behind ``course_hash`` (once; later calls change nothing)."""
        try:
            with self.session() as s:
                if s.get(ContentVersionRow, course_hash) is None:
                    s.add(
                        ContentVersionRow(
                            course_hash=course_hash,
                            course_id=course_id,
                            course_version=course_version,
                            snapshot=snapshot,
                            created_at=now(),
                        )
                    )
        except IntegrityError:
            pass  # another process saved the same version a moment ago

    def content_versions(self, course_id: str) -> dict[str, str]:
        """Every saved version of the course: content hash → snapshot."""
        with self.session() as s:
            rows = s.execute(
                select(ContentVersionRow.course_hash, ContentVersionRow.snapshot).where(
                    ContentVersionRow.course_id == course_id
                )
            ).all()
            return {str(h): str(text) for h, text in rows}

    def flags_frame(self, limit: int = FLAGS_SHOWN) -> pd.DataFrame:
        """The newest ``limit`` learners' notes on unclear steps (oldest first), with the unit."""
        stmt = (
            select(
                FlagRow.scenario_id,
                FlagRow.step_id,
                FlagRow.comment,
                FlagRow.created_at,
                LearnerRow.unit,
            )
            .join(AttemptRow, AttemptRow.id == FlagRow.attempt_id)
            .join(LearnerRow, LearnerRow.id == AttemptRow.learner_id)
            .order_by(FlagRow.created_at.desc(), FlagRow.id.desc())
            .limit(limit)
        )
        return self._frame(stmt, ("created_at",)).iloc[::-1].reset_index(drop=True)

    def _frame(self, stmt: Executable, utc_columns: Sequence[str] = ()) -> pd.DataFrame:
        import pandas as pd

        with self.engine.connect() as connection:
            result = connection.execute(stmt)
            # Plain tuples: pandas probes each Row's attributes, ~4x slower on big frames.
            rows = [tuple(row) for row in result]
            frame = pd.DataFrame(rows, columns=list(result.keys()))
        for column in utc_columns:
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame


def _attempt(row: AttemptRow) -> Attempt:
    return Attempt(
        row.id,
        row.learner_id,
        row.course_id,
        row.course_hash,
        row.status,
        _aware(row.started_at),
        row.lang,
    )


# The columns the dataclasses are made from, read with Core (no ORM objects needed).
_ANSWER_COLUMNS = (
    AnswerRow.id,
    AnswerRow.scenario_id,
    AnswerRow.scenario_try,
    AnswerRow.step_id,
    AnswerRow.chosen,
    AnswerRow.points,
    AnswerRow.severity,
    AnswerRow.answered_at,
)
_COMPLETION_COLUMNS = (
    CompletionRow.attempt_id,
    CompletionRow.completed_at,
    CompletionRow.points,
    CompletionRow.max_points,
    CompletionRow.passed,
    CompletionRow.theme_scores,
    CompletionRow.certificate_code,
)
_COMPLETION_INSERT = [c for c in CompletionRow.__table__.columns if c.name != "id"]
# record_completion's statements, built once: building them per call cost more CPU than
# PostgreSQL spent running them.
_READ_ATTEMPT = (
    select(AttemptRow.learner_id, AttemptRow.course_hash, LearnerRow.learner_key)
    .add_columns(*_COMPLETION_COLUMNS)
    .join(LearnerRow, LearnerRow.id == AttemptRow.learner_id)
    .outerjoin(CompletionRow, CompletionRow.attempt_id == AttemptRow.id)
    .where(AttemptRow.id == bindparam("attempt_id"))
)
_INSERT_COMPLETION = insert(CompletionRow)
_FINISH_ATTEMPT = (
    update(AttemptRow)
    .where(AttemptRow.id == bindparam("attempt_id"))
    .values(status=bindparam("new_status"), finished_at=bindparam("finished"))
)
# PostgreSQL: mark the attempt completed unless it already has a completion, and insert the
# completion only if that happened -- one statement, so one implicit transaction.
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
_COMPLETE_PG = (
    insert(CompletionRow)
    .from_select(
        [c.name for c in _COMPLETION_INSERT],
        select(*[bindparam(f"v_{c.name}", type_=c.type) for c in _COMPLETION_INSERT]).select_from(
            _FINISHED
        ),
    )
    .returning(CompletionRow.id)
)


def _answer(row: Any) -> StoredAnswer:
    return StoredAnswer(
        row.id,
        row.scenario_id,
        row.scenario_try,
        row.step_id,
        tuple(json.loads(row.chosen)),
        row.points,
        row.severity,
        _aware(row.answered_at),
    )


def _completion(row: Any) -> Completion:
    return Completion(
        row.attempt_id,
        _aware(row.completed_at),
        row.points,
        row.max_points,
        row.passed,
        dict(row.theme_scores),
        row.certificate_code,
    )


def _rowcount(result: Any) -> int:
    # DML results carry rowcount; typed as Result[Any] by SQLAlchemy.
    return int(getattr(result, "rowcount", 0) or 0)
