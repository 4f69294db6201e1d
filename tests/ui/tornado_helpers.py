"""Requests to a tornado application served on a free port for the length of one call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tornado import httpclient, httpserver, netutil, web


def fetch(
    make_app: Callable[[], web.Application], paths: list[str], headers: dict[str, str]
) -> list[Any]:
    """The answers to GET ``paths`` (bodies as sent, not decompressed), from the application
    ``make_app`` makes, in a thread of its own (its own event loop: Playwright's may be running
    in this one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        answers: list[Any] = pool.submit(asyncio.run, _answers(make_app, paths, headers)).result()
        return answers


async def _answers(
    make_app: Callable[[], web.Application], paths: list[str], headers: dict[str, str]
) -> list[Any]:
    [sock] = netutil.bind_sockets(0, "127.0.0.1")
    server = httpserver.HTTPServer(make_app())
    server.add_sockets([sock])
    client = httpclient.AsyncHTTPClient()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        return [
            await client.fetch(
                base + path, headers=headers, decompress_response=False, raise_error=False
            )
            for path in paths
        ]
    finally:
        server.stop()
