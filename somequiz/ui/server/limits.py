"""Overload protection of the learner server: a cap on live kernels and a per-address limit
on new page loads, both answered with a friendly page instead of a new kernel.

Every GET of a render URL starts a kernel (≈ 60 MiB) that lives until the page closes or the
culler ends it, whether or not a browser ever connects. So:

* :class:`CappedKernelManager`, Voilà's kernel manager class, refuses to start a kernel when
  ``max_kernels`` are alive or starting. The count and the decision happen before the first
  ``await``, so concurrent requests cannot overshoot the cap.
* :class:`PageLoadGuard`, Voilà's ``prelaunch_hook``, runs before each page's kernel starts:
  it answers 429 when the client address has used up its page loads, 503 when the cap is
  reached (cheaply, before any rendering), and makes sure the ``_xsrf`` cookie is set.

Both answer with :func:`busy_page` (Finnish first, then Swedish and English) and a
``Retry-After`` header. Nothing here imports ipywidgets: this runs in the server process.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from functools import partial
from typing import Any

from jupyter_events import EventLogger
from jupyter_server.services.kernels.kernelmanager import (
    AsyncMappingKernelManager,
    ServerKernelManager,
)
from tornado import web
from traitlets import Float, Int, default

from somequiz.errors import ConfigError
from somequiz.i18n import Messages
from somequiz.ui.identity import BROWSER_ENV
from somequiz.ui.render import render
from somequiz.ui.server.admission import PageStarts
from somequiz.ui.server.culling import SilentPageCuller, SilentPages

log = logging.getLogger("somequiz.ui.server.limits")
# Where somequiz.ui.server.browser leaves a page request's browser id (defined here: this module
# imports no store, browser.py imports this one).
BROWSER_ATTRIBUTE = "somequiz_browser"
ADDRESS_ATTRIBUTE = "somequiz_address"  # the page request's client address (PageLoadGuard)

FULL_RETRY_AFTER_S = 60
#: What a kernel's messages may fill while its page is disconnected, kept to be replayed when
#: the page reconnects (a network blip: a screen or two, each at most 39 KB). jupyter_server's
#: buffer has no bound: a page that asked for 230 widget states and left had ~6 MB of answers
#: kept until its kernel was culled.
MAX_BUFFERED_BYTES = 1024 * 1024
_PRUNE_EVERY = 1000

# The request whose page is starting a kernel: set by the hook, read by the kernel manager.
# Each tornado request runs in its own task, so the value never leaks to another request.
_page_request: ContextVar[Any] = ContextVar("somequiz_page_request", default=None)


def busy_page(kind: str) -> str:
    """The page for a visitor turned away: ``kind`` is ``"full"`` or ``"rate"``."""
    title_key, text_key = (
        ("busy_title", "busy_full") if kind == "full" else ("busy_rate_title", "busy_rate")
    )
    pages = [Messages("fi"), Messages("sv"), Messages("en")]
    return render("busy.html", pages[0], pages=pages, title_key=title_key, text_key=text_key)


def turn_away(handler: Any, status: int, kind: str, retry_after: int) -> web.Finish:
    """Set the status and headers on ``handler``; raise the result to send the page."""
    handler.set_status(status)
    handler.set_header("Retry-After", str(max(1, retry_after)))
    handler.set_header("Content-Type", "text/html; charset=UTF-8")
    handler.set_header("Cache-Control", "no-store")
    return web.Finish(busy_page(kind))


class PageKernelManager(ServerKernelManager):
    """jupyter_server's manager of one kernel, with one event logger for all of them.

    Outside jupyter_server's own application every kernel made a logger of its own and
    validated the kernel event schemas again: ~6 % of the server's CPU per page start.
    """

    _shared_logger: EventLogger | None = None

    @default("event_logger")
    def _default_event_logger(self) -> EventLogger:
        if PageKernelManager._shared_logger is None:
            PageKernelManager._shared_logger = super()._default_event_logger()
        return PageKernelManager._shared_logger


class CappedKernelManager(AsyncMappingKernelManager):
    """Voilà's kernel manager with a cap on kernels alive or starting."""

    @default("kernel_manager_class")
    def _default_kernel_manager_class(self) -> str:
        return f"{__name__}.PageKernelManager"

    max_kernels = Int(
        0, config=True, help="Kernels alive or starting at most; 0 or less means no cap."
    )
    idle_page_timeout = Float(
        0, config=True, help="Seconds a connected page may be silent; 0: never culled."
    )
    starts_at_once = Int(
        0, config=True, help="Pages starting their kernel at once; 0 or less means no limit."
    )

    _starting = 0  # kernels being started (an instance attribute once counted)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        # The browser each page kernel was started for (see somequiz.ui.server.browser), and the
        # client address it was loaded from (PageLoadGuard's per-address cap).
        self.browsers: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        # Pages whose browser is connected but silent are culled too (somequiz.ui.server.culling).
        self.pages = SilentPages(self.idle_page_timeout)
        self._silent_culler = SilentPageCuller(self.pages, self.shutdown_kernel, self.cull_interval)
        # In a rush, pages start first come, first served (somequiz.ui.server.admission).
        self.page_starts = PageStarts(self.starts_at_once)

    def initialize_culler(self) -> None:
        """Start jupyter_server's culler of unconnected kernels, and the silent pages' one."""
        super().initialize_culler()  # type: ignore[no-untyped-call]
        self._silent_culler.start()

    def kernels_of(self, address: str) -> int:
        """Live kernels of pages loaded from ``address``."""
        return sum(1 for owner in self.addresses.values() if owner == address)

    def kernels_in_use(self) -> int:
        """Kernels alive plus kernels being started right now."""
        return len(self.list_kernel_ids()) + self._starting

    def at_capacity(self) -> bool:
        """Whether one more kernel would exceed the cap."""
        return 0 < self.max_kernels <= self.kernels_in_use()

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        """Start a kernel, or refuse with 503 (the friendly page for a page load) at the cap."""
        # Checked and counted before the first await: no two requests can take the last slot.
        if self.at_capacity():
            log.warning("kernel cap %d reached: page load refused", self.max_kernels)
            handler = _page_request.get()
            if handler is not None:
                raise turn_away(handler, 503, "full", FULL_RETRY_AFTER_S)
            raise web.HTTPError(503, "Kernel cap reached")
        handler = _page_request.get()
        browser = getattr(handler, BROWSER_ATTRIBUTE, None) if handler is not None else None
        if isinstance(browser, str) and isinstance(kwargs.get("env"), dict):
            kwargs["env"] = {**kwargs["env"], BROWSER_ENV: browser}
        self._starting += 1
        try:
            await self.page_starts.enter(handler)
            kernel_id: str = await super().start_kernel(*args, **kwargs)
        finally:
            self._starting -= 1
        if isinstance(browser, str):
            self.browsers[kernel_id] = browser
        self.pages.heard(kernel_id)
        address = getattr(handler, ADDRESS_ATTRIBUTE, None) if handler is not None else None
        if isinstance(address, str):
            self.addresses[kernel_id] = address
        return kernel_id

    def start_buffering(self, kernel_id: str, session_key: str, channels: dict[str, Any]) -> None:
        """Keep the kernel's messages for its page's reconnect, up to ``MAX_BUFFERED_BYTES``."""
        super().start_buffering(kernel_id, session_key, channels)  # type: ignore[no-untyped-call]
        if kernel_id not in self._kernel_buffers:
            return  # not buffering (buffer_offline_messages is off)
        kept = self._kernel_buffers[kernel_id]["buffer"]
        size = 0

        def keep(channel: str, parts: list[bytes]) -> None:
            nonlocal size
            size += sum(len(part) for part in parts)
            if size <= MAX_BUFFERED_BYTES:
                kept.append((channel, parts))
            elif self._kernel_buffers.get(kernel_id, {}).get("buffer") is kept:
                log.warning("kernel %s: over %d bytes buffered, dropped", kernel_id, size)
                self.stop_buffering(kernel_id)  # type: ignore[no-untyped-call]

        for channel, stream in channels.items():
            stream.on_recv(partial(keep, channel))

    def remove_kernel(self, kernel_id: str) -> Any:
        """Forget the kernel and the browser it was bound to."""
        self.browsers.pop(kernel_id, None)
        self.addresses.pop(kernel_id, None)
        self.pages.forget(kernel_id)
        return super().remove_kernel(kernel_id)


