"""The thin learner notebooks: generated from the content, so they never drift from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from somequiz.content.folder import Content

COURSE_NOTEBOOK = "kurssi.ipynb"
SCENARIO_FOLDER = "skenaariot"

_KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _cell(n: int, kind: str, source: str) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": kind,
        # Stable ids keep the files identical between runs.
        "id": f"cell-{n}",
        "metadata": {},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    return cell


def _notebook(title: str, code: str) -> str:
    notebook = {
        "cells": [
            _cell(0, "markdown", f"<!-- {title}: luotu komennolla 'somequiz notebooks' -->"),
            _cell(1, "code", code),
        ],
        "metadata": {"kernelspec": _KERNEL, "language_info": {"name": "python"}, "title": title},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def expected_notebooks(content: Content) -> dict[str, str]:
    """Relative path → notebook text, for the course page and one page per scenario."""
    files = {
        COURSE_NOTEBOOK: _notebook(
            content.course.title.fi, "from somequiz.ui import course_page\n\ncourse_page()"
        )
    }
    for sid in content.course.scenarios:
        scenario = content.scenarios[sid]
        # The id is a validated slug ([a-z0-9-]), so it is safe inside a string literal.
        files[f"{SCENARIO_FOLDER}/{sid}.ipynb"] = _notebook(
            scenario.title.fi, f'from somequiz.ui import scenario_page\n\nscenario_page("{sid}")'
        )
    return files


def sync_notebooks(content: Content, root: Path, *, check: bool) -> list[str]:
    """Write (or with ``check`` only compare) the learner notebooks; the stale paths."""
    expected = expected_notebooks(content)
    stale = []
    for relative, text in expected.items():
        path = root / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(relative)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    folder = root / SCENARIO_FOLDER
    extra = sorted(
        f"{SCENARIO_FOLDER}/{p.name}"
        for p in (folder.glob("*.ipynb") if folder.is_dir() else [])
        if f"{SCENARIO_FOLDER}/{p.name}" not in expected
    )
    for relative in extra:
        stale.append(relative)
        if not check:
            (root / relative).unlink()
    return stale
