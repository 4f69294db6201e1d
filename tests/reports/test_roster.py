"""Each employee's course status from the roster and the records (reading the roster file:
tests/records/test_roster_file.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
from records_helpers import Records, run_course

from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash
from somequiz.records.rows import RosterEntry
from somequiz.reports.roster import STATUS_COLUMNS, StatusRules, add_months, status_frame


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 14) == date(2027, 1, 15)


def test_statuses(store: Records, content: Content) -> None:
    today = date(2026, 3, 1)
    store.admin.import_roster(
        [
            RosterEntry("E1", "Myöhässä Oleva", "Kotihoito", date(2026, 1, 1)),
            RosterEntry("E2", "Uusi Tulokas", "Kotihoito", date(2026, 2, 20)),
            RosterEntry("E3", "Vanha Suoritus", "Kotihoito", date(2024, 1, 1)),
            RosterEntry("E4", "Vanha Sisältö", "Kotihoito", date(2026, 1, 1)),
            RosterEntry("E5", "Hyvä Suoritus", "Kotihoito", date(2026, 1, 1)),
            RosterEntry("E6", "Kesken Oleva", "Kotihoito", date(2026, 2, 15)),
            RosterEntry("E7", "Hylätty Myöhässä", "Kotihoito", date(2025, 12, 1)),
        ]
    )
    recent = datetime(2026, 2, 1, 10, tzinfo=UTC)
    old = datetime(2024, 2, 1, tzinfo=UTC)
    run_course(store, content, name="Vanha Suoritus", employee_number="E3", at=old)
    run_course(
        store, content, name="Vanha Sisältö", employee_number="E4", at=recent, chash="f" * 16
    )
    run_course(store, content, name="Hyvä Suoritus", employee_number="E5", at=recent)
    learner = store.course.learner(name="Kesken Oleva", employee_number="E6", unit="Kotihoito")
    store.course.start_attempt(learner.id, content.course.id, 1, course_hash(content))
    run_course(store, content, name="Hylätty Myöhässä", employee_number="E7", best=False, at=recent)
    run_course(store, content, employee_number="X9", name="Ei Listalla", at=recent)
    rules = StatusRules.of(content.course, course_hash(content))
    frame = status_frame(store.reports.roster_frame(), store.reports.attempts_frame(), rules, today)
    status = dict(zip(frame["employee_number"], frame["status"], strict=True))
    assert status == {
        "E1": "overdue",
        "E2": "not_started",
        "E3": "recertify",
        "E4": "recertify",
        "E5": "passed",
        "E6": "in_progress",
        "E7": "failed_final",
        "X9": "passed",
    }
    row = frame.set_index("employee_number").loc["E5"]
    assert row["completed_on"] == date(2026, 2, 1) and row["due"] == date(2027, 2, 1)
    assert frame.set_index("employee_number").loc["E1", "due"] == date(2026, 1, 31)


def _attempt(
    number: str | None,
    learner_id: int,
    completed: str | None,
    *,
    passed: bool = True,
    chash: str = "now",
    points: int = 10,
) -> dict[str, object]:
    """One row of ``Records.attempts_frame``; ``completed`` is a UTC time or None (open)."""
    moment = pd.Timestamp(completed, tz="UTC") if completed else pd.NaT
    return {
        "attempt_id": f"a{learner_id}-{completed}",
        "learner_id": learner_id,
        "employee_number": number,
        "name": f"Oppija {learner_id}",
        "unit": "Kotihoito",
        "sso": False,
        "course_version": 1,
        "course_hash": chash,
        "status": "completed" if completed else "in_progress",
        "completed_at": moment,
        "points": points if completed else None,
        "max_points": 10 if completed else None,
        "passed": passed if completed else None,
        "certificate_code": f"C{learner_id}-{completed}" if completed else None,
    }


# The people at the edges of the status rules, on EDGE_TODAY: employee number, start date.
EDGE_TODAY = date(2026, 3, 1)
EDGE_PEOPLE = [
    ("D1", date(2026, 1, 30)),  # deadline 1.3.2026 = today: not yet overdue
    ("D2", date(2026, 1, 29)),  # deadline 28.2.2026: overdue
    ("R1", date(2024, 1, 1)),  # passed 1.3.2025 local day: re-certification due today
    ("R2", date(2024, 1, 1)),  # passed 28.2.2025 23:30 UTC = 1.3.2025 in Helsinki
    ("R3", date(2024, 1, 1)),  # passed 2.3.2025: still valid
    ("V1", date(2026, 1, 1)),  # passed on a version that differs only in wording
    ("V2", date(2026, 1, 1)),  # passed on materially different content
    ("F1", date(2026, 2, 20)),  # failed with tries used: a status of its own
    ("P1", date(2025, 1, 1)),  # passed, then failed later: the pass is shown
]


def _edge_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roster of EDGE_PEOPLE and their attempts (two more without an employee number)."""
    roster = pd.DataFrame(
        {
            "employee_number": [n for n, _ in EDGE_PEOPLE],
            "name": [f"Henkilö {n}" for n, _ in EDGE_PEOPLE],
            "unit": "Kotihoito",
            "start_date": [d for _, d in EDGE_PEOPLE],
            "email": None,
        }
    )
    attempts = pd.DataFrame(
        [
            _attempt("R1", 1, "2025-02-28 22:30"),
            _attempt("R2", 2, "2025-02-28 23:30"),
            _attempt("R3", 3, "2025-03-02 10:00"),
            _attempt("V1", 4, "2026-02-01 10:00", chash="wording"),
            _attempt("V2", 5, "2026-02-01 10:00", chash="material"),
            _attempt("F1", 6, "2026-02-25 10:00", passed=False, points=2),
            _attempt("P1", 7, "2026-01-10 10:00", points=9),
            _attempt("P1", 7, "2026-02-10 10:00", passed=False, points=3),
            _attempt(None, 8, "2026-02-10 10:00"),  # no employee number: a row of its own
            _attempt(None, 9, None),  # open, no number, no roster row: listed in progress
        ]
    )
    return roster, attempts


