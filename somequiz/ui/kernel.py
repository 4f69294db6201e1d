"""The kernel of the pages our Voilà servers run: IPython's kernel, made lean for a page.

A page's kernel starts on its first request, so its start is part of what the learner waits
for. Three things differ from the stock ``python3`` kernel, measured on this machine:

- no debugger: ipykernel imports debugpy at start (~50 ms of ~200 ms) for a debugger nobody
  can use from a Voilà page;
- no IPython history: every kernel would write to one SQLite file in the home folder;
- in the learner server, the learner page's own modules (ipywidgets, anywidget, the relay)
  are imported in a background thread right after the kernel has bound its sockets, while
  Voilà waits for the new kernel to answer (:mod:`somequiz.ui.kernel_client`), so that
  those imports (~45 ms) are out of the page's way. Kernels of other servers (staff pages, a
  plain Voilà) import only what their notebook does.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from typing import Any

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


if __name__ == "__main__":
    main()
