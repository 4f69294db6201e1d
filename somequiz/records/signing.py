"""Tamper evidence: records are signed with an HMAC key the database does not hold.

A writer with database access but without the key cannot, unnoticed, alter a completion's
signed fields, move a certificate code, change who a learner is (key, name, employee number),
delete a completion of a learner who is still there, or rewrite or delete the answers of a
completed attempt: :meth:`Signatures.verify` recomputes every signature and seal. Legitimate
changes (a sign-in under the roster's name, a roster import, erasure, retention) seal again,
but only a seal that was valid before, so that they never launder an earlier tampering.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from somequiz.records.database import Database
from somequiz.records.rows import (
    Altered,
    AlteredLearner,
    CertificateCheck,
    Problem,
    Verification,
    utc,
)
from somequiz.records.tables import AnswerRow, AttemptRow, CompletionRow, LearnerRow

# The answer fields the item analysis reads, in the order they are hashed.
_ANSWER_SIGNED = (
    AnswerRow.id,
    AnswerRow.scenario_id,
    AnswerRow.scenario_try,
    AnswerRow.step_id,
    AnswerRow.seq,
    AnswerRow.chosen,
    AnswerRow.points,
    AnswerRow.max_points,
    AnswerRow.severity,
)
NO_ANSWERS = hashlib.sha256().hexdigest()


def signed_fields(row: Any, learner_key: str) -> dict[str, Any]:
    """The canonical fields a completion's signature covers."""
    return {
        "attempt_id": row.attempt_id,
        "learner": learner_key,
        "completed_at": utc(row.completed_at).isoformat(timespec="seconds"),
        "points": row.points,
        "max_points": row.max_points,
        "passed": row.passed,
        "theme_scores": {k: round(v, 4) for k, v in sorted(row.theme_scores.items())},
        "course_hash": row.course_hash,
        "certificate_code": row.certificate_code,
    }


class Signer:
    """Signatures, seals and certificate codes under one key."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def sign(self, fields: dict[str, Any]) -> str:
        """The HMAC of ``fields`` in a canonical JSON form."""
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hmac.new(self.secret, canonical.encode("utf-8"), hashlib.sha256).hexdigest()

    def certificate_code(self, attempt_id: str) -> str:
        """The certificate code of a passed attempt: XXXX-XXXX-XXXX, derived from its id."""
        digest = hmac.new(self.secret, attempt_id.encode("ascii"), hashlib.sha256).hexdigest()
        code = digest[:12].upper()
        return f"{code[:4]}-{code[4:8]}-{code[8:]}"

    def signature(self, row: Any, learner_key: str) -> str:
        """The signature the completion ``row`` of the learner ``learner_key`` should carry."""
        return self.sign(signed_fields(row, learner_key))

    def signed(self, row: Any, learner_key: str) -> bool:
        """Whether the completion ``row`` carries its right signature."""
        return _same(row.signature, self.signature(row, learner_key))

    def identity_seal(self, learner: Any) -> str:
        """The seal of who a learner row says the learner is."""
        return self.sign(
            {
                "seal": "identity",
                "learner_id": learner.id,
                "learner": learner.learner_key,
                "name": learner.name,
                "employee_number": learner.employee_number,
            }
        )

    def count_seal(self, learner_id: int, count: int) -> str:
        """The seal of how many completions a learner has had."""
        return self.sign({"seal": "completions", "learner_id": learner_id, "count": count})

    def answers_signature(self, attempt_id: str, digest: str) -> str:
        """The signature of an attempt's answers (their :func:`answers_digest`)."""
        return self.sign({"seal": "answers", "attempt_id": attempt_id, "answers": digest})

    def reseal_identity(self, learner: LearnerRow, **changes: Any) -> None:
        """Change identity fields of ``learner``; seal again only a seal that was valid."""
        valid = _same(learner.identity_seal, self.identity_seal(learner))
        for name, value in changes.items():
            setattr(learner, name, value)
        if valid:
            learner.identity_seal = self.identity_seal(learner)

    def seal_new(self, learner: LearnerRow) -> None:
        """Seal a just-created (flushed) learner: identity and no completions yet."""
        learner.identity_seal = self.identity_seal(learner)
        learner.completions_sealed = 0
        learner.count_seal = self.count_seal(learner.id, 0)


def _same(stored: str | None, expected: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, expected)


