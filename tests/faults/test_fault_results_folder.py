"""A full disk or a read-only results folder under the SQLite store: the learner is told to
retry, the operator gets a clear message, nothing stored is lost or corrupted, and the retry
stores the answer once."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_helpers import answers_of, best, first_step_answered, remount

from somequiz.content.folder import Content
from somequiz.errors import StoreError
from somequiz.records.store import Store
from somequiz.ui.service.session import LearnerSession

Disk = Callable[[str], Path]


def _integrity(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def _fill(folder: Path) -> Path:
    """Use up every free byte of ``folder``'s file system."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def _started(content: Content, db: Path) -> tuple[Store, LearnerSession]:
    store = Store(f"sqlite:///{db}")
    return store, first_step_answered(content, store)


def test_full_disk_answer_is_refused_clearly_and_stored_once_after(
    small_disk: Disk, ui_content: Content
) -> None:
    folder = small_disk("2m")
    db = folder / "somequiz.db"
    store, app = _started(ui_content, db)
    # Empty the write-ahead log, so the next write must grow a file on the full disk.
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    filler = _fill(folder)
    try:
        step = app.ref
        best(app)
        assert not app.step.answered and app.step.feedback_html == ""
        assert "Yritä uudelleen" in app.step.error
        with pytest.raises(StoreError, match="Levy on täynnä"):
            store.flag(
                app.course.attempt.id if app.course.attempt else "", "ryhma-vaite", "x", "kommentti"
            )
    finally:
        filler.unlink()
    assert app.ref is step  # still the same step on screen: the retry is the same submit
    best(app)
    assert app.step.answered
    stored = answers_of(store, app)
    assert [a.step_id for a in stored] == ["ensimmainen", "toinen"]
    store.close()
    assert _integrity(db) == "ok"


def test_read_only_results_folder_is_refused_clearly_without_damage(
    small_disk: Disk, ui_content: Content
) -> None:
    folder = small_disk("4m")
    db = folder / "somequiz.db"
    store, app = _started(ui_content, db)
    store.close()  # a read-only remount needs no open writer; the pool reconnects later
    before = db.read_bytes()
    remount(folder, "ro")
    try:
        best(app)
        assert not app.step.answered
        assert "Yritä uudelleen" in app.step.error
        with pytest.raises(StoreError, match="vain luku"):
            Store(f"sqlite:///{db}")  # what `somequiz serve` says at start
        assert db.read_bytes() == before
    finally:
        remount(folder, "rw")
    best(app)
    assert app.step.answered
    assert [a.step_id for a in answers_of(store, app)] == ["ensimmainen", "toinen"]
    store.close()
    assert _integrity(db) == "ok"
