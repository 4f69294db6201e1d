"""Browser sessions: which learner a browser signed in as, for a reload or Back.

The browser's id comes from a signed, HttpOnly, SameSite cookie that the learner server sets
(:mod:`somequiz.ui.server.browser`); only its hash is stored. A session lasts ``HOURS`` at most and
ends when the learner chooses "not me" (switch user).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete, insert, select

from somequiz.records.store import Learner, Store, now
from somequiz.records.tables import BrowserSessionRow, LearnerRow

HOURS = 12


def browser_key(browser_id: str) -> str:
    """What is stored of a browser id: its SHA-256."""
    return hashlib.sha256(browser_id.encode("utf-8")).hexdigest()


class BrowserSessions:
    """Remember, find and forget the learner of a browser."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def remember(self, browser_id: str, learner_id: int) -> None:
        """The browser is now this learner's, for the next ``HOURS`` hours."""
        key = browser_key(browser_id)
        expires = now() + timedelta(hours=HOURS)
        with self.store.transaction() as connection:
            connection.execute(
                delete(BrowserSessionRow).where(BrowserSessionRow.browser_key == key)
            )
            connection.execute(
                insert(BrowserSessionRow).values(
                    browser_key=key, learner_id=learner_id, expires_at=expires
                )
            )

    def learner(self, browser_id: str) -> Learner | None:
        """The learner this browser signed in as, unless expired or erased since."""
        with self.store.transaction() as connection:
            row = connection.execute(
                select(LearnerRow)
                .join(BrowserSessionRow, BrowserSessionRow.learner_id == LearnerRow.id)
                .where(
                    BrowserSessionRow.browser_key == browser_key(browser_id),
                    BrowserSessionRow.expires_at > now(),
                    LearnerRow.erased_at.is_(None),
                )
            ).first()
        if row is None:
            return None
        return Learner(row.id, row.learner_key, row.name, row.employee_number, row.unit)

    def forget(self, browser_id: str) -> None:
        """End the browser's session (and any expired ones)."""
        key = browser_key(browser_id)
        with self.store.transaction() as connection:
            connection.execute(
                delete(BrowserSessionRow).where(
                    (BrowserSessionRow.browser_key == key) | (BrowserSessionRow.expires_at <= now())
                )
            )
