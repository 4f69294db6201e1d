"""Reading trainer YAML files into models, with every problem pointing at file, line and column.

Messages are for trainers, not programmers: plain Finnish from the catalogue (``somequiz.i18n``),
positions counted from 1 ("vaihe 1, vaihtoehto 2") and a did-you-mean where a name is close.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from somequiz.content.schema import field_names
from somequiz.content.yamlsyntax import explain
from somequiz.i18n import Messages

MAX_BYTES = 1_000_000
MAX_NODES = 50_000
LANG_KEYS = {"fi", "sv", "en"}
# Validation speaks the course's primary language.
SAY = Messages("fi")

ModelT = TypeVar("ModelT", bound=BaseModel)
Loc = tuple[int | str, ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One finding in a content file."""

    path: Path
    line: int
    column: int
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = SAY("v_warning_prefix") if self.level == "warning" else ""
        return f"{self.path}:{self.line}:{self.column}: {prefix}{self.message}"


class SourceMap:
    """Maps a location inside the parsed document (as pydantic reports it) to line and column.

    The round-trip parse that knows positions is ~15× slower than the C parser, so it runs
    only when a problem has to be located.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._root: Any = None

    @property
    def root(self) -> Any:
        """The round-trip document, parsed on first use."""
        if self._root is None:
            self._root = YAML(typ="rt").load(self.text)
        return self._root

    def position(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of ``loc``, or of its deepest existing ancestor."""
        node = self.root
        pos = (0, 0)
        for index, part in enumerate(loc):
            last = index == len(loc) - 1
            if isinstance(node, CommentedMap) and part in node:
                pos = node.lc.key(part) if (last and at_key) else node.lc.value(part)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                pos = node.lc.item(part)
                node = node[part]
            else:
                break
        return pos[0] + 1, pos[1] + 1

    def is_string(self, loc: Loc) -> bool:
        """Whether the node at ``loc`` is a plain string in the source."""
        node = self.root
        for part in loc:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return False
        return isinstance(node, str)


# List fields a trainer counts in ("vaihe 2"); other lists are counted as "kohta 2".
_COUNTED = {"steps", "choices", "endings", "sections", "rules", "scenarios"}


def where(loc: Loc) -> str:
    """A location as a trainer reads it: ``vaihe 1, vaihtoehto 2, next`` (counted from 1)."""
    parts: list[str] = []
    for index, part in enumerate(loc):
        if isinstance(part, int):
            continue
        following = loc[index + 1] if index + 1 < len(loc) else None
        if isinstance(following, int):
            key = f"v_where_{part}" if part in _COUNTED else "v_where_item"
            parts.append(SAY(key, field=part, n=following + 1))
        else:
            parts.append(str(part))
    return ", ".join(parts)


def closest(name: str, known: Iterable[str]) -> str | None:
    """The name of ``known`` that ``name`` is most likely a misspelling of."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return close[0] if close else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``: tarkoititko 'x'?`` for the closest of ``known``, or an empty string."""
    meant = closest(name, known)
    return SAY("v_did_you_mean", name=meant) if meant else ""


class _TooManyNodesError(Exception):
    pass


def _plain(node: Any, budget: list[int]) -> Any:
    """Plain Python data from ruamel's round-trip nodes (aliases expanded within a budget)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooManyNodesError
    if isinstance(node, dict):
        return {str(k): _plain(v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, budget) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool | int | float) or node is None:
        return node
    if isinstance(node, date | datetime):
        return node.isoformat()
    return str(node)


def _parse(path: Path, text: str) -> tuple[Any, list[Problem]]:
    """The document's data (ruamel nodes), or the one problem that stopped the parser."""
    try:
        return YAML(typ="safe", pure=False).load(text), []
    except YAMLError:
        pass  # the round-trip parser finds the same fault with its position and tokens
    try:
        return YAML(typ="rt").load(text), []
    except MarkedYAMLError as exc:
        fault = explain(text, exc)
        message = SAY(fault.key, **fault.values)
        return None, [Problem(path, fault.line + 1, fault.column + 1, message)]
    except ReaderError as exc:
        prefix = text[: exc.position]
        line, column = prefix.count("\n") + 1, exc.position - (prefix.rfind("\n") + 1) + 1
        message = SAY("v_control_character", code=f"{exc.character:04x}")
        return None, [Problem(path, line, column, message)]


