"""The learner's browser, as the learner server knows it: a signed, HttpOnly cookie.

Runs in the Voilà server process. Every page load gets (or keeps) a random browser id in the
cookie ``somequiz_browser`` (signed with the records' secret key, so every learner process
behind nginx reads it alike; HttpOnly, SameSite=Lax, Secure over HTTPS, gone when the browser
closes). The page's kernel is started with that id in its environment and is bound to it:
the kernel's websocket, its REST resource and the shutdown beacon answer 403 to any other
browser, so a kernel id read from someone's page lets nobody act for its learner. The course
service uses the same id to remember who signed in (``somequiz.records.sessions``).

What even the page's own browser can make the server hold through the kernel's websocket is
bounded by :class:`KernelSocketLimits`: message size and rate, the comms it may open, the
bytes it leaves unread, and the connections per kernel.
"""

from __future__ import annotations

import json
import logging
import secrets
from asyncio import Future
from functools import cache, partial
from typing import Any, ClassVar

from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1
from tornado import web

from somequiz.config import settings
from somequiz.records.store import load_secret
from somequiz.ui.server.limits import BROWSER_ATTRIBUTE, RateLimiter

log = logging.getLogger("somequiz.ui.server.browser")
COOKIE = "somequiz_browser"


@cache
def _secret() -> bytes:
    return load_secret(settings().results)


def read(handler: Any) -> str | None:
    """The browser id in the request's cookie, if it carries a valid one."""
    raw = handler.get_cookie(COOKIE)
    if not raw:
        return None
    value = web.decode_signed_value(_secret(), COOKIE, raw, max_age_days=1)
    return value.decode("ascii") if value else None


def identify(handler: Any) -> str:
    """The browser id of a page request; a new browser gets one (and its cookie)."""
    browser = read(handler)
    if browser is None:
        browser = secrets.token_hex(16)
        signed = web.create_signed_value(_secret(), COOKIE, browser).decode("ascii")
        handler.set_cookie(
            COOKIE,
            signed,
            httponly=True,
            samesite="Lax",
            secure=handler.request.protocol == "https",
            path="/",
        )
    setattr(handler, BROWSER_ATTRIBUTE, browser)
    return browser


def page_browser(handler: Any) -> str | None:
    """The browser id :func:`identify` gave the page request ``handler``."""
    value = getattr(handler, BROWSER_ATTRIBUTE, None)
    return value if isinstance(value, str) else None


class BoundToBrowser:
    """Handler mix-in: a kernel's resources answer only the browser its page was loaded in."""

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        result = super().prepare(*args, **kwargs)  # type: ignore[misc]
        if result is not None:
            await result
        handler: Any = self
        # Voilà's kernel routes name the id (kernel_id); its shutdown route does not.
        kernel_id = handler.path_kwargs.get("kernel_id") or next(iter(handler.path_args), "")
        owners = getattr(handler.kernel_manager, "browsers", {})
        if kernel_id in owners and read(handler) != owners[kernel_id]:
            raise web.HTTPError(403, "This page belongs to another browser")


#: The largest message a kernel websocket takes from the browser. The page's largest is an
#: "unclear step" note: 6.9 KB measured for 2,000 characters that JSON escapes, 12.4 KB at
#: worst (2,000 control characters); every other message it sends is under 1 KB.
MAX_MESSAGE_BYTES = 64 * 1024
#: Messages one page's kernel takes from the browser: a burst of this many, refilled at as
#: many a minute; a message counts once per started ``INBOUND_UNIT`` bytes. A whole course
#: sends about 20 (20 KB). A faster sender outruns its kernel and the backlog stays in the
#: server (60 KB messages as fast as loopback took them, with the other bounds here in place:
#: 124 → 451 MiB in 30 s); and each ``request_states`` makes the kernel send all widget
#: states (25–39 KB).
INBOUND_PER_MINUTE = 240
INBOUND_UNIT = 4096
#: Bytes written to one browser that it has not taken yet; beyond them the socket is closed.
#: The page's largest message is 39 KB (the result screen), 160 KB over a whole course.
MAX_PENDING_BYTES = 1024 * 1024
#: Kernel websockets open at once per kernel: the page keeps one (a reconnect may overlap it).
MAX_SOCKETS_PER_KERNEL = 4
#: The comms a page opens: its widget manager's control comm, to load the widgets. The page's
#: widgets are all made in the kernel, so a ``jupyter.widget`` comm from a browser only makes
#: the kernel build whatever widget it describes (issue 16: 40 messages, 46 → 230 MiB).
PAGE_COMM_TARGETS = frozenset({"jupyter.widget.control"})
#: Comms one connection may open: the page opens one (and closes it once loaded).
MAX_COMM_OPENS = 4
_V1 = "v1.kernel.websocket.jupyter.org"


def read_v1(message: bytes) -> tuple[dict[str, Any], bytes]:
    """A browser message's header and its content's JSON, from the v1 framing the page uses.

    jupyter_server's reader trusts the offset count a message states: 72 bytes claiming 10⁷
    offsets kept it busy for 2.8 s (the server's loop blocked) and ~170 MiB. The count is
    checked against the message's length first. Raises ``ValueError`` for a malformed one.
    """
    count = int.from_bytes(message[:8], "little")
    # Offsets of: channel, header, parent header, metadata, content, end (buffers between).
    if not 6 <= count < len(message) // 8:
        raise ValueError(f"{count} offsets in {len(message)} bytes")
    try:
        _, parts = deserialize_msg_from_ws_v1(message)  # type: ignore[no-untyped-call]
        header = json.loads(parts[0])
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(header, dict):
        raise ValueError("the header is no JSON object")
    return header, parts[3]


