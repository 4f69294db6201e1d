"""The course certificate as a PDF, from plain values (the HTML one's wording and layout).

The PDF library (fpdf2) is imported only when a certificate is drawn. Text is set in DejaVu
Sans, the Unicode font that ships with matplotlib; a character it cannot show (CJK, emoji)
becomes U+FFFD, so every name renders. Without that font the built-in Helvetica is used and
anything outside Latin-1 becomes "?".
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from somequiz.content.text import Lang

# Colours of the HTML certificate (somequiz/ui/templates/certificate.html).
_BLUE = (0, 90, 140)
_DARK_BLUE = (0, 65, 106)
_GREY = (74, 85, 96)
_TEXT = (26, 26, 26)
_RULE = (201, 209, 217)

# Longest text drawn per field; if it still runs past one page, it is drawn smaller (_SCALES).
_MAX_NAME = 200
_MAX_FIELD = 120
_MAX_EMPLOYEE = 40
_MAX_TITLE = 200
_MAX_CODE = 64
_MAX_VERIFY = 600
_SCALES = (1.0, 0.85, 0.7, 0.55, 0.4)

_FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
_MONO = "DejaVuSansMono.ttf"
_SKIN_TONES = frozenset(map(chr, range(0x1F3FB, 0x1F400)))
_LATIN_1 = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))


@dataclass(frozen=True)
class _Fonts:
    """The families in use and the characters each can show."""

    sans: str
    mono: str
    covers: dict[str, Collection[int]]
    replacement: str


def _font_folder() -> Path | None:
    """matplotlib's bundled TTF folder, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    names = [*_FONTS.values(), _MONO]
    return folder if all((folder / n).is_file() for n in names) else None


def _load_fonts(pdf: Any) -> _Fonts:
    """DejaVu Sans (regular, bold, mono) in ``pdf``, or the built-in fonts without it."""
    folder = _font_folder()
    if folder is None:
        return _Fonts("helvetica", "courier", {}, "?")
    for style, file in _FONTS.items():
        pdf.add_font("dejavu", style, str(folder / file))
    pdf.add_font("dejavumono", "", str(folder / _MONO))
    covers: dict[str, Collection[int]] = {
        str(key): frozenset(font.cmap) for key, font in pdf.fonts.items()
    }
    return _Fonts("dejavu", "dejavumono", covers, "\ufffd")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fit(text: str, covered: Collection[int], replacement: str) -> str:
    """``text`` with only characters the font shows; others become ``replacement``.

    Control and format characters (zero-width joiners, bidi marks) are dropped, and so are
    marks the font lacks (variation selectors): an emoji sequence gives one replacement per
    emoji.
    """
    out = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if category in {"Cc", "Cf"} or char in _SKIN_TONES:
            continue
        if ord(char) in covered:
            out.append(char)
        elif category not in {"Mn", "Me"}:
            out.append(replacement)
    return "".join(out)


@dataclass(frozen=True)
class _Texts:
    """Everything written on the certificate, already worded and clipped."""

    lang: str
    title: str
    org: str
    statement: str
    course: str
    rows: list[tuple[str, str, bool]]  # label, value, monospaced
    verify: str
    author: str
    creator: str


def certificate_pdf(
    *,
    name: str,
    course_title: str,
    completed: date,
    points: int,
    max_points: int,
    code: str,
    lang: Lang = "fi",
    employee_number: str = "",
    unit: str = "",
    verify: str | None = None,
    self_reported: bool = False,
) -> bytes:
    """The certificate of one completion as PDF bytes (one A4 page).

    ``verify`` replaces the standard "how to verify" sentence (``certificate_verify``);
    ``self_reported`` says the name and number were typed by the learner, not from SSO.
    """
    from somequiz.i18n import Messages

    t = Messages(lang)
    percent = round(100 * points / max_points) if max_points else 0
    shown_name = _clip(name, _MAX_NAME)
    rows = [(t("field_name"), shown_name, False)]
    if employee_number.strip():
        rows.append((t("field_employee"), _clip(employee_number, _MAX_EMPLOYEE), False))
    if unit.strip():
        rows.append((t("field_unit"), _clip(unit, _MAX_FIELD), False))
    if self_reported:
        rows.append((t("identity"), t("identity_self_reported"), False))
    score = t("result_score", points=points, max=max_points, percent=percent)
    rows.append((t("result_heading"), score, False))
    rows.append((t("certificate_code"), _clip(code, _MAX_CODE), True))
    texts = _Texts(
        lang=lang,
        title=t("certificate_title"),
        org=f"{t('municipality')} · {t('app_name')}",
        statement=t("certificate_text", name=shown_name, date=completed.strftime("%d.%m.%Y")),
        course=_clip(course_title, _MAX_TITLE),
        rows=rows,
        verify=_clip(verify if verify is not None else t("certificate_verify"), _MAX_VERIFY),
        author=t("municipality"),
        creator=t("app_name"),
    )
    # Long values can push the text past one page: then draw it smaller.
    for scale in _SCALES:
        pdf = _draw(texts, scale)
        if pdf.page == 1:
            break
    return bytes(pdf.output())


def _draw(texts: _Texts, scale: float) -> Any:
    """The certificate drawn with type and spacing times ``scale``."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(25, 30 * scale, 25)
    pdf.set_auto_page_break(auto=True, margin=20)
    fonts = _load_fonts(pdf)

    def write(
        text: str,
        size: float,
        *,
        style: str = "",
        color: tuple[int, int, int] = _TEXT,
        mono: bool = False,
        width: float = 0,
    ) -> None:
        pdf.set_font(fonts.mono if mono else fonts.sans, style=style, size=size * scale)
        key = pdf.current_font.fontkey if pdf.current_font else ""
        pdf.set_text_color(*color)
        pdf.multi_cell(
            width,
            size * scale * 0.5,
            _fit(text, fonts.covers.get(key, _LATIN_1), fonts.replacement),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )

    def gap(mm: float) -> None:
        pdf.ln(mm * scale)

    pdf.set_title(f"{texts.title} – {texts.course}")
    pdf.set_author(texts.author)
    pdf.set_subject(texts.course)
    pdf.set_creator(texts.creator)
    pdf.set_lang(texts.lang)
    pdf.add_page()
    pdf.set_fill_color(*_BLUE)
    pdf.rect(0, 0, pdf.w, 8, style="F")
    pdf.set_draw_color(*_RULE)

    write(texts.title, 22, style="B", color=_DARK_BLUE)
    gap(1)
    write(texts.org, 11, color=_GREY)
    gap(16)
    write(texts.statement, 13)
    gap(4)
    write(texts.course, 16, style="B", color=_DARK_BLUE)
    gap(8)
    pdf.line(pdf.l_margin, pdf.y, pdf.w - pdf.r_margin, pdf.y)
    gap(6)
    label_width = 45
    for label, value, mono in texts.rows:
        top = pdf.y
        write(label, 11, style="B", width=label_width - 3)
        below_label = pdf.y
        pdf.set_xy(pdf.l_margin + label_width, top)
        write(value, 13 if mono else 11, mono=mono)
        pdf.set_y(max(pdf.y, below_label))
        gap(3)
    gap(6)
    pdf.line(pdf.l_margin, pdf.y, pdf.w - pdf.r_margin, pdf.y)
    gap(6)
    write(texts.verify, 10, color=_GREY)
    return pdf
