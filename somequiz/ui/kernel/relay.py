"""The learner page's kernel side: three widgets that mirror the page the course service keeps.

Every message from the page goes to the service (:mod:`somequiz.ui.service.process`) in the learner
server, which checks, grades, stores and renders; the kernel copies the answer into the
widgets. The kernel imports no content, engine or database code: that keeps each page's kernel
small and quick to start.
"""

from __future__ import annotations

import atexit
import http.client
import json
import socket
from functools import partial
from typing import Any, Protocol, cast

import ipywidgets as widgets

from somequiz.errors import ServiceError
from somequiz.i18n import Messages
from somequiz.i18n.langs import DEFAULT_LANG, LANGS, Lang
from somequiz.ui.errors import Guard, log
from somequiz.ui.identity import SsoIdentity
from somequiz.ui.kernel.widgets import ChoiceStep, Screen

PARTS = ("header", "step", "footer")


class Client(Protocol):
    """How a page reaches the course service."""

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Call ``method`` with a JSON object and return its JSON answer."""
        ...


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the service's Unix socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class SocketClient:
    """The service of the learner server this kernel belongs to."""

    def __init__(self, path: str, timeout: float = 60.0) -> None:
        self.path = path
        self.timeout = timeout

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` to ``/method``; a 410 (page expired) raises ServiceError."""
        connection = _UnixConnection(self.path, self.timeout)
        try:
            connection.request(
                "POST",
                f"/{method}",
                body=json.dumps(payload).encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        try:
            answer = json.loads(body) if body else {}
        except ValueError:
            answer = {"error": body[:200].decode("utf-8", "replace")}
        if response.status == 410:
            raise ServiceError(str(answer.get("error", "")))
        if response.status != 200 or not isinstance(answer, dict):
            raise OSError(f"course service answered {response.status}: {answer!r}")
        return answer


class Relay:
    """One learner page: the widgets, and the id of its session in the service."""

    def __init__(
        self,
        client: Client,
        *,
        scenario_id: str | None = None,
        sso: SsoIdentity | None = None,
        browser: str | None = None,
    ) -> None:
        self.client = client
        self.session = ""
        self.first_page: dict[str, Any] | None = None  # the page as opened (first_paint.py)
        self.parts: dict[str, Screen | ChoiceStep] = {}
        self.view = widgets.VBox(children=(self._part("header"),))
        self.view.add_class("sq-page")
        self._guard(self._open, scenario_id, sso, browser, opening=True)

    def _part(self, name: str) -> Screen | ChoiceStep:
        """The widget of a part, made when first shown: the start screen needs only one."""
        widget = self.parts.get(name)
        if widget is None:
            widget = ChoiceStep() if name == "step" else Screen()
            widget.on_msg(partial(self._on_msg, "step" if name == "step" else "screen"))
            self.parts[name] = widget
        return widget

    def _on_msg(self, part: str, _widget: Any, content: Any, _buffers: Any) -> None:
        self._guard(self._event, part, content)

    def _open(self, scenario_id: str | None, sso: SsoIdentity | None, browser: str | None) -> None:
        answer = self.client.call(
            "open",
            {
                "scenario": scenario_id,
                "sso": {"external_id": sso.external_id, "name": sso.name} if sso else None,
                "browser": browser,
            },
        )
        self.session = str(answer["session"])
        atexit.register(self.close)
        self.first_page = answer["page"]
        self.apply(answer["page"])

    def _event(self, part: str, content: Any) -> None:
        if not self.session:
            return
        answer = self.client.call(
            "event", {"session": self.session, "part": part, "content": content}
        )
        self.apply(answer["page"])

    def apply(self, page: dict[str, Any]) -> None:
        """Copy the service's page into the widgets (only changed values reach the browser)."""
        shown = set(page["children"])
        for name in PARTS:
            if name not in shown and name not in self.parts:
                continue
            widget = self._part(name)
            with widget.hold_sync():
                for key, value in page[name].items():
                    setattr(widget, key, value)
        children = tuple(self.parts[name] for name in page["children"])
        if tuple(self.view.children) != children:
            self.view.children = children

    def close(self) -> None:
        """Tell the service this page is gone (the kernel is shutting down)."""
        if self.session:
            try:
                self.client.call("close", {"session": self.session})
            except Exception:
                log.info("could not close session on exit", exc_info=True)
            self.session = ""

    def _guard(self, handler: Any, *args: Any, opening: bool = False) -> None:
        """The one error guard of the kernel side: a friendly message, the trace in the log."""
        with Guard("reaching the course service", expected=(ServiceError,)) as guard:
            handler(*args)
        t = self._t()
        if guard.expected is not None:  # the page expired in the service
            self._show(t("error_expired"))
        elif guard.code is not None:
            self._show(t("error_content" if opening else "error_generic", code=guard.code))

    def _t(self) -> Messages:
        lang = self.parts["header"].lang
        return Messages(cast(Lang, lang) if lang in LANGS else DEFAULT_LANG)

    def _show(self, message: str) -> None:
        # Rendering needs Jinja, which a kernel otherwise never imports.
        from somequiz.ui.render import render

        header = self.parts["header"]
        assert isinstance(header, Screen)
        header.html = render("fatal.html", self._t(), learner_name="", message=message)
        self.view.children = (header,)
