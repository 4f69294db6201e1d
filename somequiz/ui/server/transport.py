"""How the servers' HTTP connections and cookies are handled (issue 16, low items).

Runs in the Voilà server process, for the learner and the staff servers alike.

* Connection timeouts: Voilà starts tornado's HTTP server with its defaults, which wait an
  hour for a request's headers, so a client without nginx in front could hold 1,500
  half-open connections. Here a client has ``SOMEQUIZ_HTTP_IDLE_TIMEOUT`` seconds (30) to
  send its headers or to use a kept-alive connection again, ``SOMEQUIZ_HTTP_BODY_TIMEOUT``
  (60) for a body. An open kernel websocket is no longer an HTTP connection: not affected.
* Cookie flags: Voilà's ``_xsrf`` and login cookies had no ``SameSite``, and behind nginx
  (TLS ends there) no cookie was ``Secure``: tornado sees plain HTTP. Every cookie the
  servers set gets ``SameSite=Lax``, and ``Secure`` when the request came over HTTPS, itself
  or through a trusted proxy that says so (``X-Forwarded-Proto: https``), or always with
  ``SOMEQUIZ_SECURE_COOKIES``.
"""

from __future__ import annotations

import ipaddress
from functools import partial
from typing import Any

from tornado import httputil, web

from somequiz.config import settings
from somequiz.ui.server.limits import networks


def came_over_https(request: httputil.HTTPServerRequest, trusted: list[Any]) -> bool:
    """Whether the browser reached us over HTTPS (the proxy's word only if it is trusted)."""
    if request.protocol == "https":
        return True
    try:
        peer = ipaddress.ip_address(request.remote_ip or "")
    except ValueError:
        return False
    if not any(peer in network for network in trusted):
        return False
    return request.headers.get("X-Forwarded-Proto", "").strip().lower() == "https"


def _with_flags(cookie: str, secure: bool) -> str:
    # The attributes after the cookie's name=value, as tornado writes them ("; Name=value").
    names = {part.split("=")[0].strip().lower() for part in cookie.split(";")[1:]}
    if "samesite" not in names:
        cookie += "; SameSite=Lax"
    if secure and "secure" not in names:
        cookie += "; Secure"
    return cookie


class _FlaggedHeaders(httputil.HTTPHeaders):
    """Response headers that put the flags on every ``Set-Cookie`` line added to them."""

    secure = False

    def add(self, name: str, value: str, *args: Any, **kwargs: Any) -> None:
        """Add a header; a cookie with ``SameSite`` (and ``Secure``) flags."""
        if name.lower() == "set-cookie":
            value = _with_flags(value, self.secure)
        super().add(name, value, *args, **kwargs)


class CookieFlags(web.OutputTransform):
    """Adds ``SameSite=Lax`` (and ``Secure`` over HTTPS) to every cookie a response sets.

    Tornado writes a response's cookies into its headers only after the transforms have seen
    them (``RequestHandler.flush``), so the headers are handed back as :class:`_FlaggedHeaders`,
    which flags each cookie as it is added.
    """

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        super().__init__(request)
        options = settings()
        trusted = networks(options.trusted_proxies.split(","))
        self.secure = options.secure_cookies or came_over_https(request, trusted)

    def transform_first_chunk(
        self,
        status_code: int,
        headers: httputil.HTTPHeaders,
        chunk: bytes,
        finishing: bool,
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        """The response's headers, as headers that flag the cookies added to them."""
        flagged = _FlaggedHeaders()
        flagged.secure = self.secure
        for name, value in headers.get_all():
            flagged.add(name, value)
        return status_code, flagged, chunk


def harden(app: web.Application) -> None:
    """Cookie flags on every response of ``app``, timeouts on its connections.

    Voilà calls ``app.listen(port, ip)`` with no server options: the timeouts are bound to
    that call here (tornado hands ``listen``'s keywords to its ``HTTPServer``).
    """
    app.add_transform(CookieFlags)
    options = settings()
    app.listen = partial(  # type: ignore[method-assign]
        app.listen,
        idle_connection_timeout=options.http_idle_timeout,
        body_timeout=options.http_body_timeout,
    )
