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
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from somequiz.config import settings
from somequiz.errors import AnswerError, StoreError
from somequiz.scoring import Answer, CourseResult
from somequiz.tables import AnswerRow, AttemptRow, CompletionRow, FlagRow, LearnerRow

_MIGRATIONS = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 782_301


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    certificate_code: str


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
    try:
        results.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    except OSError as exc:
        raise StoreError(f"Avainta ei voi luoda kansioon {results}: {exc.strerror}.") from exc
    key = secrets.token_hex(32).encode("ascii")
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings the store relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to run from several processes)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Store:
    """All reads and writes of course records."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or settings().database_url()
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._secret: bytes | None = None
        if migrate:
            try:
                upgrade(self.engine)
            except OperationalError as exc:
                raise StoreError(
                    "Tietokantaan ei saada yhteyttä. Tarkista SOMEQUIZ_DB_URL ja että "
                    "tietokanta on käynnissä."
                ) from exc

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except (AnswerError, StoreError):
            raise
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(
                "Tallennus ei onnistunut. Yritä hetken päästä uudelleen; vastauksesi eivät katoa."
            ) from exc
        finally:
            session.close()

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
        """Find the learner by identity, or create them; updates name and unit."""
        key = learner_key(
            employee_number=employee_number, name=name, unit=unit, external_id=external_id
        )
        for _ in range(2):
            try:
                with self.session() as s:
                    row = s.scalars(select(LearnerRow).where(LearnerRow.learner_key == key)).first()
                    if row is None:
                        row = LearnerRow(
                            learner_key=key,
                            name=name,
                            employee_number=employee_number,
                            unit=unit,
                            email=email,
                            created_at=now(),
                        )
                        s.add(row)
                    else:
                        row.name, row.unit, row.erased_at = name, unit or row.unit, None
                    s.flush()
                    return Learner(row.id, key, row.name, row.employee_number, row.unit)
            except IntegrityError:
                continue  # another process created the same learner a moment ago
        raise StoreError("Oppijan tallennus ei onnistunut. Yritä uudelleen.")

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
    ) -> Attempt:
        """A new attempt at the course."""
        with self.session() as s:
            row = AttemptRow(
                id=str(uuid.uuid4()),
                learner_id=learner_id,
                course_id=course_id,
                course_version=course_version,
                course_hash=course_hash,
                lang=lang,
                status="in_progress",
                started_at=now(),
            )
            s.add(row)
            s.flush()
            return _attempt(row)

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
    ) -> StoredAnswer:
        """Store an answer once; the same answer id again returns the stored one."""
        row = AnswerRow(
            id=answer_id,
            attempt_id=attempt_id,
            scenario_id=scenario_id,
            scenario_version=scenario_version,
            scenario_hash=scenario_hash,
            scenario_try=scenario_try,
            step_id=step_id,
            chosen=json.dumps(list(chosen)),
            points=points,
            max_points=max_points,
            severity=severity,
            answered_at=now(),
        )
        try:
            with self.session() as s:
                # Order by a per-attempt sequence, not by clock: servers' clocks may differ.
                last = s.scalar(
                    select(func.max(AnswerRow.seq)).where(AnswerRow.attempt_id == attempt_id)
                )
                row.seq = (last or 0) + 1
                s.add(row)
            return _answer(row)
        except IntegrityError:
            with self.session() as s:
                existing = s.get(AnswerRow, answer_id)
            if existing is not None and existing.step_id == step_id:
                return _answer(existing)
            raise AnswerError("Tähän kohtaan on jo vastattu.") from None

    def answers(self, attempt_id: str) -> list[StoredAnswer]:
        """The attempt's answers in the order they were given."""
        with self.session() as s:
            rows = s.scalars(
                select(AnswerRow).where(AnswerRow.attempt_id == attempt_id).order_by(AnswerRow.seq)
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
    def signed_fields(row: CompletionRow, learner_key: str) -> dict[str, Any]:
        """The canonical fields a completion's signature covers."""
        return {
            "attempt_id": row.attempt_id,
            "learner": learner_key,
            "completed_at": _aware(row.completed_at).isoformat(timespec="seconds"),
            "points": row.points,
            "max_points": row.max_points,
            "passed": row.passed,
            "theme_scores": {k: round(v, 4) for k, v in sorted(row.theme_scores.items())},
            "course_hash": row.course_hash,
            "certificate_code": row.certificate_code,
        }

    def record_completion(self, attempt_id: str, result: CourseResult) -> Completion:
        """Finish the attempt and store its signed result, once."""
        with self.session() as s:
            attempt = s.get(AttemptRow, attempt_id, with_for_update=True)
            if attempt is None:
                raise StoreError("Suoritusta ei löydy. Aloita kurssi uudelleen.")
            existing = s.scalars(
                select(CompletionRow).where(CompletionRow.attempt_id == attempt_id)
            ).first()
            if existing is not None:
                return _completion(existing)
            learner = s.get(LearnerRow, attempt.learner_id)
            assert learner is not None
            moment = now().replace(microsecond=0)
            row = CompletionRow(
                attempt_id=attempt_id,
                learner_id=attempt.learner_id,
                completed_at=moment,
                points=result.points,
                max_points=result.max_points,
                passed=result.passed,
                theme_scores={k: round(v, 4) for k, v in result.theme_scores.items()},
                course_hash=attempt.course_hash,
                certificate_code=self._certificate_code(attempt_id),
                signature="",
            )
            row.signature = self._sign(self.signed_fields(row, learner.learner_key))
            attempt.status, attempt.finished_at = "completed", moment
            s.add(row)
            s.flush()
            return _completion(row)

    def completion(self, attempt_id: str) -> Completion | None:
        """The attempt's completion, if it has one."""
        with self.session() as s:
            row = s.scalars(
                select(CompletionRow).where(CompletionRow.attempt_id == attempt_id)
            ).first()
            return _completion(row) if row else None

    def flag(self, attempt_id: str, scenario_id: str, step_id: str, comment: str) -> None:
        """Store a learner's note that a step was unclear."""
        with self.session() as s:
            s.add(
                FlagRow(
                    attempt_id=attempt_id,
                    scenario_id=scenario_id,
                    step_id=step_id,
                    comment=comment[:2000],
                    created_at=now(),
                )
            )


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


def _answer(row: AnswerRow) -> StoredAnswer:
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


def _completion(row: CompletionRow) -> Completion:
    return Completion(
        row.attempt_id,
        _aware(row.completed_at),
        row.points,
        row.max_points,
        row.passed,
        dict(row.theme_scores),
        row.certificate_code,
    )
