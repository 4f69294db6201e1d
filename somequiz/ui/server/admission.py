"""Page starts in a morning rush: first come, first served, a few at a time.

When a hundred learners open the course within seconds, every page's kernel start and cells
share the two cores with all the others: each advances a little and all become ready together
at the end, the first arrival as late as the last (bench/README.md, "Morning rush"). Here at
most ``at_once`` pages start their kernel and run their cells together; the others wait in
arrival order, with the loading screen already on their screen (it is sent before the kernel
starts). A page's slot is freed when its page has been sent, or when its browser has gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from tornado import web

log = logging.getLogger(__name__)


class AdmittedPage:
    """Mixin for the page handler: frees the page's start slot once the page is sent or its
    browser has gone, whichever comes first."""

    _release: Callable[[], None] | None = None
    _gone = False

    def admitted(self, release: Callable[[], None]) -> None:
        """The page may start: ``release`` frees its slot. A page whose browser left while it
        waited frees the slot at once and is not started."""
        if self._gone:
            release()
            log.info("page left before its turn to start")
            raise web.Finish()
        self._release = release

    def _leave(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def on_finish(self) -> None:
        self._leave()
        super().on_finish()  # type: ignore[misc]

    def on_connection_close(self) -> None:
        self._gone = True
        self._leave()
        super().on_connection_close()  # type: ignore[misc]


class PageStarts:
    """At most ``at_once`` page starts at a time (0 or less: no limit), in arrival order."""

    def __init__(self, at_once: int) -> None:
        self.slots = asyncio.Semaphore(at_once) if at_once > 0 else None

    async def enter(self, handler: Any) -> None:
        """Wait for the page's turn (returns at once without a limit, or for other callers)."""
        if self.slots is None or not isinstance(handler, AdmittedPage):
            return
        await self.slots.acquire()
        handler.admitted(self.slots.release)


def admitted_pages(spec: Any) -> Any:
    """A handler spec whose rendered pages wait for their turn to start (:class:`PageStarts`)."""
    pattern, handler, *rest = spec
    if not pattern.endswith("/voila/render/(.*)"):
        return spec
    return (pattern, type(f"Admitted{handler.__name__}", (AdmittedPage, handler), {}), *rest)
