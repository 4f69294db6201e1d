"""The kernel side of a learner page: widgets that mirror the service's page."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ui_helpers import IDENTITY, UI_COURSE

from somequiz.content.folder import Content
from somequiz.records.store import Store
from somequiz.ui.kernel.first_paint import first_paint
from somequiz.ui.kernel.relay import Relay, SocketClient
from somequiz.ui.kernel.widgets import ChoiceStep, Screen
from somequiz.ui.protocol import ScreenState, StepState
from somequiz.ui.service.process import ContentCache, LearnerService, LocalClient


@pytest.fixture
def service(sqlite_store: Store) -> LearnerService:
    """A service on the UI course."""
    return LearnerService(ContentCache(UI_COURSE, sqlite_store), sqlite_store, idle_timeout=60)


def _send(relay: Relay, part: str, content: dict[str, Any]) -> None:
    """A message from the page, delivered as the widget delivers it."""
    relay.parts[part]._handle_custom_msg(content, [])


def _states(relay: Relay) -> str:
    states = []
    for widget in relay.parts.values():
        state = widget.get_state()
        state.pop("_esm", None)
        state.pop("_css", None)
        states.append(state)
    return json.dumps(states, ensure_ascii=False)


def test_state_records_match_the_widgets_synced_traits() -> None:
    for record, widget in ((ScreenState, Screen), (StepState, ChoiceStep)):
        synced = set(widget.class_trait_names(sync=True))
        own = {name for name in synced if not name.startswith("_")} - set(
            Screen.__mro__[1].class_trait_names(sync=True)
        )
        assert {f.name for f in dataclasses.fields(record)} == own


def test_relay_drives_a_step_and_shows_its_feedback(
    service: LearnerService, ui_content: Content
) -> None:
    relay = Relay(LocalClient(service))
    assert relay.view.children == (relay.parts["header"],)
    _send(relay, "header", {"action": "start", "fields": IDENTITY})
    first = ui_content.course.scenarios[0]
    _send(relay, "header", {"action": "open", "arg": first})
    assert relay.view.children == tuple(relay.parts[p] for p in ("header", "step", "footer"))
    step = relay.parts["step"]
    assert isinstance(step, ChoiceStep)
    assert step.choices and not step.answered
    # Nothing graded has reached the kernel's widgets before the answer.
    scenario = ui_content.scenarios[first]
    for text in [c.feedback.fi for s in scenario.steps for c in s.choices if c.feedback]:
        assert text not in _states(relay)
    _send(relay, "step", {"type": "submit", "token": step.token, "chosen": ["0"]})
    assert step.answered and step.feedback_html


def test_relay_shows_expired_pages_in_the_learner_language(service: LearnerService) -> None:
    relay = Relay(LocalClient(service))
    _send(relay, "header", {"action": "lang", "arg": "en"})
    service.idle_timeout = -1
    service.sweep()
    _send(relay, "header", {"action": "start", "fields": IDENTITY})
    html = relay.parts["header"].get_state()["html"]
    assert "Reload the page" in html and 'role="alert"' in html


def test_unreachable_service_is_a_friendly_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    relay = Relay(SocketClient(str(tmp_path / "no.sock")))
    html = relay.parts["header"].get_state()["html"]
    assert "Kurssin sisältöä ei voitu ladata" in html
    assert "Traceback" not in html
    assert any("reaching the course service" in r.message for r in caplog.records)


def test_kernel_imports_no_engine_database_or_templates() -> None:
    code = (
        "import sys, somequiz.ui, somequiz.ui.kernel.relay, somequiz.ui.identity, somequiz.ui.kernel.first_paint;"
        "print(' '.join(m for m in ('pydantic', 'sqlalchemy', 'jinja2', 'ruamel')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_first_screen_is_painted_as_html_but_never_a_step(service: LearnerService) -> None:
    relay = Relay(LocalClient(service))
    assert relay.first_page is not None
    painted = first_paint(relay.first_page)
    assert painted is not None
    html = relay.parts["header"].get_state()["html"]
    assert html and html in painted.data and 'data-sq-first-paint lang="fi"' in painted.data
    assert "<script>" in painted.data  # holds presses until the widget takes over
    step_page = relay.first_page | {"children": ["header", "step", "footer"]}
    assert first_paint(step_page) is None
