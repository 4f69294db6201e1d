"""The kernel of the pages our Voilà servers run: IPython's kernel, made lean for a page.

A page's kernel starts on its first request, so its start is part of what the learner waits
for. Three things differ from the stock ``python3`` kernel, measured on this machine:

- no debugger: ipykernel imports debugpy at start (~50 ms of ~200 ms) for a debugger nobody
  can use from a Voilà page;
- no IPython history: every kernel would write to one SQLite file in the home folder;
- in the learner server, the learner page's own modules (ipywidgets, anywidget, the relay)
  are imported in a background thread right after the kernel has bound its sockets, while
  Voilà waits for the new kernel to answer (:class:`PageKernelClient`), so that those imports
  (~45 ms) are out of the page's way. Kernels of other servers (staff pages, a plain Voilà)
  import only what their notebook does.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import threading
import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpec, KernelSpecManager

from somequiz.ui import SOCKET_ENV

PRELOADED = ("somequiz.ui.relay", "somequiz.ui.first_paint", "somequiz.ui.identity")


def _preload() -> None:
    for name in PRELOADED:
        importlib.import_module(name)


def main() -> None:
    """Run the kernel (``python -m somequiz.ui.kernel -f {connection_file}``)."""
    # None in sys.modules makes `import debugpy` fail: ipykernel then runs without a debugger.
    sys.modules["debugpy"] = None  # type: ignore[assignment]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["--HistoryManager.enabled=False", *sys.argv[1:]])
    if os.environ.get(SOCKET_ENV):  # set by the learner server only
        threading.Thread(target=_preload, name="somequiz-preload", daemon=True).start()
    app.start()


class PageKernelSpecs(KernelSpecManager):
    """Voilà's kernel specs: the notebooks' ``python3`` is run as this module's kernel."""

    def get_kernel_spec(self, kernel_name: str) -> Any:
        """The lean kernel for ``python3``; any other kernel as installed."""
        if kernel_name != NATIVE_KERNEL_NAME:
            return super().get_kernel_spec(kernel_name)
        return KernelSpec(
            argv=[sys.executable, "-m", "somequiz.ui.kernel", "-f", "{connection_file}"],
            display_name="Python 3 (SoMe-koulutus)",
            language="python",
            metadata={"debugger": False},
        )


class PageKernelClient(AsyncKernelClient):
    """Voilà's client of a page's kernel: ready once the kernel has answered on both channels.

    jupyter_client's ``wait_for_ready`` takes a kernel_info reply, then waits up to 0.2 s for
    any iopub message (starting over if none came) and then for 0.2 s of iopub silence: at
    least 0.2 s of every page load spent waiting (see bench/README.md). Here the kernel's
    ``idle`` status for the kernel_info request is awaited instead: it shows that iopub is
    connected and that the request has left nothing on its way.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Return once the kernel has answered a kernel_info request on shell and iopub."""
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        patience = 0.1
        while True:
            asked = self.kernel_info()
            reply = await self._reply(asked, deadline)
            if await self._idle(asked, patience):
                self._handle_kernel_info_reply(reply)
                return
            # Its idle status was published before iopub connected, or is slow (a loaded
            # machine): ask again, waiting longer each time.
            await self._check(deadline)
            patience = min(2 * patience, 1.0)

    async def _reply(self, asked: str, deadline: float) -> dict[str, Any]:
        """The shell reply to ``asked`` (earlier requests' replies come first: skipped)."""
        while True:
            try:
                message: dict[str, Any] = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                await self._check(deadline)
                continue
            if message["parent_header"].get("msg_id") == asked:
                return message

    async def _idle(self, asked: str, patience: float) -> bool:
        """Whether the kernel's idle status for ``asked`` arrives on iopub within ``patience`` s."""
        until = time.monotonic() + patience
        while (left := until - time.monotonic()) > 0:
            try:
                message = await self.iopub_channel.get_msg(timeout=left)
            except Empty:
                return False
            if (
                message["msg_type"] == "status"
                and message["content"].get("execution_state") == "idle"
                and message["parent_header"].get("msg_id") == asked
            ):
                return True
        return False

    async def _check(self, deadline: float) -> None:
        if not await self._async_is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError("Kernel didn't respond in time")


if __name__ == "__main__":
    main()
