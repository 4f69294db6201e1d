"""`somequiz diff` tells material changes from editorial ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from somequiz.content.diff import diff

ROOT = Path(__file__).parents[2]
MINIMAL = Path(__file__).parents[1] / "fixtures" / "valid" / "minimal.yaml"
COURSE = """schema_version: 1
id: testi
title: Testi
description: Testikurssi
scenarios: [minimal]
"""


def _folder(path: Path, scenario_text: str, course: str = COURSE) -> str:
    path.mkdir()
    shutil.copy(ROOT / "scenarios" / "guideline.yaml", path)
    (path / "course.yaml").write_text(course, encoding="utf-8")
    (path / "minimal.yaml").write_text(scenario_text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "Kerron kaiken.",
            "Kerron aivan kaiken.",
            ["editorial  minimal / eka / huono: text muuttui"],
        ),
        (
            "feedback: Väärin.",
            "feedback: Ei pidä paikkaansa.",
            ["editorial  minimal / toka / vaara: feedback muuttui"],
        ),
        (
            "severity: risky\n        points: 0\n        feedback: Esimies",
            "severity: harmful\n        points: 0\n        feedback: Esimies",
            ["material  minimal / seuraus / vaikene: severity risky → harmful"],
        ),
        (
            "rules: [media-esimiehelle]",
            "rules: [media-esimiehelle, oma-vastuualue]",
            [
                "material  minimal / eka / hyva: rules ['media-esimiehelle'] → "
                "['media-esimiehelle', 'oma-vastuualue']"
            ],
        ),
        ("points: 4", "points: 3", ["material  minimal / toka / oikea: points 4 → 3"]),
    ],
)
def test_changes_are_classified(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    assert old in text
    before = _folder(tmp_path / "old", text)
    after = _folder(tmp_path / "new", text.replace(old, new, 1))
    assert [f"{c.kind}  {c.where}: {c.what}" for c in diff(before, after)] == expected


def test_new_best_answer_is_material(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    swapped = text.replace(
        "severity: best\n        points: 10", "severity: acceptable\n        points: 5"
    )
    swapped = swapped.replace(
        "severity: harmful\n        points: 0", "severity: best\n        points: 10"
    )
    changes = diff(_folder(tmp_path / "old", text), _folder(tmp_path / "new", swapped))
    assert [f"{c.kind}  {c.where}: {c.what}" for c in changes] == [
        "material  minimal / eka: paras vastaus on nyt huono",
        "material  minimal / eka / huono: severity harmful → best",
        "material  minimal / eka / huono: points 0 → 10",
        "material  minimal / eka / hyva: severity best → acceptable",
        "material  minimal / eka / hyva: points 10 → 5",
    ]


def test_course_rule_change_is_material(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    before = _folder(tmp_path / "old", text)
    after = _folder(tmp_path / "new", text, COURSE + "pass_percent: 90\n")
    assert [str(c) for c in diff(before, after)] == [
        "OLENNAINEN  course.yaml: pass_percent muuttui"
    ]


def test_identical_content_has_no_changes(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    assert diff(_folder(tmp_path / "a", text), _folder(tmp_path / "b", text)) == []


def test_git_revisions_are_read_from_the_repository() -> None:
    assert diff("HEAD", "HEAD") == []