def _read_text(path: Path) -> tuple[str | None, list[Problem]]:
    """The file as text, or the problem that prevents reading it."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [Problem(path, 1, 1, SAY("v_too_large", megabytes=size / 1_000_000))]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(path, 1, 1, SAY("v_unreadable", reason=exc.strerror))]
    if b"\x00" in raw:
        return None, [Problem(path, 1, 1, SAY("v_binary"))]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [Problem(path, line, column, SAY("v_not_utf8"))]


def read_yaml(path: Path) -> tuple[Any, SourceMap | None, list[Problem]]:
    """Parse ``path``; returns (plain data, source map, problems)."""
    text, problems = _read_text(path)
    if text is None:
        return None, None, problems
    root, problems = _parse(path, text)
    if problems:
        return None, None, problems
    if root is None:
        return None, None, [Problem(path, 1, 1, SAY("v_empty"))]
    if not isinstance(root, dict):
        return None, None, [Problem(path, 1, 1, SAY("v_not_a_mapping"))]
    try:
        data = _plain(root, [MAX_NODES])
    except (_TooManyNodesError, RecursionError):
        return None, None, [Problem(path, 1, 1, SAY("v_too_many_nodes"))]
    return data, SourceMap(text), []


_SIMPLE = {
    "missing": "v_missing",
    "string_too_short": "v_text_empty",
    "string_too_long": "v_text_too_long",
    "string_pattern_mismatch": "v_bad_id",
    "int_type": "v_want_integer",
    "int_parsing": "v_want_integer",
    "int_from_float": "v_want_integer",
    "bool_type": "v_want_bool",
    "bool_parsing": "v_want_bool",
    "string_type": "v_want_text",
    "list_type": "v_want_list",
    "model_type": "v_want_fields",
    "dict_type": "v_want_fields",
    "too_short": "v_too_few",
    "too_long": "v_too_many",
    "greater_than_equal": "v_at_least",
    "less_than_equal": "v_at_most",
    "literal_error": "v_not_allowed",
}


def _message(error: ErrorDetails, field: str) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    values = {
        "field": field,
        "value": error.get("input"),
        "allowed": str(ctx.get("expected", "")).replace(" or ", ", "),
        "min": ctx.get("min_length", ctx.get("ge")),
        "max": ctx.get("max_length", ctx.get("le")),
    }
    return SAY(_SIMPLE[kind], **values) if kind in _SIMPLE else SAY("v_invalid_value")


@dataclass(frozen=True)
class _Unknown:
    """What an unknown field most likely is: a misspelling, or a field indented too deep."""

    meant: str | None = None  # the field name it misspells
    home: Loc | None = None  # where a field of this very name is missing


def _unknown_fields(errors: list[ErrorDetails]) -> dict[Loc, _Unknown]:
    """Every unknown field (by location) explained by the missing fields around it."""
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    unknown: dict[Loc, _Unknown] = {}
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] != "extra_forbidden":
            continue
        name = loc[-1]
        homes = [loc[:k] for k in range(len(loc) - 2, -1, -1) if (*loc[:k], name) in missing]
        if homes:
            unknown[loc] = _Unknown(home=homes[0])
            continue
        near = {str(m[-1]) for m in missing if m[:-1] == loc[:-1]}
        unknown[loc] = _Unknown(meant=closest(str(name), near or field_names()))
    return unknown


def _explained(unknown: dict[Loc, _Unknown]) -> set[Loc]:
    """The missing fields an unknown field accounts for: one slip, one problem."""
    found: set[Loc] = set()
    for loc, what in unknown.items():
        if what.home is not None:
            found.add((*what.home, loc[-1]))
        elif what.meant is not None:
            found.add((*loc[:-1], what.meant))
    return found


def _unknown_message(field: str, what: _Unknown) -> str:
    if what.home is not None:
        home = where(what.home)
        if not home:
            return SAY("v_misplaced_field_top", field=field)
        return SAY("v_misplaced_field", field=field, home=home)
    hint = SAY("v_did_you_mean", name=what.meant) if what.meant else SAY("v_check_spelling")
    return SAY("v_unknown_field", field=field) + hint


def validation_problems(path: Path, source: SourceMap, exc: ValidationError) -> list[Problem]:
    """Problems from a pydantic error, each at the line where the trouble is."""
    errors = exc.errors()
    unknown = _unknown_fields(errors)
    explained = _explained(unknown)
    problems = []
    for error in errors:
        loc: Loc = tuple(error["loc"])
        kind = error["type"]
        if kind == "missing" and loc in explained:
            continue
        field = str(loc[-1]) if loc else ""
        message = (
            _unknown_message(field, unknown[loc]) if loc in unknown else _message(error, field)
        )
        if loc and loc[-1] in LANG_KEYS and source.is_string(loc[:-1]):
            loc = loc[:-1]
        located = loc[:-1] if kind == "missing" else loc
        line, column = source.position(located, at_key=kind == "extra_forbidden")
        context = where(loc[:-1] if kind in {"missing", "extra_forbidden"} else loc)
        problems.append(
            Problem(path, line, column, f"{context}: {message}" if context else message)
        )
    return problems


def load_model(
    path: Path, model: type[ModelT]
) -> tuple[ModelT | None, SourceMap | None, list[Problem]]:
    """Read ``path`` and validate it as ``model``."""
    data, source, problems = read_yaml(path)
    if source is None:
        return None, None, problems
    try:
        return model.model_validate(data), source, []
    except ValidationError as exc:
        return None, source, validation_problems(path, source, exc)
