"""Tamper evidence: completions are signed with an HMAC key the database does not hold.

A writer with database access but without the key cannot alter a signed field unnoticed:
:meth:`Signatures.verify` recomputes every signature and certificate code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from somequiz.records.database import Database
from somequiz.records.rows import Altered, CertificateCheck, Verification, utc
from somequiz.records.tables import AttemptRow, CompletionRow, LearnerRow


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
    """Signatures and certificate codes under one key."""

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
        return hmac.compare_digest(row.signature, self.signature(row, learner_key))


class Signatures:
    """Checking the stored completions against their signatures."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def verify(self) -> Verification:
        """Recompute every completion's signature and certificate code; list altered rows."""
        signer = Signer(self.db.secret)
        altered: list[Altered] = []
        checked = 0
        with self.db.session() as s:
            rows = s.execute(
                select(CompletionRow, LearnerRow.learner_key)
                .join(LearnerRow, LearnerRow.id == CompletionRow.learner_id)
                .order_by(CompletionRow.id)
                .execution_options(yield_per=1000)
            )
            for row, key in rows:
                checked += 1
                problems = []
                if not signer.signed(row, key):
                    problems.append("allekirjoitus ei täsmää (tietoja on muutettu)")
                if row.passed and row.certificate_code != signer.certificate_code(row.attempt_id):
                    problems.append("todistuskoodi ei kuulu tälle suoritukselle")
                if problems:
                    altered.append(
                        Altered(row.id, row.attempt_id, row.certificate_code, "; ".join(problems))
                    )
        return Verification(checked, altered)

    def verify_certificate(self, code: str) -> CertificateCheck:
        """Whether ``code`` belongs to a stored, unaltered completion."""
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
            valid = signer.signed(row, learner.learner_key)
            valid = valid and row.certificate_code == signer.certificate_code(row.attempt_id)
            return CertificateCheck(
                formatted,
                True,
                valid,
                utc(row.completed_at),
                row.passed,
                learner.name or None,
                _superseded_at(s, row),
            )


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
