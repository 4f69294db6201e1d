"""The kernel of the pages our Voilà servers run: IPython's kernel, made lean for a page.

A page's kernel starts on its first request, so its start is part of what the learner waits
for. Three things differ from the stock ``python3`` kernel, measured on this machine:

- no debugger: ipykernel imports debugpy at start (~50 ms of ~200 ms) for a debugger nobody
  can use from a Voilà page;
- no IPython history: every kernel would write to one SQLite file in the home folder;
- in the learner server, the learner page's own modules (ipywidgets, anywidget, the relay)
  are imported in a background thread right after the kernel has bound its sockets, while
  Voilà waits for the new kernel to answer (:mod:`somequiz.ui.server.kernel_client`), so that
  those imports (~45 ms) are out of the page's way. Kernels of other servers (staff pages, a
  plain Voilà) import only what their notebook does.

Learner kernels also guard against their page's browser (issue 16): ipywidgets does not echo
the browser's state updates back (the page sends none, and each echo was one more copy for the
server to hold), the kernel's memory has a ceiling (:data:`MEMORY_CEILING`), and what goes wrong
in the kernel is logged in the server's log, not sent to the page (:func:`keep_errors_to_the_log`).
"""

from __future__ import annotations

import importlib
import logging
import os
import resource
import sys
import threading
from typing import Any

from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpec, KernelSpecManager

from somequiz.ui import SOCKET_ENV

MODULE = "somequiz.ui.kernel.main"
#: Where the learner server tells its kernel provisioner the fork server's socket.
FORK_SOCKET_ENV = "SOMEQUIZ_FORK_SOCKET"

PRELOADED = ("somequiz.ui.kernel.relay", "somequiz.ui.kernel.first_paint", "somequiz.ui.identity")
#: A learner kernel's data memory at most (``RLIMIT_DATA``: heap and private mappings, thread
#: stacks included). A page's kernel holds about 130 MiB of it (47 MiB resident) and no more
#: after a whole course; over the ceiling an allocation fails and only that page is lost.
MEMORY_CEILING = 512 * 1024 * 1024


def guard_learner_kernel() -> None:
    """No widget echo, and the memory ceiling (learner kernels)."""
    # Read by ipywidgets when first imported: set before anything imports it.
    os.environ["JUPYTER_WIDGETS_ECHO"] = "0"
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    ceiling = MEMORY_CEILING if hard == resource.RLIM_INFINITY else min(MEMORY_CEILING, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (ceiling, ceiling))


def keep_errors_to_the_log(app: Any) -> None:
    """Tracebacks, library warnings and versions stay out of what the page's browser gets.

    A malformed widget message from the browser made ipywidgets send the kernel's traceback
    (file paths, library names) to the page on iopub, a message to an unknown comm a stderr
    line, and the kernel's info named the Python and IPython versions (issue 16, measured
    with bench/kernel_ws.py). The kernel's own stderr is the server's log.
    """
    # Loggers without a handler of their own (comm's "No such comm") wrote to sys.stderr,
    # which ipykernel streams to the page; warnings too.
    logging.basicConfig(stream=sys.__stderr__, format="[page kernel] %(levelname)s %(message)s")
    logging.captureWarnings(True)

    def log_traceback(etype: type[BaseException], evalue: BaseException, stb: Any) -> None:
        app.log.error("error in the page's kernel", exc_info=(etype, evalue, evalue.__traceback__))

    app.shell._showtraceback = log_traceback
    app.shell.banner1 = app.shell.banner2 = ""
    app.shell.enable_tip = False  # a random tip names IPython (and sometimes its version)
    app.kernel.implementation_version = ""
    app.kernel.help_links = []
    app.kernel.language_info = {k: v for k, v in app.kernel.language_info.items() if k != "version"}


def _preload() -> None:
    for name in PRELOADED:
        importlib.import_module(name)


def initialise(argv: list[str]) -> Any:
    """IPython's kernel app, initialised on ``argv`` (``-f {connection_file}``), not started."""
    # None in sys.modules makes `import debugpy` fail: ipykernel then runs without a debugger.
    sys.modules["debugpy"] = None  # type: ignore[assignment]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    # Without capture_fd_output no thread watches a pipe for output written by C code below
    # Python: a page prints nothing there, and what a library would write belongs in the
    # server's log, not on the page.
    options = ["--HistoryManager.enabled=False", "--IPKernelApp.capture_fd_output=False"]
    app.initialize([*options, *argv])
    return app


def main() -> None:
    """Run the kernel (``python -m somequiz.ui.kernel.main -f {connection_file}``)."""
    learner = bool(os.environ.get(SOCKET_ENV))  # set by the learner server only
    if learner:
        guard_learner_kernel()
    app = initialise(sys.argv[1:])
    if learner:
        keep_errors_to_the_log(app)
        threading.Thread(target=_preload, name="somequiz-preload", daemon=True).start()
    app.start()


class PageKernelSpecs(KernelSpecManager):
    """Voilà's kernel specs: the notebooks' ``python3`` is run as this module's kernel.

    In a learner server with a fork server, the kernel is forked from it
    (:mod:`somequiz.ui.server.forkserver`) rather than started as a new process.
    """

    def get_kernel_spec(self, kernel_name: str) -> Any:
        """The lean kernel for ``python3``; any other kernel as installed."""
        if kernel_name != NATIVE_KERNEL_NAME:
            return super().get_kernel_spec(kernel_name)
        metadata: dict[str, Any] = {"debugger": False}
        if os.environ.get(FORK_SOCKET_ENV):
            from somequiz.ui.server.forkserver import use_fork_provisioner

            metadata["kernel_provisioner"] = use_fork_provisioner()
        return KernelSpec(
            argv=[sys.executable, "-m", MODULE, "-f", "{connection_file}"],
            display_name="Python 3 (SoMe-koulutus)",
            language="python",
            metadata=metadata,
        )


if __name__ == "__main__":
    main()
