"""Page starts in a rush: a few at a time, in arrival order; a slot is freed when the page has
been sent or its browser has gone, and a page whose browser left while waiting is not started."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from browser.server_helpers import start_server, stop_server
from tornado import web
from tornado_helpers import run_apart

from somequiz.ui.server.admission import AdmittedPage, PageStarts, admitted_pages


class Handler:
    """What tornado's request handler gives the mixin: the two end-of-request callbacks."""

    def on_finish(self) -> None:
        pass

    def on_connection_close(self) -> None:
        pass


class Page(AdmittedPage, Handler):
    pass


async def _arrive(starts: PageStarts, page: Page, started: list[Page]) -> None:
    await starts.enter(page)
    started.append(page)


def test_pages_start_a_few_at_a_time_in_arrival_order() -> None:
    async def run() -> None:
        starts = PageStarts(2)
        pages = [Page() for _ in range(5)]
        started: list[Page] = []
        tasks = [asyncio.create_task(_arrive(starts, page, started)) for page in pages]
        await asyncio.sleep(0.01)
        assert started == pages[:2]
        pages[1].on_finish()  # the second page has been sent
        await asyncio.sleep(0.01)
        assert started == pages[:3]
        pages[0].on_connection_close()  # the first learner closed the tab
        pages[0].on_finish()  # tornado ends the request too: the slot is not freed twice
        await asyncio.sleep(0.01)
        assert started == pages[:4]
        await asyncio.sleep(0.01)
        assert started == pages[:4]
        for page in pages[2:4]:
            page.on_finish()
        await asyncio.gather(*tasks)
        assert started == pages

    run_apart(run())


def test_a_page_whose_browser_left_while_waiting_is_not_started() -> None:
    async def run() -> None:
        starts = PageStarts(1)
        first, gone, third = Page(), Page(), Page()
        await starts.enter(first)
        waiting = asyncio.create_task(starts.enter(gone))
        queued = asyncio.create_task(starts.enter(third))
        await asyncio.sleep(0.01)
        gone.on_connection_close()
        first.on_finish()
        with pytest.raises(web.Finish):
            await waiting
        await asyncio.wait_for(queued, timeout=1)  # the slot went on to the next page

    run_apart(run())


def test_without_a_limit_or_for_other_callers_nothing_waits() -> None:
    async def run() -> None:
        unlimited = PageStarts(0)
        for _ in range(100):
            await asyncio.wait_for(unlimited.enter(Page()), timeout=1)
        limited = PageStarts(1)
        for _ in range(3):  # a kernel started for no page (a staff notebook, a test)
            await asyncio.wait_for(limited.enter(None), timeout=1)

    run_apart(run())


class Render(web.RequestHandler):
    pass


def test_only_the_rendered_pages_wait_for_their_turn() -> None:
    page = admitted_pages((r"/voila/render/(.*)", Render, {}))
    tree: tuple[str, type, dict[str, str]] = (r"/voila/tree(.*)", Render, {})
    assert issubclass(page[1], AdmittedPage) and issubclass(page[1], Render)
    assert page[0] == r"/voila/render/(.*)" and page[2] == {}
    assert admitted_pages(tree) is tree


def test_pages_loaded_together_on_a_real_server_all_start_one_after_another(
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path, env_extra={"SOMEQUIZ_PAGE_STARTS_AT_ONCE": "1"})
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            pages = list(pool.map(lambda _: requests.get(server.page_url(), timeout=120), range(4)))
        # Each page was sent whole, with a kernel of its own: every slot was freed again.
        kernels = {re.search(r'"kernelId": "([0-9a-f-]{36})"', page.text) for page in pages}
        assert [page.status_code for page in pages] == [200] * 4
        assert None not in kernels and len(kernels) == 4
        assert len(server.kernels()) == 4
    finally:
        stop_server(server.process)