class RateLimiter:
    """A token bucket per key: ``per_minute`` events a minute, bursts up to ``burst`` of them."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        burst: int | None = None,
    ) -> None:
        self.capacity = float(per_minute if burst is None else burst)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._calls = 0

    def _tokens(self, key: str, moment: float) -> float:
        tokens, last = self._buckets.get(key, (self.capacity, moment))
        return min(self.capacity, tokens + (moment - last) * self.rate)

    def waiting(self, key: str) -> float:
        """Seconds until ``key`` has a token again (0: it has one), without taking any."""
        if self.capacity <= 0:
            return 0.0
        return max(0.0, (1 - self._tokens(key, self.clock())) / self.rate)

    def wait(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens for ``key``: 0 when allowed, else the seconds until they are."""
        if self.capacity <= 0:
            return 0.0
        moment = self.clock()
        tokens = self._tokens(key, moment)
        self._calls += 1
        if self._calls % _PRUNE_EVERY == 0:
            self._prune(moment)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, moment)
            return 0.0
        self._buckets[key] = (tokens, moment)
        return (cost - tokens) / self.rate

    def _prune(self, moment: float) -> None:
        # A bucket untouched for long enough is full again: forget it (bounded memory).
        full_after = self.capacity / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if moment - v[1] < full_after}


