"""The staff servers' sign-in page in Finnish, instead of Jupyter's English one.

A staff page opened without its token (an address cut short in an e-mail, a bookmark without
the token) lands on ``/login``. Jupyter's form there is in English and titled "Jupyter
Server"; this one says in Finnish what the page is and asks for the token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup

from somequiz.i18n import Messages
from somequiz.reports.dashboard_html import TEMPLATES
from somequiz.ui import STYLESHEET

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)


def sign_in_page(action: str, xsrf: str, wrong: bool) -> str:
    """The sign-in page posting the token to ``action``; ``wrong`` after a wrong token."""
    return _ENV.get_template("sign_in.html.j2").render(
        t=Messages("fi"),
        # The course's own stylesheet, not user text: escaping would break its quotes.
        css=Markup(STYLESHEET.read_text(encoding="utf-8")),
        action=action,
        xsrf=xsrf,
        wrong=wrong,
    )


def finnish_sign_in(spec: Any) -> Any:
    """A handler spec whose ``/login`` page is :func:`sign_in_page` (others as they are)."""
    from voila.voila_identity_provider import VoilaLoginHandler

    pattern, handler, *rest = spec
    if not pattern.endswith("/login") or not issubclass(handler, VoilaLoginHandler):
        return spec

    class FinnishSignIn(handler):  # type: ignore[misc, valid-type]
        def _render(self, message: Any = None) -> None:
            query = urlencode({"next": self.get_argument("next", default=self.base_url)})
            token = self.xsrf_token
            self.write(
                sign_in_page(
                    f"{self.base_url}login?{query}",
                    token.decode("ascii") if isinstance(token, bytes) else str(token),
                    message is not None,
                )
            )

    return (pattern, FinnishSignIn, *rest)