def answers_digest(answers: Iterable[Any]) -> str:
    """SHA-256 over an attempt's answers (rows of _ANSWER_SIGNED, in ``seq`` order)."""
    digest = hashlib.sha256()
    for answer in answers:
        digest.update(_answer_line(answer))
    return digest.hexdigest()


def _answer_line(answer: Any) -> bytes:
    values = [getattr(answer, c.key) for c in _ANSWER_SIGNED]
    return json.dumps(values, ensure_ascii=False).encode("utf-8") + b"\n"


def digests(connection: Connection, attempt_ids: Iterable[str] | None = None) -> dict[str, str]:
    """The answers digest of each attempt of ``attempt_ids`` (by default every completed one);
    attempts without answers are left out (their digest is NO_ANSWERS)."""
    stmt = (
        select(AnswerRow.attempt_id, *_ANSWER_SIGNED)
        .order_by(AnswerRow.attempt_id, AnswerRow.seq)
        .execution_options(yield_per=5000)
    )
    if attempt_ids is None:
        batches = [stmt.where(AnswerRow.attempt_id.in_(select(CompletionRow.attempt_id)))]
    else:
        batches = [stmt.where(AnswerRow.attempt_id.in_(c)) for c in _chunks(list(attempt_ids))]
    found: dict[str, Any] = {}
    for batch in batches:
        for row in connection.execute(batch):
            found.setdefault(row.attempt_id, hashlib.sha256()).update(_answer_line(row))
    return {attempt: digest.hexdigest() for attempt, digest in found.items()}


def _chunks(ids: list[str], size: int = 2000) -> list[list[str]]:
    # Bound parameters per statement are limited (SQLite 32 766, PostgreSQL 65 535).
    return [ids[n : n + size] for n in range(0, len(ids), size)]


def answers_signature(connection: Connection, signer: Signer, attempt_id: str) -> str:
    """The signature of the attempt's answers as stored now."""
    digest = digests(connection, [attempt_id]).get(attempt_id, NO_ANSWERS)
    return signer.answers_signature(attempt_id, digest)


def count_completion(connection: Connection, signer: Signer, learner_id: int) -> None:
    """One more completion for the learner; sealed again only if the old count was sealed."""
    count, seal = connection.execute(
        update(LearnerRow)
        .where(LearnerRow.id == learner_id)
        .values(completions_sealed=LearnerRow.completions_sealed + 1)
        .returning(LearnerRow.completions_sealed, LearnerRow.count_seal)
    ).one()
    if _same(seal, signer.count_seal(learner_id, count - 1)):
        connection.execute(
            update(LearnerRow)
            .where(LearnerRow.id == learner_id)
            .values(count_seal=signer.count_seal(learner_id, count))
        )


def resign_answers(connection: Connection, signer: Signer, before: dict[str, str]) -> None:
    """Sign again the answers of attempts whose answers a legitimate deletion changed.

    ``before`` holds their digests before the deletion; an attempt whose signature did not
    match those is left as it was, still reported.
    """
    after = digests(connection, before)
    stored = [
        row
        for chunk in _chunks(list(before))
        for row in connection.execute(
            select(CompletionRow.attempt_id, CompletionRow.answers_signature).where(
                CompletionRow.attempt_id.in_(chunk)
            )
        )
    ]
    for attempt_id, signature in stored:
        if _same(signature, signer.answers_signature(attempt_id, before[attempt_id])):
            connection.execute(
                update(CompletionRow)
                .where(CompletionRow.attempt_id == attempt_id)
                .values(
                    answers_signature=signer.answers_signature(
                        attempt_id, after.get(attempt_id, NO_ANSWERS)
                    )
                )
            )


