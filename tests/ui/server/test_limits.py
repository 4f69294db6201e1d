"""The overload guards in-process: rate limiter, client address behind a proxy, the friendly
page, and the kernel manager's cap (the real server is in test_overload.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from tornado import web

from somequiz.errors import ConfigError
from somequiz.ui.server.limits import (
    ADDRESS_ATTRIBUTE,
    MAX_BUFFERED_BYTES,
    CappedKernelManager,
    PageKernelManager,
    PageLoadGuard,
    RateLimiter,
    busy_page,
    client_address,
    networks,
)

LOCAL = networks(["127.0.0.1", "::1"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Request:
    remote_ip: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Handler:
    request: Request
    kernel_manager: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hooked: bool = False

    def set_status(self, status: int) -> None:
        self.status = status

    def set_header(self, name: str, value: str) -> None:
        self.headers[name] = value


def test_rate_limiter_allows_a_burst_then_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)  # one token every 10 s
    assert [limiter.wait("a") for _ in range(6)] == [0.0] * 6
    assert limiter.wait("a") == pytest.approx(10.0)
    assert limiter.wait("b") == 0.0  # per key
    clock.now += 10
    assert limiter.wait("a") == 0.0
    assert limiter.wait("a") > 0


def test_rate_limiter_off_and_memory_bounded() -> None:
    assert RateLimiter(0).wait("x") == 0.0
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    for n in range(999):
        limiter.wait(f"10.0.{n // 256}.{n % 256}")
    clock.now += 120  # everyone's bucket is full again
    limiter.wait("last")  # the thousandth call prunes
    assert len(limiter._buckets) == 1


def test_client_address_trusts_only_the_local_proxy() -> None:
    # Direct client: its own headers are ignored.
    spoofed = Request("203.0.113.5", {"X-Forwarded-For": "10.9.9.9"})
    assert client_address(spoofed, LOCAL) == "203.0.113.5"
    # Behind nginx ($proxy_add_x_forwarded_for appends the real peer): the rightmost entry.
    proxied = Request("127.0.0.1", {"X-Forwarded-For": "6.6.6.6, 198.51.100.7"})
    assert client_address(proxied, LOCAL) == "198.51.100.7"
    assert client_address(Request("127.0.0.1"), LOCAL) == "127.0.0.1"
    garbage = Request("127.0.0.1", {"X-Forwarded-For": "not-an-address"})
    assert client_address(garbage, LOCAL) == "127.0.0.1"
    with pytest.raises(ConfigError, match="SOMEQUIZ_TRUSTED_PROXIES"):
        networks(["localhost"])


def test_busy_pages_are_friendly_and_in_three_languages() -> None:
    full = busy_page("full")
    assert "Kurssi on juuri nyt täynnä – yritä hetken päästä uudelleen." in full
    assert 'lang="sv"' in full and 'lang="en"' in full and "Edistymisesi on tallessa" in full
    assert "Hetki, ole hyvä" in busy_page("rate")


def test_guard_turns_away_over_the_rate_with_429() -> None:
    guard = PageLoadGuard(2, ["127.0.0.1"], then=lambda h, **_: setattr(h, "hooked", True))
    first = Handler(Request("192.0.2.1"))
    guard(first)
    assert first.hooked
    guard(Handler(Request("192.0.2.1")))
    third = Handler(Request("192.0.2.1"))
    with pytest.raises(web.Finish) as finish:
        guard(third)
    assert third.status == 429 and int(third.headers["Retry-After"]) == 30
    assert "liian monta kertaa" in finish.value.args[0]
    assert not third.hooked


def test_kernel_manager_refuses_at_the_cap() -> None:
    manager = CappedKernelManager(max_kernels=2)
    assert not manager.at_capacity()
    manager._starting = 2  # two starting right now count as used
    assert manager.at_capacity()
    guard = PageLoadGuard(0, [])
    handler = Handler(Request("192.0.2.9"), kernel_manager=manager)
    with pytest.raises(web.Finish):
        guard(handler)
    assert handler.status == 503 and handler.headers["Retry-After"] == "60"
    # A thread of its own: Playwright's sync API may have left a loop running in this one.
    with pytest.raises(web.HTTPError) as error, ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, manager.start_kernel(kernel_name="python3")).result()
    assert error.value.status_code == 503
    assert CappedKernelManager(max_kernels=0).at_capacity() is False


def test_rate_limiter_takes_a_cost() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)  # a token a second
    assert limiter.wait("k", 50) == 0.0
    assert limiter.wait("k", 20) == pytest.approx(10.0)  # 10 left, 20 asked
    assert limiter.wait("k", 10) == 0.0


class Stream:
    """A kernel channel as jupyter_server buffers it: its receive callback can be fed."""

    def __init__(self) -> None:
        self.receive: Any = None
        self.socket = self
        self.closed = False

    def on_recv(self, callback: Any) -> None:
        self.receive = callback

    def close(self) -> None:
        self.closed = True


def test_messages_kept_for_a_disconnected_page_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager = CappedKernelManager()
    monkeypatch.setattr(manager, "_check_kernel_id", lambda kernel_id: None)
    iopub = Stream()
    manager.start_buffering("k1", "k1:page", {"iopub": iopub})
    message = [b"x" * 100_000]
    for _ in range(MAX_BUFFERED_BYTES // 100_000):
        iopub.receive(message)
    # Under the bound, kept for the page's reconnect (a network blip).
    assert len(manager._kernel_buffers["k1"]["buffer"]) == MAX_BUFFERED_BYTES // 100_000
    iopub.receive(message)
    # Over it, dropped and no longer buffered.
    assert "k1" not in manager._kernel_buffers and iopub.closed
    # jupyter_server leaves get_buffer unannotated.
    assert manager.get_buffer("k1", "k1:page") is None  # type: ignore[no-untyped-call]


def test_guard_takes_only_a_short_burst_of_page_loads() -> None:
    guard = PageLoadGuard(60, [], burst=3)
    for _ in range(3):
        guard(Handler(Request("192.0.2.7")))
    fourth = Handler(Request("192.0.2.7"))
    with pytest.raises(web.Finish):
        guard(fourth)
    assert fourth.status == 429 and fourth.headers["Retry-After"] == "1"
    guard(Handler(Request("192.0.2.8")))  # another address has its own burst


def test_one_address_holds_at_most_its_share_of_pages() -> None:
    manager = CappedKernelManager(max_kernels=100)
    manager.addresses.update({"k1": "192.0.2.5", "k2": "192.0.2.5", "k3": "192.0.2.6"})
    guard = PageLoadGuard(0, [], per_address=2)
    third = Handler(Request("192.0.2.5"), kernel_manager=manager)
    with pytest.raises(web.Finish) as finish:
        guard(third)
    assert third.status == 429 and "liian monta kertaa" in finish.value.args[0]
    other = Handler(Request("192.0.2.6"), kernel_manager=manager)
    guard(other)  # one page there: allowed, and remembered for the kernel about to start
    assert getattr(other, ADDRESS_ATTRIBUTE) == "192.0.2.6"
    manager.addresses.pop("k1")  # what remove_kernel does when that page's kernel ends
    guard(Handler(Request("192.0.2.5"), kernel_manager=manager))  # a page closed: room again


def test_page_kernels_share_one_event_logger_with_the_schemas_registered_once() -> None:
    manager = CappedKernelManager()
    first = manager.kernel_manager_factory(parent=manager)
    second = manager.kernel_manager_factory(parent=manager)
    assert isinstance(first, PageKernelManager)
    assert first.event_logger is second.event_logger
    assert any("kernel_actions" in str(schema) for schema in first.event_logger.schemas.schema_ids)
