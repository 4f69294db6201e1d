"""The learner course in Voilà: the only package that imports ipywidgets and anywidget."""

from __future__ import annotations

import os
from typing import Any

from somequiz.config import settings
from somequiz.content import load_content
from somequiz.store import Store
from somequiz.ui.errors import log, reference_code, setup_logging

MIGRATED_ENV = "SOMEQUIZ_UI_MIGRATED"


def _page(scenario_id: str | None) -> Any:
    # Imported here so that importing somequiz.ui for the server needs no widgets.
    from somequiz.ui.app import LearnerApp
    from somequiz.ui.identity import sso_identity
    from somequiz.ui.messages import Messages
    from somequiz.ui.render import render
    from somequiz.ui.widgets import Screen

    setup_logging()
    try:
        content = load_content(settings().scenarios)
        # The server migrated the database once at start; kernels skip that (it costs ~0.5 s).
        store = Store(migrate=os.environ.get(MIGRATED_ENV) != "1")
    except Exception:
        code = reference_code()
        log.exception("course could not start, error %s", code)
        return Screen(html=render("fatal.html", Messages(), learner_name="", code=code))
    return LearnerApp(content, store, scenario_id=scenario_id, sso=sso_identity()).view


def course_page() -> Any:
    """The whole course on one page (notebooks/learner/kurssi.ipynb)."""
    return _page(None)


def scenario_page(scenario_id: str) -> Any:
    """One scenario as a page of its own; answers count for the course."""
    return _page(scenario_id)
