"""The review sheet renders through the trainer notebook and contains every choice."""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

import pytest

from somequiz.content.folder import Content
from somequiz.errors import ConfigError
from somequiz.reports.review import review_html, write_review_sheet


def _choice_texts(content: Content) -> list[str]:
    return [
        choice.text.fi
        for scenario in content.course_scenarios()
        for step in scenario.steps
        for choice in step.choices
    ]


def test_fragment_escapes_and_contains_everything(content: Content) -> None:
    fragment = review_html(content)
    for text in _choice_texts(content):
        assert html.escape(text, quote=False) in fragment
    cited = {
        rule_id
        for scenario in content.course_scenarios()
        for step in scenario.steps
        for choice in step.choices
        for rule_id in choice.rules
    }
    for rule_id in cited:
        assert f"({rule_id})" in fragment


def test_html_file_from_notebook_has_no_code(content: Content, tmp_path: Path) -> None:
    target = tmp_path / "moniste.html"
    write_review_sheet(target)
    page = target.read_text(encoding="utf-8")
    assert "review_html(" not in page
    for scenario in content.course_scenarios():
        assert html.escape(scenario.title.fi, quote=False) in page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")
def test_pdf_contains_every_scenario(content: Content, tmp_path: Path) -> None:
    target = tmp_path / "moniste.pdf"
    write_review_sheet(target)
    assert target.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(target), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = " ".join(text.split())
    for scenario in content.course_scenarios():
        assert " ".join(scenario.title.fi.split()) in flat


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\.html tai \.pdf"):
        write_review_sheet(tmp_path / "moniste.docx")


def test_review_sheet_says_choices_are_in_file_order(content: Content) -> None:
    assert "Vaihtoehdot ovat tiedoston järjestyksessä" in review_html(content)
