"""The browser is not trusted: private files, the answer key and forged comm messages."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import websocket
from browser_helpers import (
    TIMEOUT,
    KernelSocket,
    answer,
    kernel_id,
    next_step,
    open_course,
    open_scenario,
    page_socket,
    sign_in,
)
from playwright.sync_api import Page, expect
from records_helpers import Records
from server_helpers import UI_COURSE, Server

from somequiz.content.folder import load_content

PRIVATE = [
    "/voila/files/../../../scenarios/course.yaml",
    "/voila/files/%2e%2e/%2e%2e/scenarios/course.yaml",
    "/voila/files/..%2f..%2fscenarios%2fcourse.yaml",
    "/voila/render/../../scenarios/course.yaml",
    "/voila/files/kurssi.ipynb",
    "/voila/files/skenaariot/toimittaja-soittaa.ipynb",
    "/voila/render/../hr/raportit.ipynb",
    "/voila/render/%2e%2e/hr/raportit.ipynb",
    "/voila/render/../trainer/review-sheet.ipynb",
    "/voila/render/%2e%2e/trainer/review-sheet.ipynb",
    "/voila/render/hr/raportit.ipynb",
    "/voila/files/../../../results/somequiz.db",
    "/voila/files/%2e%2e/%2e%2e/%2e%2e/results/somequiz.db",
    "/voila/api/contents/../trainer",
    "/voila/tree/../trainer",
    "/api/contents/scenarios",
    "/files/scenarios/course.yaml",
    "/tree/scenarios",
]


def _get(server: Server, path: str, redirects: int = 3) -> tuple[int, bytes]:
    # http.client sends the path as written: no client-side normalisation of "..".
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    location = response.getheader("Location", "")
    connection.close()
    if response.status in {301, 302, 307, 308} and redirects and location.startswith("/"):
        return _get(server, location, redirects - 1)
    return response.status, body


@pytest.mark.parametrize("path", PRIVATE)
def test_private_files_are_not_served(server: Server, path: str) -> None:
    status, body = _get(server, path)
    assert status in {403, 404}, f"{path}: {status}"
    assert b"schema_version" not in body and b"SQLite format" not in body


def test_listing_shows_only_learner_notebooks(server: Server) -> None:
    status, body = _get(server, "/voila/api/contents/")
    names = {item["name"] for item in json.loads(body)["content"]} if status == 200 else set()
    assert names <= {"kurssi.ipynb", "skenaariot"}


@pytest.fixture(scope="module")
def content() -> Any:
    """The fixture course the server runs."""
    return load_content(UI_COURSE)


@pytest.fixture
def store(server: Server) -> Iterator[Records]:
    """The server's records, read directly."""
    opened = Records.open(server.database(), migrate=False)
    yield opened
    opened.close()


def _answers(store: Records, content: Any, employee: str) -> list[tuple[str, tuple[str, ...]]]:
    learner = store.course.learner(name="Hyökkääjä", employee_number=employee, unit="Hallinto")
    attempt = store.course.open_attempt(learner.id, content.course.id)
    assert attempt is not None
    return [(a.step_id, a.chosen) for a in store.course.answers(attempt.id)]


def _secrets(content: Any) -> list[str]:
    found = []
    for scenario in content.scenarios.values():
        for step in scenario.steps:
            for choice in step.choices:
                found += [choice.feedback.fi, choice.id]
                found += [choice.consequence.fi] if choice.consequence else []
        found += [ending.text.fi for ending in scenario.endings]
    for _, rule in content.catalogue.rules():
        found.append(rule.text.fi)
    return found


