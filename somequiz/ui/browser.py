"""The learner's browser, as the learner server knows it: a signed, HttpOnly cookie.

Runs in the Voilà server process. Every page load gets (or keeps) a random browser id in the
cookie ``somequiz_browser`` (signed with the records' secret key, so every learner process
behind nginx reads it alike; HttpOnly, SameSite=Lax, Secure over HTTPS, gone when the browser
closes). The page's kernel is started with that id in its environment and is bound to it:
the kernel's websocket, its REST resource and the shutdown beacon answer 403 to any other
browser, so a kernel id read from someone's page lets nobody act for its learner. The course
service uses the same id to remember who signed in (``somequiz.records.sessions``).
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from tornado import web

from somequiz.config import settings
from somequiz.store import load_secret

COOKIE = "somequiz_browser"
HANDLER_ATTRIBUTE = "somequiz_browser"


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
    setattr(handler, HANDLER_ATTRIBUTE, browser)
    return browser


def page_browser(handler: Any) -> str | None:
    """The browser id :func:`identify` gave the page request ``handler``."""
    value = getattr(handler, HANDLER_ATTRIBUTE, None)
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
