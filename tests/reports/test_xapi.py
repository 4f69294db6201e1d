"""xAPI statements: valid under Ralph, stable ids, and an LRS that sees each statement once."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement
from records_helpers import run_course

from somequiz.content.folder import Content
from somequiz.errors import ExportError
from somequiz.records.store import Store
from somequiz.reports import xapi

AT = datetime(2026, 2, 3, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def filled(shared_store: Store, content: Content) -> Store:
    """A passed, a failed and an unfinished attempt."""
    run_course(shared_store, content, name="Paras", employee_number="E1", at=AT)
    run_course(shared_store, content, name="Heikoin", employee_number="E2", best=False, at=AT)
    learner = shared_store.learner(name="Kesken", employee_number=None, unit="Kotihoito")
    shared_store.start_attempt(learner.id, content.course.id, 1, "a" * 16, at=AT)
    return shared_store


def test_statements_validate_and_cover_the_attempt(filled: Store, content: Content) -> None:
    items = list(xapi.statements(filled, content))
    for statement in items:
        BaseXapiStatement.model_validate(statement)  # raises on any invalid statement
    verbs = Counter(s["verb"]["id"].rsplit("/", 1)[1] for s in items)
    answered = sum(len(filled.answers(a)) for a in set(filled.attempts_frame()["attempt_id"]))
    assert verbs == Counter(
        initialized=3, answered=answered, completed=2, passed=1, failed=1, terminated=2
    )
    assert len({s["id"] for s in items}) == len(items)
    passed = next(s for s in items if s["verb"]["id"].endswith("/passed"))
    assert passed["actor"]["account"] == {"homePage": "https://www.hameenkyro.fi", "name": "E1"}
    assert passed["result"]["success"] is True and passed["result"]["completion"] is True
    assert passed["result"]["score"]["scaled"] == 1.0
    assert passed["result"]["duration"].startswith("PT")
    assert passed["context"]["registration"] in set(filled.attempts_frame()["attempt_id"])
    assert any(k.endswith("/course-hash") for k in passed["context"]["extensions"])
    answer = next(s for s in items if s["verb"]["id"].endswith("/answered"))
    definition = answer["object"]["definition"]
    assert definition["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    assert definition["interactionType"] == "choice"
    assert definition["choices"] and definition["correctResponsesPattern"]
    unfinished = [s for s in items if s["actor"]["account"]["name"].startswith("p-")]
    assert {s["verb"]["id"].rsplit("/", 1)[1] for s in unfinished} == {"initialized"}


def test_ids_are_stable_and_pseudonyms_hide_employee_numbers(
    filled: Store, content: Content
) -> None:
    first = [s["id"] for s in xapi.statements(filled, content)]
    assert first == [s["id"] for s in xapi.statements(filled, content)]
    hidden = list(xapi.statements(filled, content, pseudonymous=True))
    assert {s["actor"]["account"]["name"][:2] for s in hidden} == {"p-"}
    assert [s["id"] for s in hidden] == first


def test_invalid_statement_is_never_written() -> None:
    with pytest.raises(ExportError, match="ei ole kelvollinen"):
        xapi.validate(
            {"id": "x", "actor": {}, "verb": {"id": "nope"}, "object": {"id": "http://a"}}
        )


class _Lrs(BaseHTTPRequestHandler):
    """An LRS stub: fails the first POST, stores the second but loses its response."""

    stored: ClassVar[dict[str, Any]] = {}
    accepted: ClassVar[Counter[str]] = Counter()
    posts: ClassVar[int] = 0
    auth = "Basic " + base64.b64encode(b"hr:salainen").decode()

    def log_message(self, *_args: Any) -> None:
        pass

    def _reply(self, code: int, body: bytes = b"") -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != type(self).auth:
            self._reply(401)
            return
        wanted = parse_qs(urlparse(self.path).query).get("statementId", [""])[0]
        if wanted in self.stored:
            self._reply(200, json.dumps(self.stored[wanted]).encode())
        else:
            self._reply(404)

    def do_POST(self) -> None:
        cls = type(self)
        if self.headers.get("Authorization") != cls.auth:
            self._reply(401)
            return
        assert self.headers.get("X-Experience-API-Version") == "1.0.3"
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls.posts += 1
        if cls.posts == 1:
            self._reply(503)  # not stored
            return
        for statement in body:
            cls.accepted[statement["id"]] += 1
            cls.stored[statement["id"]] = statement
        self._reply(500 if cls.posts == 2 else 200, json.dumps([s["id"] for s in body]).encode())


@pytest.fixture
def lrs() -> Iterator[str]:
    _Lrs.stored, _Lrs.accepted, _Lrs.posts = {}, Counter(), 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Lrs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/xapi/"
    server.shutdown()
    server.server_close()


def test_lrs_receives_each_statement_once_across_retries(
    filled: Store, content: Content, lrs: str
) -> None:
    items = list(xapi.statements(filled, content))
    result = xapi.send(items, lrs, auth=("hr", "salainen"), batch=4, backoff=0.01)
    assert set(_Lrs.stored) == {s["id"] for s in items}
    assert set(_Lrs.accepted.values()) == {1}
    assert result.sent + result.already_there == len(items)
    assert result.already_there == 4  # the batch whose response was lost
    again = xapi.send(items, lrs, auth=("hr", "salainen"), batch=50, backoff=0.01)
    assert again.sent == len(items)  # a conformant LRS ignores same-id statements
    with pytest.raises(ExportError, match="SOMEQUIZ_LRS_USER") as refused:
        xapi.send(items, lrs, auth=("hr", "väärä"), backoff=0.01)
    assert isinstance(refused.value, xapi.DeliveryError)
    assert refused.value.result == xapi.Sent(0, 0, 0, len(items))  # lookups refused too
    assert f"0 puuttuu ja {len(items)} lausekkeen tilaa ei voitu tarkistaa" in str(refused.value)


def test_unreachable_lrs_says_what_to_do(filled: Store, content: Content) -> None:
    items = list(xapi.statements(filled, content))[:2]
    with pytest.raises(xapi.DeliveryError, match="Aja komento myöhemmin uudelleen") as failed:
        xapi.send(items, "http://127.0.0.1:9/xapi", auth=None, retries=1, backoff=0.01, timeout=1)
    assert failed.value.result == xapi.Sent(0, 0, 0, 2)
    assert "ei vastaa" in str(failed.value) and "löytyi 0 / 2 lauseketta" in str(failed.value)
