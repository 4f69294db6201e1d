"""Each employee's course status, from HR's roster and the stored attempts (read from a file by
:mod:`somequiz.records.roster_file`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from somequiz.content.models import Course

TIMEZONE = "Europe/Helsinki"  # dates HR sees are local dates

STATUS_COLUMNS = (
    "employee_number",
    "name",
    "unit",
    "start_date",
    "email",
    "status",
    "due",
    "completed_on",
    "points",
    "max_points",
    "passed",
    "course_version",
    "course_hash",
    "certificate_code",
    "identity",
)
STATUS_LABELS = {
    "passed": "Suoritettu",
    "recertify": "Uusinta erääntynyt",
    "failed_final": "Hylätty – yritykset käytetty",
    "overdue": "Myöhässä",
    "in_progress": "Kesken",
    "not_started": "Aloittamatta",
}


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class StatusRules:
    """What a status depends on: the course's deadlines and which content versions still count.

    ``valid_versions`` holds the content hashes whose passes stay valid (today's and those that
    differ only in wording); None when the course does not re-certify on content changes.
    """

    deadline_days: int
    recertify_months: int
    course_hash: str
    valid_versions: frozenset[str] | None = None

    @classmethod
    def of(
        cls, course: Course, course_hash: str, equivalent: frozenset[str] = frozenset()
    ) -> StatusRules:
        """The rules of ``course`` now (``equivalent``: see versions.equivalent_versions)."""
        valid = equivalent | {course_hash} if course.recertify_on_material_change else None
        return cls(course.deadline_days, course.recertify_months, course_hash, valid)

    def outdated(self, version: str) -> bool:
        """Whether a pass on content ``version`` is due again because the content changed."""
        return self.valid_versions is not None and version not in self.valid_versions


def _local_days(moments: pd.Series) -> pd.Series:
    """UTC timestamps as local calendar days (naive midnights); NaT stays NaT."""
    days: pd.Series = moments.dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    return days


def _dates(days: pd.Series) -> list[date | None]:
    """Naive midnights as plain dates, None for NaT (what the exports and tables expect)."""
    found = np.array(days.dt.date.to_numpy(dtype=object))
    found[days.isna().to_numpy()] = None
    plain: list[date | None] = found.tolist()
    return plain


def _identity(sso: object) -> str | None:
    """How the learner was identified: by SSO, or by what they typed themselves."""
    if sso is None or sso is pd.NA or (isinstance(sso, float) and np.isnan(sso)):
        return None
    return "sso" if bool(sso) else "self_reported"


def _keyed(attempts: pd.DataFrame) -> pd.DataFrame:
    """``attempts`` with a ``key`` per person, oldest completion first.

    Learners without an employee number (or erased) are their own key, never on the roster.
    """
    key = attempts["employee_number"].fillna("#" + attempts["learner_id"].astype(str))
    return attempts.assign(key=key).sort_values("completed_at", kind="stable")


def _people(roster: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """The roster's rows, then the ``known`` learners (by key) who are not on it."""
    others = known[~known.index.isin(roster["employee_number"])]
    listed = pd.DataFrame(
        {
            "key": roster["employee_number"],
            **{c: roster[c] for c in ("employee_number", "name", "unit", "start_date", "email")},
        }
    )
    unlisted = pd.DataFrame(
        {
            "key": others.index,
            **{c: others[c].to_numpy() for c in ("employee_number", "name", "unit")},
            "start_date": None,
            "email": None,
        }
    )
    return pd.concat([listed, unlisted], ignore_index=True)


def _due_and_status(
    keys: pd.Series,
    start: pd.Series,
    passes: pd.DataFrame,
    flags: tuple[pd.Series, pd.Series],
    rules: StatusRules,
    today: date,
) -> tuple[np.ndarray, pd.Series]:
    """Each person's status and due day; ``flags``: whether they completed, have one open."""
    completed, open_now = flags
    has_pass = keys.isin(passes.index).to_numpy()
    pass_day = _local_days(passes["completed_at"].reindex(keys)).reset_index(drop=True)
    recert = pass_day + pd.DateOffset(months=rules.recertify_months)
    if rules.valid_versions is None:
        stale = pd.Series(False, index=keys.index)
    else:
        stale = ~passes["course_hash"].reindex(keys).isin(rules.valid_versions)
        stale = stale.reset_index(drop=True) & has_pass
    deadline = start + pd.Timedelta(days=rules.deadline_days)
    now = pd.Timestamp(today)
    status = np.select(
        [
            has_pass & (stale | (recert <= now)).to_numpy(),
            has_pass,
            (completed & ~open_now).to_numpy(),
            (deadline < now).to_numpy(),  # NaT compares False: no start date, no deadline
            open_now.to_numpy(),
        ],
        ["recertify", "passed", "failed_final", "overdue", "in_progress"],
        default="not_started",
    )
    return status, deadline.where(~has_pass, recert.where(~stale, now))


def status_frame(
    roster: pd.DataFrame, attempts: pd.DataFrame, rules: StatusRules, today: date
) -> pd.DataFrame:
    """One row per employee (roster first, then learners not on it): STATUS_COLUMNS.

    A pass counts until ``recertify_months`` after its local day, or until the content changed
    materially (due today then). Without a pass: failed with tries used when the latest
    completion failed and no new attempt is open; else overdue once ``deadline_days`` after
    the start date have gone, else in progress (an open attempt), else not started. Learners
    not on the roster are listed once they have started (an open or completed attempt).
    The result shown is the latest pass, or the latest completion when there is no pass.
    """
    keyed = _keyed(attempts)
    done = keyed[keyed["completed_at"].notna()]
    latest = done.drop_duplicates("key", keep="last").set_index("key")
    passes = done[done["passed"] == True].drop_duplicates("key", keep="last")  # noqa: E712
    passes = passes.set_index("key")
    started = keyed[keyed["status"] == "in_progress"].drop_duplicates("key", keep="last")
    started = started.set_index("key")
    people = _people(roster, pd.concat([latest, started[~started.index.isin(latest.index)]]))
    keys = people["key"]
    # The row whose figures are shown: the latest pass, else the latest completion.
    shown = pd.concat([passes, latest[~latest.index.isin(passes.index)]])
    chosen = shown.reindex(keys).reset_index(drop=True)
    start = pd.to_datetime(people["start_date"])
    flags = (keys.isin(latest.index), keys.isin(started.index))
    status, due = _due_and_status(keys, start, passes, flags, rules, today)
    return _status_table(people, chosen, start, status, due)


def _status_table(
    people: pd.DataFrame,
    chosen: pd.DataFrame,
    start: pd.Series,
    status: np.ndarray,
    due: pd.Series,
) -> pd.DataFrame:
    """The STATUS_COLUMNS of each person from their figures."""
    passed = chosen["passed"]
    return pd.DataFrame(
        {
            "employee_number": people["employee_number"],
            "name": people["name"],
            "unit": people["unit"],
            "start_date": _dates(start),
            "email": people["email"],
            "status": status,
            "due": _dates(due),
            "completed_on": _dates(_local_days(chosen["completed_at"])),
            "points": chosen["points"].astype("Int64"),
            "max_points": chosen["max_points"].astype("Int64"),
            "passed": [
                bool(v) if known else None
                for v, known in zip(passed.tolist(), passed.notna().tolist(), strict=True)
            ],
            "course_version": chosen["course_version"].astype("Int64"),
            "course_hash": chosen["course_hash"],
            "certificate_code": chosen["certificate_code"],
            "identity": chosen["sso"].map(_identity),
        },
        columns=list(STATUS_COLUMNS),
    )
