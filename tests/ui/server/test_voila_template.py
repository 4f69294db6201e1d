"""The servers' Voilà template: the lab one without public CDNs, shipped in the package.

The browser test ``tests/browser/test_no_third_party.py`` checks what a page really requests.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from somequiz.ui import JUPYTER_DATA, TEMPLATE
from somequiz.ui.server.app import learner_root, voila_config

ROOT = Path(__file__).parents[3]
FOLDER = JUPYTER_DATA / "voila" / "templates" / TEMPLATE


def test_servers_use_the_packaged_template_found_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from voila.paths import collect_static_paths, collect_template_paths

    monkeypatch.setenv("JUPYTER_PATH", "/elsewhere")
    for token in (None, "t"):  # learner and staff servers
        voila = voila_config("127.0.0.1", 8866, learner_root(), token).VoilaConfiguration
        assert voila.template == TEMPLATE
        assert voila.allow_template_override == "NO" and voila.allow_theme_override == "NO"
    assert os.environ["JUPYTER_PATH"].split(os.pathsep) == [str(JUPYTER_DATA), "/elsewhere"]
    paths = collect_template_paths(["voila", "nbconvert"], TEMPLATE, prune=True)
    assert paths[0] == str(FOLDER)
    # The template's static files (voila-style.js, index.css) are the lab template's.
    statics = collect_static_paths(["voila", "nbconvert"], TEMPLATE)
    assert any(Path(p, "voila-style.js").is_file() for p in statics)


def test_template_extends_lab_and_names_no_other_host() -> None:
    assert json.loads((FOLDER / "conf.json").read_text(encoding="utf-8")) == {
        "base_template": "lab"
    }
    for name in ("index.html.j2", "page.html"):
        text = (FOLDER / name).read_text(encoding="utf-8")
        assert "://" not in text, name


def test_template_is_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["somequiz"]
    package = ROOT / "somequiz"
    shipped = {p for pattern in patterns for p in package.glob(pattern)}
    assert set(FOLDER.iterdir()) <= shipped
