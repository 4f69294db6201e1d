"""Culling pages whose browser is connected but silent (issue 16, item 2).

jupyter_server's culler ends kernels nobody is connected to; a connected tab is never culled
there, so a client that opens a page's websocket and says nothing keeps a kernel (~60 MiB)
for as long as it likes. Here a page's kernel is ended when its browser has sent no widget
message (a press, a typed form, the widgets' loading) for ``idle_seconds``: the page's own
traffic, not the websocket's pings, which the browser answers by itself.

The learner loses only the open page: the page then says so (``screen.js``, the catalogue's
``page_gone``), and a reload resumes the course, which is stored. The default
(``SOMEQUIZ_IDLE_PAGE_MINUTES``, 60) is far above reading a long explanation.
Runs in the Voilà server process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from tornado import web
from tornado.ioloop import PeriodicCallback

log = logging.getLogger("somequiz.ui.server.culling")
#: The browser's messages that are page traffic: what its widgets send.
WIDGET_MESSAGES = frozenset({"comm_open", "comm_msg", "comm_close"})


class SilentPages:
    """When each page's kernel last heard its browser's widgets; which have been silent."""

    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._heard: dict[str, float] = {}

    def heard(self, kernel_id: str) -> None:
        """The page of ``kernel_id`` was loaded or sent a widget message just now."""
        self._heard[kernel_id] = self.clock()

    def forget(self, kernel_id: str) -> None:
        """The kernel is gone."""
        self._heard.pop(kernel_id, None)

    def silent(self) -> list[str]:
        """Kernels whose page has been silent for longer than ``idle_seconds``."""
        if self.idle_seconds <= 0:
            return []
        moment = self.clock()
        return [k for k, last in self._heard.items() if moment - last > self.idle_seconds]


class SilentPageCuller:
    """Ends the kernels of silent pages every ``interval`` seconds with ``shutdown``."""

    def __init__(
        self,
        pages: SilentPages,
        shutdown: Callable[[str], Awaitable[object]],
        interval: float,
    ) -> None:
        self.pages = pages
        self.shutdown = shutdown
        self.interval = interval
        self._callback: PeriodicCallback | None = None

    def start(self) -> None:
        """Start culling (once; nothing when culling silent pages is off)."""
        if self._callback is None and self.pages.idle_seconds > 0:
            self._callback = PeriodicCallback(self.cull, 1000 * max(self.interval, 0.5))
            self._callback.start()
            log.info("pages silent for %s s are culled", self.pages.idle_seconds)

    async def cull(self) -> None:
        """End every kernel whose page has been silent too long."""
        for kernel_id in self.pages.silent():
            self.pages.forget(kernel_id)
            log.warning("kernel %s: its page has been silent, culled", kernel_id)
            try:
                await self.shutdown(kernel_id)
            except web.HTTPError:  # 404: ended meanwhile
                continue
