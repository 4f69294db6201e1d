"""The identity rule: who a sign-in is, and which name it may use.

An employee number belongs to one name, as HR's roster has it or as first stored; with single
sign-on the header's id and name are the identity.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from somequiz.errors import IdentityError
from somequiz.records.tables import LearnerRow, RosterRow


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


def official_name(
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
