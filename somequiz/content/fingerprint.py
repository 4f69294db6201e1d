"""A fingerprint of the guideline's wording: hashes of its word 6-grams, never its text.

The package ships ``guideline.fingerprint`` so that ``validate`` can warn about pasted
guideline sentences on any machine, without the guideline file itself. Rebuild it with
``somequiz fingerprint PATH-TO-GUIDELINE.txt`` when the guideline changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

WORDS = 6
FILE = Path(__file__).with_name("guideline.fingerprint")
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The text's words, case-folded (punctuation and spacing do not matter)."""
    return _WORD.findall(text.casefold())


def _digest(gram: tuple[str, ...]) -> str:
    return hashlib.blake2b(" ".join(gram).encode("utf-8"), digest_size=8).hexdigest()


def _grams(tokens: list[str]) -> Iterator[tuple[str, ...]]:
    for i in range(len(tokens) - WORDS + 1):
        yield tuple(tokens[i : i + WORDS])


def build(text: str) -> str:
    """The fingerprint file's content for a guideline text: one sorted hash a line."""
    return "\n".join(sorted({_digest(g) for g in _grams(words(text))})) + "\n"


@cache
def shipped() -> frozenset[str]:
    """The hashes shipped with the package."""
    return frozenset(FILE.read_text(encoding="ascii").split())


def pasted(text: str, hashes: frozenset[str] | None = None) -> list[str]:
    """Runs of six words of ``text`` that also stand in the guideline, merged into phrases."""
    known = shipped() if hashes is None else hashes
    tokens = words(text)
    hits = [i for i, gram in enumerate(_grams(tokens)) if _digest(gram) in known]
    phrases: list[str] = []
    start = end = -1
    for i in hits:
        if i > end:
            if end >= 0:
                phrases.append(" ".join(tokens[start:end]))
            start = i
        end = i + WORDS
    if end >= 0:
        phrases.append(" ".join(tokens[start:end]))
    return phrases
