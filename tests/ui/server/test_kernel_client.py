"""Voilà's client of a page's kernel runs the page as soon as the kernel answers, and a
missed wake-up of its sockets cannot stall a page."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from queue import Empty
from typing import Any, TypeVar

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session

from somequiz.ui.kernel.main import PageKernelSpecs
from somequiz.ui.server import kernel_client
from somequiz.ui.server.kernel_client import PageKernelClient, PatientChannel

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` in a thread of its own (Playwright's tests leave a loop running here)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _started_manager() -> AsyncKernelManager:
    """A started page kernel whose clients are the server's ``PageKernelClient``."""
    manager = AsyncKernelManager(kernel_spec_manager=PageKernelSpecs(), kernel_name="python3")
    manager.client_factory = PageKernelClient
    await manager.start_kernel()
    return manager


async def _start_and_wait(lose_idle: bool = False, lose_request: bool = False) -> tuple[int, str]:
    """Start a page kernel, wait for it and run a cell: (kernel_info requests, cell's status).

    ``lose_idle``: as if iopub had not connected when the first idle status was published;
    ``lose_request``: as if the new kernel had missed the first kernel_info request.
    """
    manager = await _started_manager()
    client = manager.client()
    assert isinstance(client, PageKernelClient)
    sent: list[str] = []
    ask, idle = client.kernel_info, client._idle

    def counting_ask() -> str:
        if lose_request and not sent:
            sent.append("never-sent")
            return sent[-1]
        sent.append(ask())
        return sent[-1]

    async def lossy_idle(asked: str, patience: float) -> bool:
        return await idle(asked, patience) and not (lose_idle and len(sent) == 1)

    client.kernel_info = counting_ask  # type: ignore[method-assign]
    client._idle = lossy_idle  # type: ignore[method-assign]
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        reply = await client.execute_interactive("6 * 7", timeout=60, output_hook=lambda _: None)
        return len(sent), str(reply["content"]["status"])
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


def test_server_runs_the_page_once_the_kernel_answered_on_both_channels() -> None:
    asked, status = run_async(_start_and_wait())
    # One request, or more when the kernel published its idle status before iopub connected.
    assert status == "ok" and asked >= 1


def test_a_lost_idle_status_means_asking_again() -> None:
    asked, status = run_async(_start_and_wait(lose_idle=True))
    assert status == "ok" and asked >= 2


def test_a_request_the_kernel_missed_is_asked_again() -> None:
    started = time.monotonic()
    asked, status = run_async(_start_and_wait(lose_request=True))
    assert status == "ok" and asked >= 2
    assert time.monotonic() - started < 30  # asked again after a second, not at the deadline


def test_waiting_for_a_dead_kernel_fails() -> None:
    async def dead() -> None:
        manager = await _started_manager()
        client = manager.client()
        await manager.shutdown_kernel(now=True)
        client.start_channels()
        try:
            with pytest.raises(RuntimeError, match="died"):
                await client.wait_for_ready(timeout=30)
        finally:
            client.stop_channels()

    run_async(dead())


class MissedWakeUp:
    """A socket holding a message whose asyncio poll is never woken for it.

    A poll with a timeout ends with a real look at the socket and finds the message from the
    ``found_on``-th poll on; a poll without a timeout waits forever, as Voilà's did.
    """

    def __init__(self, found_on: int | None) -> None:
        self.found_on = found_on
        self.timeouts: list[int | None] = []

    async def poll(self, timeout: int | None = None) -> int:
        self.timeouts.append(timeout)
        if timeout is None:
            await asyncio.Event().wait()
        found = self.found_on is not None and len(self.timeouts) >= self.found_on
        if not found and timeout is not None:  # None waited for good above
            await asyncio.sleep(timeout / 1000)
        return int(found)


def _channel(
    kind: type[AsyncZMQSocketChannel], socket: MissedWakeUp
) -> tuple[AsyncZMQSocketChannel, dict[str, Any]]:
    with zmq.asyncio.Context() as context, context.socket(zmq.DEALER) as real:
        channel = kind(real, Session())
    channel.socket = socket  # type: ignore[assignment]
    message = {"msg_type": "execute_reply"}

    async def receive(**_: object) -> dict[str, Any]:
        return message

    channel._recv = receive  # type: ignore[method-assign]
    return channel, message


def _get(channel: AsyncZMQSocketChannel, timeout: float | None = None) -> Any:
    async def get() -> Any:
        return await asyncio.wait_for(channel.get_msg(timeout), 5)

    return run_async(get())


def test_stock_channel_waits_forever_on_a_missed_wake_up() -> None:
    """The failure PatientChannel exists for (jupyter_client's own channel)."""
    channel, _ = _channel(AsyncZMQSocketChannel, MissedWakeUp(found_on=1))
    with pytest.raises(TimeoutError):
        _get(channel)


def test_patient_channel_finds_a_message_its_wake_up_missed() -> None:
    socket = MissedWakeUp(found_on=3)
    channel, message = _channel(PatientChannel, socket)
    assert _get(channel) is message
    assert socket.timeouts == [round(1000 * kernel_client.RECHECK)] * 3


def test_patient_channel_keeps_its_timeout() -> None:
    socket = MissedWakeUp(found_on=None)
    channel, _ = _channel(PatientChannel, socket)
    started = time.monotonic()
    with pytest.raises(Empty):
        _get(channel, timeout=0.25)
    assert 0.2 <= time.monotonic() - started < 1
    *slices, last = socket.timeouts
    assert slices == [100, 100] and last is not None and 0 <= last <= 50
