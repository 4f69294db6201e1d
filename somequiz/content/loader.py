"""Reading trainer YAML files into models, with every problem pointing at file, line and column."""

from __future__ import annotations

import difflib
import re
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

MAX_BYTES = 1_000_000
MAX_NODES = 50_000
LANG_KEYS = {"fi", "sv", "en"}

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
        prefix = "varoitus: " if self.level == "warning" else ""
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


_DUPLICATE_KEY = re.compile(r'found duplicate key "(?P<key>[^"]*)"')


def _yaml_problem(path: Path, exc: MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = str(exc.problem or exc.context or "")
    unclosed_quote = "quoted scalar" in str(exc.context or "") and exc.context_mark is not None
    if unclosed_quote:
        mark = exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if unclosed_quote:
        message = "lainausmerkki jää sulkematta: lisää loppuun \" tai '"
    elif (match := _DUPLICATE_KEY.search(problem)) is not None:
        message = f"avain '{match['key']}' on kahdesti samassa kohdassa: poista toinen"
    elif "mapping values are not allowed" in problem:
        message = "tekstin keskellä on kaksoispiste ja välilyönti: kirjoita teksti >- -merkin alle"
    elif "'\\t'" in problem:
        message = "sarkainmerkki (tab): sisennä välilyönneillä"
    else:
        message = f"YAML-rakenne on rikki: {problem} (tarkista sisennys ja kaksoispisteet)"
    return Problem(path, line, column, message)


def read_yaml(path: Path) -> tuple[Any, SourceMap | None, list[Problem]]:
    """Parse ``path``; returns (plain data, source map, problems)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            megabytes = size / 1_000_000
            return (
                None,
                None,
                [
                    Problem(
                        path,
                        1,
                        1,
                        f"tiedosto on liian suuri ({megabytes:.1f} MB, enintään 1 MB)",
                    )
                ],
            )
        raw = path.read_bytes()
    except OSError as exc:
        return (
            None,
            None,
            [Problem(path, 1, 1, f"tiedostoa ei voi lukea: {exc.strerror}")],
        )
    if b"\x00" in raw:
        return (
            None,
            None,
            [Problem(path, 1, 1, "binääritiedosto: tähän kuuluu YAML-tekstiä")],
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return (
            None,
            None,
            [
                Problem(
                    path,
                    line,
                    column,
                    "merkistö ei ole UTF-8: tallenna tiedosto UTF-8-muodossa",
                )
            ],
        )
    try:
        root = YAML(typ="safe", pure=False).load(text)
    except YAMLError:
        try:  # the round-trip parser words the same problem with its position
            root = YAML(typ="rt").load(text)
        except MarkedYAMLError as exc:
            return None, None, [_yaml_problem(path, exc)]
        except ReaderError as exc:
            prefix = text[: exc.position]
            line, column = prefix.count("\n") + 1, exc.position - (prefix.rfind("\n") + 1) + 1
            message = f"kielletty ohjausmerkki (#x{exc.character:04x}): poista se"
            return None, None, [Problem(path, line, column, message)]
    if root is None:
        return None, None, [Problem(path, 1, 1, "tiedosto on tyhjä")]
    if not isinstance(root, dict):
        return (
            None,
            None,
            [
                Problem(
                    path, 1, 1, "tiedoston pitää koostua kentistä, esimerkiksi 'id: oma-tunniste'"
                )
            ],
        )
    try:
        data = _plain(root, [MAX_NODES])
    except (_TooManyNodesError, RecursionError):
        return None, None, [Problem(path, 1, 1, "liian monta kohtaa: onko tiedostossa silmukka?")]
    return data, SourceMap(text), []


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _suggestion(field: str) -> str:
    close = difflib.get_close_matches(field, field_names(), n=1)
    return f": tarkoititko '{close[0]}'?" if close else ": tarkista kirjoitusasu"


def _message(error: ErrorDetails, field: str) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    value = error.get("input")
    allowed = str(ctx.get("expected", "")).replace(" or ", ", ")
    messages = {
        "extra_forbidden": f"tuntematon kenttä '{field}'{_suggestion(field)}",
        "missing": f"pakollinen kenttä '{field}' puuttuu",
        "string_too_short": "teksti on tyhjä",
        "string_too_long": "teksti on liian pitkä",
        "string_pattern_mismatch": (
            f"tunniste '{value}' ei kelpaa: käytä pieniä kirjaimia a–z, numeroita ja väliviivoja"
        ),
        "literal_error": f"arvo '{value}' ei kelpaa; sallitut: {allowed}",
        "int_type": "tähän kuuluu kokonaisluku",
        "int_parsing": "tähän kuuluu kokonaisluku",
        "int_from_float": "tähän kuuluu kokonaisluku",
        "bool_type": "tähän kuuluu true tai false",
        "bool_parsing": "tähän kuuluu true tai false",
        "string_type": "tähän kuuluu teksti",
        "list_type": "tähän kuuluu lista (rivit alkavat '- ')",
        "model_type": "tähän kuuluu kenttiä (avain: arvo)",
        "dict_type": "tähän kuuluu kenttiä (avain: arvo)",
        "too_short": f"liian vähän kohtia: vähintään {ctx.get('min_length')}",
        "too_long": f"liian monta kohtaa: enintään {ctx.get('max_length')}",
        "greater_than_equal": f"arvon pitää olla vähintään {ctx.get('ge')}",
        "less_than_equal": f"arvon pitää olla enintään {ctx.get('le')}",
    }
    return messages.get(kind, error["msg"])


def validation_problems(path: Path, source: SourceMap, exc: ValidationError) -> list[Problem]:
    """Problems from a pydantic error, each at the line where the trouble is."""
    problems = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        field = str(loc[-1]) if loc else ""
        kind = error["type"]
        if loc and loc[-1] in LANG_KEYS and source.is_string(loc[:-1]):
            loc = loc[:-1]
        where = loc[:-1] if kind == "missing" else loc
        line, column = source.position(where, at_key=kind == "extra_forbidden")
        context = _dotted(loc[:-1] if kind in {"missing", "extra_forbidden"} else loc)
        message = _message(error, field)
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
