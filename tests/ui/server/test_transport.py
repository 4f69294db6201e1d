"""The servers' connections and cookies (issue 16, low): a client that never finishes its
request's headers is let go, and every cookie is SameSite, and Secure behind TLS."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from browser.server_helpers import Server, start_server, stop_server
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from somequiz.ui.server.limits import networks
from somequiz.ui.server.transport import came_over_https

IDLE_S = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A learner server that gives a client ``IDLE_S`` seconds for its headers."""
    started = start_server(
        tmp_path_factory.mktemp("transport"),
        env_extra={"SOMEQUIZ_HTTP_IDLE_TIMEOUT": str(IDLE_S)},
    )
    yield started
    stop_server(started.process)


def test_a_half_open_request_is_closed(server: Server) -> None:
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=5 * IDLE_S) as conn:
        conn.sendall(b"GET /voila/tree HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        try:
            closed = conn.recv(1024) == b""
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            closed = False
    assert closed, f"still open after {5 * IDLE_S} s"
    assert time.monotonic() - started < 4 * IDLE_S


def _cookies(response: requests.Response) -> list[str]:
    return list(response.raw.headers.getlist("Set-Cookie"))


def test_cookies_are_samesite_and_secure_behind_tls(server: Server) -> None:
    plain = requests.get(server.page_url(), timeout=120)
    assert {c.split("=")[0] for c in _cookies(plain)} >= {"_xsrf", "somequiz_browser"}
    for cookie in _cookies(plain):
        assert "SameSite=" in cookie and "Secure" not in cookie, cookie
    # Through the trusted proxy (nginx on this machine), which says the browser used HTTPS.
    behind = requests.get(server.page_url(), headers={"X-Forwarded-Proto": "https"}, timeout=120)
    assert _cookies(behind)
    for cookie in _cookies(behind):
        assert "SameSite=" in cookie and "; Secure" in cookie, cookie


def _request(peer: str, proto: str) -> HTTPServerRequest:
    request = HTTPServerRequest(
        start_line=RequestStartLine("GET", "/", "HTTP/1.1"), headers=HTTPHeaders(Host="x")
    )
    request.remote_ip = peer
    if proto:
        request.headers["X-Forwarded-Proto"] = proto
    return request


def test_only_a_trusted_proxy_is_believed_about_https() -> None:
    trusted = networks(["127.0.0.1", "::1"])
    assert came_over_https(_request("127.0.0.1", "https"), trusted)
    assert not came_over_https(_request("127.0.0.1", "http"), trusted)
    assert not came_over_https(_request("10.1.2.3", "https"), trusted)
    assert not came_over_https(_request("not an address", "https"), trusted)
