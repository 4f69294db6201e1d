"""Translatable text: a plain Finnish string or a mapping ``{fi, sv, en}``."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)

from somequiz.i18n.langs import DEFAULT_LANG, LANGS, Lang

__all__ = ["DEFAULT_LANG", "LANGS", "Lang", "NonEmptyStr", "Text", "Translations"]

NonEmptyStr = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]


class Translations(BaseModel):
    """One text in Finnish, optionally also in Swedish and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fi: NonEmptyStr
    sv: NonEmptyStr | None = None
    en: NonEmptyStr | None = None

    def has(self, lang: Lang) -> bool:
        """Whether the text exists in ``lang`` (Finnish always does)."""
        return getattr(self, lang) is not None

    def get(self, lang: Lang = DEFAULT_LANG) -> str:
        """The text in ``lang``, falling back to Finnish."""
        value: str | None = getattr(self, lang)
        return value if value is not None else self.fi

    def __str__(self) -> str:
        return self.fi


def _plain_string_is_finnish(value: Any) -> Any:
    return {"fi": value} if isinstance(value, str) else value


_TEXT_SCHEMA = {
    "anyOf": [
        {"type": "string", "minLength": 1, "description": "Teksti suomeksi."},
        {
            "type": "object",
            "properties": {
                "fi": {"type": "string", "minLength": 1, "description": "suomeksi"},
                "sv": {"type": "string", "minLength": 1, "description": "på svenska"},
                "en": {"type": "string", "minLength": 1, "description": "in English"},
            },
            "required": ["fi"],
            "additionalProperties": False,
        },
    ]
}

Text = Annotated[
    Translations,
    BeforeValidator(_plain_string_is_finnish),
    WithJsonSchema(_TEXT_SCHEMA),
]


def plain_name(text: str) -> str:
    """A typed name without invisible control characters, in one normal form, single-spaced.

    Bidirectional and zero-width controls (Unicode format characters) can make a name in an HR
    list or on a certificate look like someone else's: they are removed.
    """
    visible = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cf", "Cc"})
    return " ".join(unicodedata.normalize("NFC", visible).split())
