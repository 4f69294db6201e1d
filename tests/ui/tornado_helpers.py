"""Coroutines run on an event loop of their own, and requests to a tornado application served
on a free port for the length of one call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from tornado import httpclient, httpserver, netutil, web

T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a new event loop in a thread of its own: Playwright's loop may be
    running in this one (then ``asyncio.run`` here refuses)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def fetch(
    make_app: Callable[[], web.Application], paths: list[str], headers: dict[str, str]
) -> list[Any]:
    """The answers to GET ``paths`` (bodies as sent, not decompressed), from the application
    ``make_app`` makes."""
    return run_apart(_answers(make_app, paths, headers))


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
