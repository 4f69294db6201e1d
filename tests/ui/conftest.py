"""Fixtures for the learner UI driven in-process: the app on a fresh SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ui_helpers import UI_COURSE

from somequiz.content.folder import Content, load_content
from somequiz.records.store import Store
from somequiz.ui.service.session import LearnerSession


@pytest.fixture(scope="session")
def ui_content() -> Content:
    """The tiny two-scenario course of the UI tests."""
    return load_content(UI_COURSE)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated store on a temporary SQLite file."""
    store = Store(f"sqlite:///{tmp_path / 'ui.db'}")
    yield store
    store.close()


@pytest.fixture
def make_app(ui_content: Content, sqlite_store: Store) -> Callable[..., LearnerSession]:
    """A factory of learner pages on the shared store (a second call is a reload)."""

    def make(content: Content | None = None, **kwargs: object) -> LearnerSession:
        return LearnerSession(content or ui_content, sqlite_store, **kwargs)  # type: ignore[arg-type]

    return make
