"""Every word of the learner interface shown to a person, one module per language.

Content (scenarios, rules) carries its own translations; this catalogue holds only the
interface. A missing key in ``sv`` or ``en`` falls back to Finnish. Plain dictionaries: the
page kernel imports this, and nothing heavy.
"""

from __future__ import annotations

from somequiz.i18n.en import EN
from somequiz.i18n.fi import FI
from somequiz.i18n.langs import DEFAULT_LANG, Lang
from somequiz.i18n.sv import SV

__all__ = ["CATALOGUE", "EN", "FI", "SV", "Messages", "message"]

CATALOGUE: dict[Lang, dict[str, str]] = {"fi": FI, "sv": SV, "en": EN}


def message(lang: Lang, key: str, **values: object) -> str:
    """The UI string ``key`` in ``lang`` (Finnish when missing), formatted with ``values``."""
    template = CATALOGUE.get(lang, FI).get(key) or FI[key]
    return template.format(**values) if values else template


class Messages:
    """UI strings bound to one language, callable from templates as ``t("key", ...)``."""

    def __init__(self, lang: Lang = DEFAULT_LANG) -> None:
        self.lang = lang

    def __call__(self, key: str, **values: object) -> str:
        return message(self.lang, key, **values)
