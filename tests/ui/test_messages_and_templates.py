"""The UI catalogue and templates: every key used exists, and nothing is marked safe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from somequiz import ui
from somequiz.content.models import SEVERITIES, THEMES, Channel
from somequiz.i18n import CATALOGUE, FI, message

UI = Path(ui.__file__).parent
KEY = re.compile(r"""\bt\(\s*["']([a-z_-]+)["']\s*[,)]""")


def _used_keys() -> set[str]:
    keys = set()
    for path in [*UI.glob("templates/*.html"), UI / "session.py", UI / "relay.py"]:
        keys |= set(KEY.findall(path.read_text(encoding="utf-8")))
    return keys


def test_every_used_key_is_in_finnish() -> None:
    assert _used_keys() - set(FI) == set()


def test_swedish_and_english_add_no_unknown_keys() -> None:
    for lang, table in CATALOGUE.items():
        assert set(table) <= set(FI), lang


def test_themes_channels_severities_and_statuses_have_names() -> None:
    for severity in SEVERITIES:
        assert f"severity_{severity}" in FI
    for status in ("todo", "in_progress", "done", "failed", "failed_final"):
        assert f"status_{status}" in FI
    for theme in THEMES:
        assert f"theme_{theme}" in FI
    for channel in get_args(Channel):
        assert f"channel_{channel}" in FI


def test_missing_translation_falls_back_to_finnish() -> None:
    assert message("sv", "channel_whatsapp") == "WhatsApp"
    assert message("en", "points", points=1, max=2) == "Points: 1 / 2"


def test_no_template_marks_markup_safe() -> None:
    for path in UI.glob("templates/*.html"):
        text = path.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), path.name
        assert "autoescape false" not in text, path.name


def test_only_the_ui_package_imports_widgets() -> None:
    package = UI.parent
    for path in package.rglob("*.py"):
        if UI in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        assert "ipywidgets" not in text and "anywidget" not in text, path