def _comm_target(content: bytes) -> str:
    """The ``target_name`` of a ``comm_open`` message's content ("" if it names none)."""
    parsed = json.loads(content)
    target = parsed.get("target_name") if isinstance(parsed, dict) else None
    return target if isinstance(target, str) else ""


class KernelSocketLimits:
    """Kernel websocket mix-in: bounds on what one page's connections make the server hold.

    ipywidgets echoed every state update a browser sent (off in learner kernels now, see
    :mod:`somequiz.ui.kernel.main`), tornado buffers without limit what a client does not read,
    and the server queues without limit what a kernel has not yet taken: one connection
    sending 9 MB updates grew the server by 950 MiB (issue 16).
    """

    _sockets: ClassVar[dict[str, int]] = {}  # open connections per kernel id
    _inbound: ClassVar[RateLimiter] = RateLimiter(INBOUND_PER_MINUTE)  # per kernel id
    _counted = ""  # the kernel id this connection is counted for
    _pending = 0  # bytes written and not yet taken by the browser
    _comm_opens = 0
    _warned = False

    @property
    def max_message_size(self) -> int:
        """Tornado closes a connection whose message is larger (code 1009)."""
        return MAX_MESSAGE_BYTES

    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Open the websocket unless the kernel has its share of them already."""
        handler: Any = self
        kernel_id = str(handler.path_kwargs.get("kernel_id", ""))
        # Counted before the first await: concurrent requests cannot overshoot.
        if self._sockets.get(kernel_id, 0) >= MAX_SOCKETS_PER_KERNEL:
            log.warning("kernel %s: websocket refused, %d open", kernel_id, MAX_SOCKETS_PER_KERNEL)
            # A plain answer: jupyter_server's error page needs settings Voilà has not.
            handler.set_status(429)
            raise web.Finish("Too many connections to this kernel")
        self._sockets[kernel_id] = self._sockets.get(kernel_id, 0) + 1
        self._counted = kernel_id
        try:
            await super().get(*args, **kwargs)  # type: ignore[misc]
        finally:
            if handler.ws_connection is None:  # refused, or closed already
                self._release()

    def on_close(self) -> None:
        """Forget the connection."""
        self._release()
        super().on_close()  # type: ignore[misc]

    def _release(self) -> None:
        if self._counted:
            left = self._sockets.get(self._counted, 1) - 1
            if left > 0:
                self._sockets[self._counted] = left
            else:
                self._sockets.pop(self._counted, None)
            self._counted = ""

    def on_message(self, message: str | bytes) -> Any:
        """Pass on a message from the browser, unless it is one a page never sends."""
        handler: Any = self
        if handler.ws_connection is None or handler.ws_connection.is_closing():
            return None  # tornado reads on while a closed connection winds down
        # Per kernel, not per connection: a new connection gets no new allowance.
        cost = max(1, -(-len(message) // INBOUND_UNIT))
        if self._inbound.wait(self._counted, cost) > 0:
            return self._close(1008, "too many messages")
        refused = self._refusal(message)
        if refused == "malformed":
            return self._close(1007, "malformed message")
        if refused:
            # Logged once per connection: a client must not fill the log either.
            if not self._warned:
                log.warning("kernel websocket: %s ignored", refused)
            self._warned = True
            return None
        return super().on_message(message)  # type: ignore[misc]

    def _refusal(self, message: str | bytes) -> str:
        """Why ``message`` is not passed on ("malformed": the connection is closed), or ""."""
        handler: Any = self
        # The page speaks the v1 framing only; the legacy ones are not read at all.
        if isinstance(message, str) or handler.selected_subprotocol != _V1:
            return "malformed"
        try:
            header, content = read_v1(message)
            if header.get("msg_type") != "comm_open":
                return ""
            target = _comm_target(content)
        except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
            return "malformed"
        if target not in PAGE_COMM_TARGETS:
            return f"comm_open to {target!r}"
        if self._comm_opens >= MAX_COMM_OPENS:
            return "comm_open over the connection's budget"
        self._comm_opens += 1
        return ""

    def _close(self, code: int, reason: str) -> None:
        log.warning("kernel websocket closed: %s", reason)
        handler: Any = self
        handler.close(code, reason)

    def write_message(self, message: Any, binary: bool = False) -> Future[None] | None:
        """Write to the browser; close the connection when its unread bytes pile up."""
        handler: Any = self
        connection = handler.ws_connection
        if connection is None or connection.is_closing():
            return None  # the kernel's messages keep coming until the socket is gone
        size = len(message if isinstance(message, str | bytes) else json.dumps(message))
        if self._pending + size > MAX_PENDING_BYTES:
            self._close(1008, f"{self._pending} bytes not read by the browser")
            return None
        written: Future[None] | None = super().write_message(message, binary)  # type: ignore[misc]
        if written is not None:
            self._pending += size
            written.add_done_callback(partial(self._taken, size))
        return written

    def _taken(self, size: int, written: Future[None]) -> None:
        self._pending -= size
        if not written.cancelled():
            written.exception()  # a write to a socket closed meanwhile: nothing to report
