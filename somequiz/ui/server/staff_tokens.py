"""Staff tokens (HR and trainer servers): wrong guesses are throttled and tokens are not logged.

Runs in the Voilà server process. A token is tried in the URL (``?token=``), in an
``Authorization: token`` header or in Voilà's login form. Per client address, after
``SOMEQUIZ_STAFF_TOKEN_FAILURES`` wrong tokens (default 10) one more may be tried a minute;
until then every request carrying a token is answered 429 with a Finnish page, before the
token is compared, so guessing stays slow however fast the guesser is. Tokens are at least 24
characters (:mod:`somequiz.commands.staff`): 10 guesses a minute try nothing in a lifetime.

Tornado's logs write a request's whole address, so a staff link with a wrong token (or a
right one on a 404) put the token in the log: :func:`redact_logs` has them redacted.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from jupyter_server.auth.identity import PasswordIdentityProvider
from tornado import web

from somequiz.config import settings
from somequiz.i18n import Messages
from somequiz.ui.render import render
from somequiz.ui.server.limits import RateLimiter, client_address, networks

log = logging.getLogger("somequiz.ui.server.staff_tokens")
#: Query parameters never written to the log.
SECRET_PARAMETERS = ("token", "_xsrf", "password")
REDACTED = "[poistettu]"
_SECRET = re.compile(rf"([?&](?:{'|'.join(SECRET_PARAMETERS)})=)[^&\s#)'\"]+")


class ThrottledTokens(PasswordIdentityProvider):
    """Voilà's token check, with wrong tokens counted per client address."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        options = settings()
        # A burst of wrong tokens, then one more a minute.
        self.failures = RateLimiter(1, burst=options.staff_token_failures)
        self.trusted = networks(options.trusted_proxies.split(","))

    def _address(self, handler: Any) -> str:
        return client_address(handler.request, self.trusted)

    def _refuse_if_throttled(self, handler: Any) -> None:
        wait = self.failures.waiting(self._address(handler))
        if wait > 0:
            handler.set_status(429)
            handler.set_header("Retry-After", str(math.ceil(wait)))
            handler.set_header("Content-Type", "text/html; charset=UTF-8")
            handler.set_header("Cache-Control", "no-store")
            messages = [Messages("fi"), Messages("sv"), Messages("en")]
            raise web.Finish(
                render(
                    "busy.html",
                    messages[0],
                    pages=messages,
                    title_key="token_wait_title",
                    text_key="token_wait",
                    kept=False,
                )
            )

    def _failed(self, handler: Any) -> None:
        address = self._address(handler)
        self.failures.wait(address)
        log.warning("wrong staff token from %s", address)

    async def get_user_token(self, handler: web.RequestHandler) -> Any:
        """The user of a request's token (URL or header); a wrong one is counted."""
        offered = self.get_token(handler)
        if offered:
            self._refuse_if_throttled(handler)
        user = await super().get_user_token(handler)
        if offered and user is None and self.token:
            self._failed(handler)
        return user

    def process_login_form(self, handler: web.RequestHandler) -> Any:
        """The user of the login form's token; a wrong one is counted."""
        self._refuse_if_throttled(handler)
        user = super().process_login_form(handler)
        if user is None:
            self._failed(handler)
        return user


def redact(text: str) -> str:
    """``text`` with the values of the :data:`SECRET_PARAMETERS` in its addresses replaced."""
    return _SECRET.sub(rf"\1{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """A log filter that redacts tokens in the addresses a record names."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record``'s message when it names a secret; keep every record."""
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_logs() -> None:
    """Redact tokens in tornado's logs: the access log and its error lines each write a
    request's whole address (``GET /voila/render/...?token=...``)."""
    for name in ("tornado.access", "tornado.general", "tornado.application"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
