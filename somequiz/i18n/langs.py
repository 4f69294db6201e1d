"""The course languages. Kept free of pydantic: the learner page's kernel imports it."""

from __future__ import annotations

from typing import Literal, get_args

Lang = Literal["fi", "sv", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "fi"
