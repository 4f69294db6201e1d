"""Staff tokens (issue 16, low): wrong ones are throttled per address, and no token reaches
the access log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from browser.server_helpers import Server, start_server, stop_server

from somequiz.i18n import Messages
from somequiz.ui.server.limits import RateLimiter
from somequiz.ui.server.staff_tokens import REDACTED, redact

TOKEN = "test-token-hr-7d2e-pitka-ja-satunnainen"
WRONG = "vaara-tunnus-0123456789abcdefghij"
FAILURES = 3


@pytest.fixture(scope="module")
def hr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An HR server that lets an address try ``FAILURES`` wrong tokens, then one a minute."""
    started = start_server(
        tmp_path_factory.mktemp("hr"),
        command="hr",
        env_extra={
            "SOMEQUIZ_HR_TOKEN": TOKEN,
            "SOMEQUIZ_STAFF_TOKEN_FAILURES": str(FAILURES),
        },
        query=f"?token={TOKEN}",
    )
    yield started
    stop_server(started.process)


def test_redact_hides_tokens_and_keeps_the_rest() -> None:
    assert redact("/voila/tree") == "/voila/tree"
    redacted = redact(f"404 GET /voila/render/x.ipynb?a=1&token={TOKEN}&_xsrf=abc (::1)")
    assert TOKEN not in redacted and "abc" not in redacted
    assert redacted == f"404 GET /voila/render/x.ipynb?a=1&token={REDACTED}&_xsrf={REDACTED} (::1)"


def test_waiting_tells_without_taking() -> None:
    now = [0.0]
    limiter = RateLimiter(1, clock=lambda: now[0], burst=2)
    assert limiter.waiting("a") == 0
    assert limiter.waiting("a") == 0  # asking takes nothing
    limiter.wait("a")
    limiter.wait("a")
    assert limiter.waiting("a") == pytest.approx(60)
    now[0] = 30
    assert limiter.waiting("a") == pytest.approx(30)


def test_wrong_tokens_are_throttled_and_no_token_is_logged(hr: Server) -> None:
    page = f"{hr.url}/voila/render/dashboard.ipynb"
    # A right token on a page that does not exist: a 404 whose address carries the token.
    missing = requests.get(f"{hr.url}/voila/render/nothing.ipynb?token={TOKEN}", timeout=30)
    assert missing.status_code == 404
    for _ in range(FAILURES):
        wrong = requests.get(f"{page}?token={WRONG}", timeout=30, allow_redirects=False)
        assert wrong.status_code in {302, 403}
    throttled = requests.get(f"{page}?token={WRONG}", timeout=30, allow_redirects=False)
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 60
    assert Messages("fi")("token_wait_title") in throttled.text
    # Compared no more: the right token waits too (from this address), and the login form.
    right = requests.get(f"{page}?token={TOKEN}", timeout=30, allow_redirects=False)
    assert right.status_code == 429
    session = requests.Session()
    session.get(f"{hr.url}/login", timeout=30)
    form = {"password": WRONG, "_xsrf": session.cookies.get("_xsrf", "")}
    assert session.post(f"{hr.url}/login", data=form, timeout=30).status_code == 429
    log = hr.log.read_text()
    assert "404 GET /voila/render/nothing.ipynb?token=" in log
    assert TOKEN not in log
    assert WRONG not in log
