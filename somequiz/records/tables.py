"""The records schema (SQLAlchemy 2 declarative). Changed only together with a migration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class LearnerRow(Base):
    """A person taking the course; personal fields are emptied on erasure."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_key: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    employee_number: Mapped[str | None] = mapped_column(String(50))
    unit: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]


class AttemptRow(Base):
    """One go at the course; its id is the xAPI registration."""

    __tablename__ = "attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(64))
    course_version: Mapped[int]
    course_hash: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(5), default="fi")
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_attempts_learner", "learner_id", "course_id"),)


class AnswerRow(Base):
    """A submitted answer; its id makes repeated submissions idempotent."""

    __tablename__ = "answers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    scenario_id: Mapped[str] = mapped_column(String(64))
    scenario_version: Mapped[int]
    scenario_hash: Mapped[str] = mapped_column(String(32))
    scenario_try: Mapped[int]
    step_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    chosen: Mapped[str] = mapped_column(String(600))
    points: Mapped[int]
    max_points: Mapped[int]
    severity: Mapped[str] = mapped_column(String(20))
    answered_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint(
            "attempt_id", "scenario_id", "scenario_try", "step_id", name="uq_answer_step"
        ),
        UniqueConstraint("attempt_id", "seq", name="uq_answer_seq"),
    )


class CompletionRow(Base):
    """A finished course with its result, signed against tampering."""

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), unique=True
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime]
    points: Mapped[int]
    max_points: Mapped[int]
    passed: Mapped[bool]
    theme_scores: Mapped[dict[str, Any]]
    course_hash: Mapped[str] = mapped_column(String(32))
    certificate_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    signature: Mapped[str] = mapped_column(String(64))


class FlagRow(Base):
    """A learner's note that a step was unclear: one per step and scenario try, editable."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("attempt_id", "scenario_id", "step_id", name="uq_flag_step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    scenario_id: Mapped[str] = mapped_column(String(64))
    step_id: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class RosterRow(Base):
    """An employee on HR's roster: who should take the course and from when."""

    __tablename__ = "roster"

    employee_number: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date]
    email: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime]


class ErasureRow(Base):
    """A GDPR erasure done: when and how much, with no personal data."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int]
    erased_at: Mapped[datetime]
    answers_deleted: Mapped[int]
    flags_deleted: Mapped[int]
    completions_kept: Mapped[int]


# Indexes added by migration 0002 for retention, exports and roster joins.
Index("ix_answers_answered_at", AnswerRow.answered_at)
Index("ix_completions_completed_at", CompletionRow.completed_at)
Index("ix_learners_employee_number", LearnerRow.employee_number)


class ContentVersionRow(Base):
    """The course content as it was under one content hash, to compare with later versions."""

    __tablename__ = "content_versions"

    course_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    course_version: Mapped[int]
    snapshot: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class BrowserSessionRow(Base):
    """Which learner a browser signed in as, so a reload does not ask again.

    The key is a hash of the browser's signed, HttpOnly cookie, never the cookie itself.
    """

    __tablename__ = "browser_sessions"

    browser_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