def networks(spec: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The trusted proxies' networks named in ``spec`` (addresses or CIDR networks)."""
    found = []
    for item in (i.strip() for i in spec):
        if item:
            try:
                found.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ConfigError(
                    f"SOMEQUIZ_TRUSTED_PROXIES: '{item}' ei ole IP-osoite eikä verkko. "
                    "Korjaa asetus (esim. 127.0.0.1,::1)."
                ) from None
    return found


def client_address(
    request: Any, trusted: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> str:
    """The client's address: the peer, or behind a trusted proxy the address it forwarded.

    ``X-Forwarded-For`` is read from the right, skipping trusted proxies: the entries left of
    the proxy's own are whatever the client sent and prove nothing. ``X-Real-IP`` is not
    read: nginx passes a client's own ``X-Real-IP`` through unless told to overwrite it.
    """
    peer = str(request.remote_ip or "")

    def is_trusted(address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in trusted)

    if not is_trusted(peer):
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")
    for entry in reversed([e.strip() for e in forwarded.split(",") if e.strip()]):
        if not is_trusted(entry):
            try:
                return str(ipaddress.ip_address(entry))
            except ValueError:
                return peer
    return peer


class PageLoadGuard:
    """Voilà's ``prelaunch_hook``: rate limit and early cap checks, then the hook ``then``.

    Per client address: page loads at ``per_minute`` with bursts of ``burst``, and at most
    ``per_address`` live kernels (0: no cap), so one address cannot fill the server's cap.
    """

    def __init__(
        self,
        per_minute: int,
        trusted_proxies: Iterable[str],
        then: Callable[..., Any] | None = None,
        *,
        burst: int | None = None,
        per_address: int = 0,
    ) -> None:
        # A burst is never larger than a minute's page loads.
        allowed = None if burst is None else min(burst, per_minute)
        self.limiter = RateLimiter(per_minute, burst=allowed)
        self.trusted = networks(trusted_proxies)
        self.then = then
        self.per_address = per_address

    def __call__(self, handler: Any, notebook: Any = None, cwd: str = "") -> None:
        address = client_address(handler.request, self.trusted)
        wait = self.limiter.wait(address)
        if wait > 0:
            log.warning("page load rate limit for %s", address)
            raise turn_away(handler, 429, "rate", math.ceil(wait))
        manager = getattr(handler, "kernel_manager", None)
        if isinstance(manager, CappedKernelManager):
            if manager.at_capacity():
                log.warning("kernel cap %d reached: page load refused", manager.max_kernels)
                raise turn_away(handler, 503, "full", FULL_RETRY_AFTER_S)
            if 0 < self.per_address <= manager.kernels_of(address):
                log.warning("%s holds %d pages: page load refused", address, self.per_address)
                raise turn_away(handler, 429, "rate", FULL_RETRY_AFTER_S)
            setattr(handler, ADDRESS_ATTRIBUTE, address)
            _page_request.set(handler)
        if self.then is not None:
            self.then(handler, notebook=notebook, cwd=cwd)
