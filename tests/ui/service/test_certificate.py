"""The PDF certificate: readable text in every language, and any name renders."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import somequiz.ui.service.certificate as certificate
from somequiz.content.text import LANGS, Lang
from somequiz.i18n import message
from somequiz.ui.service.certificate import certificate_pdf

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext is not installed")

COURSE = "SoMe-koulutus: Hämeenkyrön kunnan some-ohje"
CODE = "K7QX-2M9A-PLR4"


def _pdf(**values: Any) -> bytes:
    fields: dict[str, Any] = {
        "name": "Åsa Öhman-Väisänen",
        "course_title": COURSE,
        "completed": date(2025, 3, 24),
        "points": 42,
        "max_points": 50,
        "code": CODE,
    }
    return certificate_pdf(**{**fields, **values})


def _text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext extracts it, whitespace collapsed."""
    assert PDFTOTEXT is not None
    path = tmp_path / "todistus.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return " ".join(result.stdout.decode("utf-8").split())


def _pages(pdf: bytes) -> int:
    counts = re.findall(rb"/Count (\d+)", pdf)
    assert len(counts) == 1
    return int(counts[0])


def test_is_a_pdf() -> None:
    pdf = _pdf()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")


@needs_pdftotext
@pytest.mark.parametrize("lang", LANGS)
def test_every_language_shows_name_code_course_and_wording(lang: Lang, tmp_path: Path) -> None:
    text = _text(_pdf(lang=lang, employee_number="H1234", unit="Kotihoito"), tmp_path)
    for expected in (
        "Åsa Öhman-Väisänen",
        CODE,
        COURSE,
        "H1234",
        "Kotihoito",
        message(lang, "certificate_title"),
        message(lang, "municipality"),
        message(lang, "certificate_code"),
        message(lang, "certificate_verify"),
        message(lang, "result_score", points=42, max=50, percent=84),
        message(lang, "certificate_text", name="Åsa Öhman-Väisänen", date="24.03.2025"),
    ):
        assert expected in text, (lang, expected, text)


@needs_pdftotext
def test_optional_fields_are_left_out_and_verify_text_can_be_replaced(tmp_path: Path) -> None:
    text = _text(_pdf(lang="en", verify="Check the code at HR, extension 123."), tmp_path)
    assert "Employee number" not in text and "Unit" not in text
    assert "Check the code at HR, extension 123." in text
    assert message("en", "certificate_verify") not in text


@needs_pdftotext
def test_no_points_gives_zero_percent(tmp_path: Path) -> None:
    assert "0 / 0 (0 %)" in _text(_pdf(points=0, max_points=0), tmp_path)


@needs_pdftotext
@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
        ("Robert'); DROP TABLE completions;--", "Robert'); DROP TABLE completions;--"),
        ("山田 太郎", "\ufffd\ufffd \ufffd\ufffd"),
        ("Åsa 👩\u200d💻👍🏽\ufe0f", "Åsa \ufffd\ufffd\ufffd"),
        ("Zoë Ångström\u0000\u202e\u200b", "Zoë Ångström"),
        ("A\u0308ke", "Äke"),  # decomposed ä is composed
        ("Пётр Ωμέγα", "Пётр Ωμέγα"),  # DejaVu Sans covers Cyrillic and Greek
    ],
)
def test_hostile_and_foreign_names_render(name: str, shown: str, tmp_path: Path) -> None:
    pdf = _pdf(name=name)
    assert _pages(pdf) == 1
    text = _text(pdf, tmp_path)
    assert shown in text
    assert CODE in text


@needs_pdftotext
@pytest.mark.parametrize(
    "name",
    [
        "Anna-Maija Marjatta Kaarina Hämäläinen-Väänänen " * 20,
        "Ö" * 5000,
        "x\n" * 300,
    ],
)
def test_very_long_names_stay_on_one_page(name: str, tmp_path: Path) -> None:
    pdf = _pdf(
        name=name,
        course_title=COURSE * 30,
        unit="Yksikkö " * 100,
        employee_number="9" * 500,
        code="W" * 200,
        verify="Ä" * 3000,
    )
    assert _pages(pdf) == 1
    text = _text(pdf, tmp_path)
    assert "WWWW" in text and "…" in text


@needs_pdftotext
def test_without_the_unicode_font_latin_1_remains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(certificate, "_font_folder", lambda: None)
    text = _text(_pdf(name="Åsa Öhman 山田 👩\u200d💻", lang="sv"), tmp_path)
    assert "Åsa Öhman ?? ??" in text
    assert CODE in text and "Intyg över avlagd kurs" in text


def test_import_is_light() -> None:
    code = (
        "import sys, somequiz.ui.service.certificate; "
        "heavy = {'fpdf', 'fontTools', 'matplotlib', 'pydantic', 'sqlalchemy'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