def _step_model(states: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for model_id, model in states.items():
        if "token" in model["state"]:
            return model_id, model["state"]
    raise AssertionError("no choice step in the widget state")


def test_answer_key_absent_from_html_and_widget_state(
    page: Page, server: Server, content: Any
) -> None:
    open_course(page, server.page_url())
    sign_in(page, "Hyökkääjä", employee="H700")
    open_scenario(page, "Väite Facebook-ryhmässä")
    html = page.content()
    socket = page_socket(page, server.url)
    try:
        states = socket.widget_states()
    finally:
        socket.close()
    visible = json.dumps(
        [
            {k: v for k, v in model["state"].items() if k not in {"_esm", "_css"}}
            for model in states.values()
        ],
        ensure_ascii=False,
    )
    for secret in _secrets(content):
        assert secret not in html, secret
        assert secret not in visible, secret
    for word in ('"severity"', '"points"', "Haitallinen", "Paras ratkaisu", "Pisteet"):
        assert word not in visible and word not in html
    _, step = _step_model(states)
    assert [c["id"] for c in step["choices"]] == ["0", "1"]


def _forge_on_the_open_step(page: Page, server: Server) -> None:
    """Over the page's own kernel socket: a "click" on the page's disabled or hidden buttons,
    answers to other steps, choices that do not exist, and a forged "answered" state."""
    socket = page_socket(page, server.url)
    try:
        step_id, step = _step_model(socket.widget_states())
        token = step["token"]

        def custom(data: dict[str, Any]) -> None:
            socket.comm(step_id, {"method": "custom", "content": data})

        custom({"type": "next", "token": token})
        custom({"type": "submit", "token": "0" * 32, "chosen": ["0"]})
        custom({"type": "submit", "token": token, "chosen": ["7"]})
        custom({"type": "submit", "token": token, "chosen": ["-1"]})
        custom({"type": "submit", "token": token, "chosen": ["0", "1"]})
        custom({"type": "submit", "token": token, "chosen": ["kerro-esimiehelle"]})
        socket.comm(
            step_id,
            {"method": "update", "state": {"answered": True, "token": "x"}, "buffer_paths": []},
        )
        custom({"type": "next", "token": "x"})
        socket.drain()
    finally:
        socket.close()


def _resubmit_the_answered_step(page: Page, server: Server) -> None:
    """A second submission of the answered step, then one after moving on."""
    socket = page_socket(page, server.url)
    try:
        step_id, step = _step_model(socket.widget_states())
        again = {
            "method": "custom",
            "content": {"type": "submit", "token": step["token"], "chosen": ["1"]},
        }
        socket.comm(step_id, again)
        socket.drain()
        next_step(page)
        expect(page.locator(".sq-step legend")).to_have_text(
            "Mitkä pitävät paikkansa?", timeout=TIMEOUT
        )
        socket.comm(step_id, again)
        socket.drain()
    finally:
        socket.close()


def test_forged_comm_messages_change_nothing(
    page: Page, server: Server, content: Any, store: Records
) -> None:
    open_course(page, server.page_url())
    sign_in(page, "Hyökkääjä", employee="H800")
    open_scenario(page, "Väite Facebook-ryhmässä")
    _forge_on_the_open_step(page, server)
    assert _answers(store, content, "H800") == []
    page.reload()
    # The browser signed in: the reload recognises it (no form to fill again).
    expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)

    open_scenario(page, "Väite Facebook-ryhmässä")
    expect(page.locator(".sq-step legend")).to_have_text("Mitä teet?")
    answer(page, "Kerron esimiehelleni.")
    _resubmit_the_answered_step(page, server)
    assert _answers(store, content, "H800") == [("ensimmainen", ("kerro-esimiehelle",))]
    expect(page.locator(".sq-step input:checked")).to_have_count(0)


def test_a_kernel_id_is_no_key_to_another_browsers_page(page: Page, server: Server) -> None:
    """The page's kernel answers only the browser the page was loaded in: another client with
    the kernel id (but not the page's signed browser cookie) gets 403 everywhere."""
    open_course(page, server.page_url())
    sign_in(page, "Sidottu Selain", employee="H900")
    expect(page.locator(".sq-scenarios")).to_be_visible(timeout=TIMEOUT)
    kernel = kernel_id(page)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        KernelSocket(server.url, kernel)
    assert refused.value.status_code == 403
    forged = {"somequiz_browser": "2|1:0|10:1700000000|16:somequiz_browser|44:" + "A" * 44 + "|x"}
    with pytest.raises(websocket.WebSocketBadStatusException):
        KernelSocket(server.url, kernel, cookies=forged)
    other = requests.Session()
    other.get(f"{server.url}/voila/tree", timeout=10)  # an _xsrf cookie of its own
    xsrf = other.cookies.get("_xsrf", "")
    assert other.get(f"{server.url}/api/kernels/{kernel}", timeout=10).status_code == 403
    gone = other.post(f"{server.url}/voila/api/shutdown/{kernel}", data={"_xsrf": xsrf}, timeout=10)
    assert gone.status_code == 403
    assert other.delete(f"{server.url}/api/kernels/{kernel}", timeout=10).status_code in {403}
    # The page itself still works, and its own socket is accepted.
    socket = page_socket(page, server.url)
    socket.close()
    expect(page.locator(".sq-scenarios")).to_be_visible()


def test_odd_paths_answer_404_not_a_server_error(server: Server) -> None:
    for path in ("/logout", "/voila/templates/x", "/voila/templates/lab/nope/x.js"):
        response = requests.get(f"{server.url}{path}", timeout=10, allow_redirects=False)
        assert response.status_code == 404, (path, response.status_code)


def test_pages_send_no_referrer_and_cannot_be_framed(server: Server) -> None:
    response = requests.get(server.page_url(), timeout=60)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
