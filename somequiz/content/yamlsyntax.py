"""What a YAML syntax error means, worded for a trainer rather than a programmer.

Everything is read from the parser's own error object, marks and tokens (ruamel.yaml); the
result is a message key of the catalogue (``somequiz.i18n``) with its values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import BlockEntryToken, KeyToken, ScalarToken, Token


@dataclass(frozen=True)
class Fault:
    """Where (0-based line and column) a file stops being YAML, and the message key saying why."""

    line: int
    column: int
    key: str
    values: dict[str, object] = field(default_factory=dict)


def _token_at(text: str, line: int, column: int, kind: type[Token]) -> Token | None:
    """The parser's token of ``kind`` that starts at (line, column), 0-based."""
    try:
        for token in YAML(typ="rt").scan(text):
            start = token.start_mark
            if isinstance(token, kind) and (start.line, start.column) == (line, column):
                return token
    except YAMLError:
        pass  # a later fault does not matter here
    return None


def _levels(text: str, before_line: int, kinds: tuple[type, ...]) -> list[tuple[int, int]]:
    """(column, line) of the keys or list dashes (``kinds``) that frame ``before_line``
    (0-based), innermost first: the indentation levels a line there could mean. Read from the
    parser's own tokens."""
    found: list[tuple[int, int]] = []
    try:
        token: Token
        for token in YAML(typ="rt").scan(text):
            if token.start_mark.line >= before_line:
                break
            if isinstance(token, kinds):
                found.append((token.start_mark.column, token.start_mark.line))
    except YAMLError:
        pass  # the tokens up to the fault are what we need
    levels: list[tuple[int, int]] = []
    for column, line in reversed(found):
        if not levels or column < levels[-1][0]:
            levels.append((column, line))
    return levels


def _indentation(text: str, mark: Any, after_text: bool) -> Fault | None:
    """The fault of the line of ``mark`` when it is indented to no level around it."""
    line = mark.line
    row = text.split("\n")[line]
    found = len(row) - len(row.lstrip(" "))
    dash = isinstance(_token_at(text, line, found, BlockEntryToken), BlockEntryToken)
    levels = _levels(text, line, (BlockEntryToken,) if dash else (KeyToken, BlockEntryToken))
    if not levels or (after_text and levels[0][1] == line):
        return None
    deeper = [level for level in levels if level[0] > found]
    column, like = deeper[-1] if deeper and found < levels[0][0] else levels[0]
    if column == found:
        return None
    key = "v_indent_none" if found == 0 else "v_indent"
    return Fault(
        line, found, key, {"line": line + 1, "found": found, "expected": column, "like": like + 1}
    )


def explain(text: str, exc: MarkedYAMLError) -> Fault:
    """What a YAML syntax error in ``text`` means for the person who wrote it."""
    mark = exc.problem_mark or exc.context_mark
    problem, context = str(exc.problem or ""), str(exc.context or "")
    line, column = (mark.line, mark.column) if mark else (0, 0)
    start = exc.context_mark.line + 1 if exc.context_mark else line + 1
    if "quoted scalar" in context and exc.context_mark is not None:
        return Fault(exc.context_mark.line, exc.context_mark.column, "v_unclosed_quote")
    if isinstance(exc, DuplicateKeyError):
        key = getattr(_token_at(text, line, column, ScalarToken), "value", "")
        return Fault(line, column, "v_duplicate_key", {"name": key})
    if "'\\t'" in problem:
        return Fault(line, column, "v_tab")
    block_end, in_text = problem.startswith("expected <block end>"), "mapping values" in problem
    if mark is not None and (block_end or in_text):
        indent = _indentation(text, mark, after_text=in_text)
        if indent is not None:
            return indent
        if in_text:
            return Fault(line, column, "v_colon_in_text")
    if "flow" in context:
        return Fault(line, column, "v_unclosed_bracket", {"start": start})
    return Fault(line, column, "v_broken_yaml", {"start": start})
