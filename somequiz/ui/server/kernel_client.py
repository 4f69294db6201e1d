"""Voilà's client of a page's kernel: what the server uses to run a page's notebook.

Two things differ from jupyter_client's ``AsyncKernelClient``, both measured on this machine
(figures in bench/README.md, "session 5"):

- the page runs as soon as the new kernel has answered on shell and iopub
  (:meth:`PageKernelClient.wait_for_ready`), not after jupyter_client's 0.2 s of iopub
  silence, which every page load spent waiting;
- its channels wait for a message in slices (:class:`PatientChannel`): pyzmq's asyncio poll
  can miss a message that has arrived, and a wait without a timeout then never ends.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from queue import Empty
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

#: How long a channel trusts its socket's wake-up before it looks for itself (seconds).
RECHECK = 0.1


class PatientChannel(AsyncZMQSocketChannel):
    """A channel whose wait for a message looks at the socket at least every ``RECHECK`` s.

    With a browser on the trainer studio page, Voilà's wait for a cell's reply sometimes
    never ended (1 to 4 of 25–30 page loads with :class:`PageKernelClient`, rarer without;
    our tests' occasional studio page "load over 90 s"): the reply sat in the client's socket
    (``zmq.EVENTS`` said so) while pyzmq's asyncio poll, waiting without a timeout, was never
    woken. The client had sent on that socket meanwhile (nbclient syncing an Output widget);
    our reading, not traced inside pyzmq, is that the send used up the wake-up of zmq's
    edge-triggered file descriptor. Each slice here ends with a real ``zmq_poll``, which
    finds such a message: 0 hangs in 80 loads.
    """

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        """The next message; ``Empty`` if none came within ``timeout`` seconds (None: wait)."""
        assert self.socket is not None
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if await self.socket.poll(max(0, round(1000 * min(RECHECK, left)))):
                message: dict[str, Any] = await self._recv()
                return message
            if left <= RECHECK:
                raise Empty


class PageKernelClient(AsyncKernelClient):
    """Voilà's client of a page's kernel: ready once the kernel has answered on both channels.

    jupyter_client's ``wait_for_ready`` takes a kernel_info reply, then waits up to 0.2 s for
    any iopub message (starting over if none came) and then for 0.2 s of iopub silence: at
    least 0.2 s of every page load spent waiting. Here the kernel's ``idle`` status for the
    kernel_info request is awaited instead: it shows that iopub is connected and that the
    request has left nothing on its way.
    """

    shell_channel_class = Type(PatientChannel)
    iopub_channel_class = Type(PatientChannel)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Return once the kernel has answered a kernel_info request on shell and iopub."""
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        patience = 0.1
        while True:
            asked = self.kernel_info()
            reply = await self._reply(asked)
            if reply is not None and await self._idle(asked, patience):
                self._handle_kernel_info_reply(reply)
                return
            if reply is not None:
                # Its idle status was published before iopub connected, or is slow (a
                # loaded machine): ask again, waiting longer each time.
                patience = min(2 * patience, 1.0)
            # else a kernel just started missed the request: ask again, as jupyter_client does.
            await self._check(deadline)

    async def _reply(self, asked: str) -> dict[str, Any] | None:
        """The shell reply to ``asked`` within a second (earlier requests' replies: skipped)."""
        return await _first(
            self.shell_channel, 1, lambda message: message["parent_header"].get("msg_id") == asked
        )

    async def _idle(self, asked: str, patience: float) -> bool:
        """Whether the kernel's idle status for ``asked`` arrives on iopub within ``patience`` s."""
        idle = await _first(
            self.iopub_channel,
            patience,
            lambda message: (
                message["msg_type"] == "status"
                and message["content"].get("execution_state") == "idle"
                and message["parent_header"].get("msg_id") == asked
            ),
        )
        return idle is not None

    async def _check(self, deadline: float) -> None:
        if not await self._async_is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError("Kernel didn't respond in time")


async def _first(
    channel: AsyncZMQSocketChannel, seconds: float, matches: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """The first message on ``channel`` that ``matches`` within ``seconds`` (others: skipped)."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        try:
            message: dict[str, Any] = await channel.get_msg(timeout=left)
        except Empty:
            return None
        if matches(message):
            return message
    return None
