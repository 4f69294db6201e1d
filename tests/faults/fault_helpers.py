"""Helpers of the fault tests: mounts, PostgreSQL control, and a learner driven in-process."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ui.ui_helpers import answer, best_indices, next_step, sign_in

from somequiz.content.folder import Content
from somequiz.records.store import Store, StoredAnswer
from somequiz.ui.service.session import LearnerSession

__all__ = [
    "answer",
    "answers_of",
    "best",
    "first_step_answered",
    "mount",
    "next_step",
    "remount",
    "sign_in",
]


def mount(*args: str) -> None:
    """Run mount(8), failing loudly."""
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


def remount(target: Path, mode: str) -> None:
    """Remount a ``small_disk`` read-only (``"ro"``) or writable again (``"rw"``)."""
    mount("-o", f"remount,{mode}", str(target))


def best(app: LearnerSession) -> None:
    """Submit the best answer to the step on screen."""
    assert app.active is not None
    answer(app, *best_indices(app, app.content.scenarios[app.active]))


def answers_of(store: Store, app: LearnerSession) -> list[StoredAnswer]:
    """The learner's stored answers, in the order they were given."""
    assert app.course.attempt is not None
    return store.answers(app.course.attempt.id)


def first_step_answered(content: Content, store: Store) -> LearnerSession:
    """A learner on ``store`` who answered the first step of "ryhma-vaite" and moved on."""
    app = LearnerSession(content, store)
    sign_in(app)
    app.dispatch({"action": "open", "arg": "ryhma-vaite"})
    best(app)
    assert app.step.answered
    next_step(app)
    return app