def test_status_rules_at_their_edges() -> None:
    """Boundaries, local days, equivalent versions and which completion is shown."""
    today, start = EDGE_TODAY, EDGE_PEOPLE
    roster, attempts = _edge_frames()
    rules = StatusRules(30, 12, "now", frozenset({"now", "wording"}))
    frame = status_frame(roster, attempts, rules, today).set_index("employee_number", drop=False)
    assert list(frame["employee_number"][:9]) == [n for n, _ in start]
    assert len(frame) == 11 and frame.iloc[9]["name"] == "Oppija 8"
    assert pd.isna(frame.iloc[9]["employee_number"]) and frame.iloc[9]["status"] == "passed"
    assert frame.iloc[10]["name"] == "Oppija 9" and frame.iloc[10]["status"] == "in_progress"
    assert dict(zip(frame.index[:9], frame["status"][:9], strict=True)) == {
        "D1": "not_started",
        "D2": "overdue",
        "R1": "recertify",
        "R2": "recertify",
        "R3": "passed",
        "V1": "passed",
        "V2": "recertify",
        "F1": "failed_final",
        "P1": "passed",
    }
    assert frame.loc["D1", "due"] == today and frame.loc["D2", "due"] == date(2026, 2, 28)
    assert frame.loc["R2", "completed_on"] == date(2025, 3, 1)
    assert frame.loc["R2", "due"] == date(2026, 3, 1)
    assert frame.loc["V2", "due"] == today  # material change: due at once
    assert frame.loc["V1", "due"] == date(2027, 2, 1)
    assert frame.loc["P1", "points"] == 9 and frame.loc["P1", "passed"] is True
    assert frame.loc["F1", "passed"] is False and frame.loc["F1", "due"] == date(2026, 3, 22)
    assert frame.loc["D1", "completed_on"] is None and frame.isna().loc["D1", "points"]
    assert frame.loc["D1", "passed"] is None
    # Without re-certification on content changes every version's pass counts.
    lenient = status_frame(roster, attempts, StatusRules(30, 12, "now"), today)
    assert lenient.set_index("employee_number").loc["V2", "status"] == "passed"


def test_status_of_nobody() -> None:
    empty_roster = pd.DataFrame(columns=["employee_number", "name", "unit", "start_date", "email"])
    attempts = pd.DataFrame([_attempt(None, 1, None)]).iloc[0:0]
    attempts["completed_at"] = pd.to_datetime(attempts["completed_at"], utc=True)
    frame = status_frame(empty_roster, attempts, StatusRules(30, 12, "x"), date(2026, 1, 1))
    assert frame.empty and list(frame.columns) == list(STATUS_COLUMNS)