class Signatures:
    """Checking the stored records against their signatures and seals."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def verify(self) -> Verification:
        """Recompute every signature, certificate code and seal; list what no longer matches."""
        signer = Signer(self.db.secret)
        with self.db.session() as s:
            answers = digests(s.connection())
            checked, altered = _altered_completions(s, signer, answers)
            people, learners = _altered_learners(s, signer)
        return Verification(checked, altered, people, learners)

    def verify_certificate(self, code: str) -> CertificateCheck:
        """Whether ``code`` belongs to a stored, unaltered completion of an unaltered learner."""
        signer = Signer(self.db.secret)
        normal = "".join(ch for ch in code.upper() if ch.isalnum())
        formatted = f"{normal[:4]}-{normal[4:8]}-{normal[8:]}"
        with self.db.session() as s:
            found = s.execute(
                select(CompletionRow, LearnerRow)
                .join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
                .where(CompletionRow.certificate_code == formatted)
            ).first()
            if found is None:
                return CertificateCheck(formatted, False, False, None, None, None)
            row, learner = found
            valid = (
                signer.signed(row, learner.learner_key)
                and row.certificate_code == signer.certificate_code(row.attempt_id)
                and _same(learner.identity_seal, signer.identity_seal(learner))
            )
            return CertificateCheck(
                formatted,
                True,
                valid,
                utc(row.completed_at),
                row.passed,
                learner.name or None,
                _superseded_at(s, row),
            )

    def seal_unsealed(self) -> int:
        """Seal, as they are now, the rows stored before seals existed; how many were sealed."""
        signer = Signer(self.db.secret)
        with self.db.session() as s:
            counts = _completion_counts(s)
            learners = s.scalars(
                select(LearnerRow).where(
                    LearnerRow.identity_seal.is_(None) | LearnerRow.count_seal.is_(None)
                )
            ).all()
            for learner in learners:
                learner.identity_seal = signer.identity_seal(learner)
                learner.completions_sealed = counts.get(learner.id, 0)
                learner.count_seal = signer.count_seal(learner.id, learner.completions_sealed)
            unsigned = s.scalars(
                select(CompletionRow).where(CompletionRow.answers_signature.is_(None))
            ).all()
            found = digests(s.connection()) if unsigned else {}
            for row in unsigned:
                digest = found.get(row.attempt_id, NO_ANSWERS)
                row.answers_signature = signer.answers_signature(row.attempt_id, digest)
            return len(learners) + len(unsigned)


def _altered_completions(
    s: Session, signer: Signer, answers: dict[str, str]
) -> tuple[int, list[Altered]]:
    """How many completions there are, and those whose signature or answers do not match."""
    altered: list[Altered] = []
    checked = 0
    rows = s.execute(
        select(CompletionRow, LearnerRow.learner_key)
        .join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
        .order_by(CompletionRow.id)
        .execution_options(yield_per=1000)
    )
    for row, key in rows:
        checked += 1
        problems: list[Problem] = []
        if not signer.signed(row, key):
            problems.append("signature")
        if row.passed and row.certificate_code != signer.certificate_code(row.attempt_id):
            problems.append("code")
        digest = answers.get(row.attempt_id, NO_ANSWERS)
        if row.answers_signature is None:
            problems.append("unsealed")
        elif not _same(row.answers_signature, signer.answers_signature(row.attempt_id, digest)):
            problems.append("answers")
        if problems:
            altered.append(Altered(row.id, row.attempt_id, row.certificate_code, tuple(problems)))
    return checked, altered


def _altered_learners(s: Session, signer: Signer) -> tuple[int, list[AlteredLearner]]:
    """How many learners there are, and those whose identity or completions were tampered
    with (a seal that does not match, or fewer completions than sealed)."""
    counts = _completion_counts(s)
    altered: list[AlteredLearner] = []
    checked = 0
    rows = s.execute(
        select(LearnerRow).order_by(LearnerRow.id).execution_options(yield_per=1000)
    ).scalars()
    for learner in rows:
        checked += 1
        problems: list[Problem] = []
        missing = max(0, learner.completions_sealed - counts.get(learner.id, 0))
        if learner.identity_seal is None or learner.count_seal is None:
            problems.append("unsealed")
        else:
            if not _same(learner.identity_seal, signer.identity_seal(learner)):
                problems.append("identity")
            sealed = signer.count_seal(learner.id, learner.completions_sealed)
            if missing or not _same(learner.count_seal, sealed):
                problems.append("deleted")
        if problems:
            altered.append(
                AlteredLearner(learner.id, learner.employee_number, tuple(problems), missing)
            )
    return checked, altered


def _completion_counts(s: Session) -> dict[int, int]:
    """How many completions each learner has now."""
    found = s.execute(
        select(CompletionRow.learner_id, func.count()).group_by(CompletionRow.learner_id)
    ).all()
    return {int(learner): int(count) for learner, count in found}


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
    return utc(later) if later is not None else None
