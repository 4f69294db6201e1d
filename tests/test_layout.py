"""The folder picture is the design: imports point one way, and only some rooms may use some
libraries. Read from the code's own imports, so the picture cannot drift from it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "somequiz"
# What each room may import of the package besides itself (ui and the CLI may use all).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "i18n": set(),
    "config": set(),
    "content": {"i18n", "errors"},
    "engine": {"content", "i18n", "errors"},
    "records": {"content", "engine", "i18n", "errors", "config"},
    "course": {"records", "engine", "content", "i18n", "errors", "config"},
    "reports": {"course", "records", "engine", "content", "i18n", "errors", "config"},
}
# Libraries that belong to one room only.
OWNERS = {"ipywidgets": "ui", "anywidget": "ui", "sqlalchemy": "records", "alembic": "records"}


def _room(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way(path: Path) -> None:
    room = _room(path)
    rooms = {name.split(".")[1] for name in _imports(path) if name.startswith("somequiz.")} - {room}
    if room in ALLOWED:
        assert rooms <= ALLOWED[room], f"{room} may not import {rooms - ALLOWED[room]}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_libraries_stay_in_their_room(path: Path) -> None:
    room = _room(path)
    for name in _imports(path):
        owner = OWNERS.get(name.split(".")[0])
        assert owner in (None, room), f"{name} belongs in somequiz/{owner}/"
