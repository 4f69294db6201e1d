"""The pages' kernel starts lean and has the page's modules ready before the page runs."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from somequiz.ui import SOCKET_ENV
from somequiz.ui.kernel.main import MEMORY_CEILING, PRELOADED, PageKernelSpecs


def _start(env: dict[str, str]) -> Iterator[BlockingKernelClient]:
    manager = KernelManager(kernel_spec_manager=PageKernelSpecs(), kernel_name="python3")
    manager.start_kernel(env=env)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    """A kernel of the learner server (which hands its kernels the course service's sockets)."""
    yield from _start({**os.environ, SOCKET_ENV: "/nonexistent/service.sock"})


@pytest.fixture
def other_kernel() -> Iterator[BlockingKernelClient]:
    """A kernel of another server (staff pages, a plain Voilà)."""
    yield from _start({k: v for k, v in os.environ.items() if k != SOCKET_ENV})


def run(client: BlockingKernelClient, code: str) -> str:
    """Execute ``code`` and return what it printed."""
    printed: list[str] = []

    def output(message: dict[str, object]) -> None:
        content = message["content"]
        assert isinstance(content, dict)
        if message["msg_type"] == "stream":
            printed.append(str(content["text"]))
        assert message["msg_type"] != "error", content

    client.execute_interactive(code, output_hook=output, timeout=60)
    return "".join(printed).strip()


def test_python3_pages_get_the_page_kernel() -> None:
    spec = PageKernelSpecs().get_kernel_spec("python3")
    assert spec.argv[1:3] == ["-m", "somequiz.ui.kernel.main"]
    assert spec.metadata["debugger"] is False


def test_kernel_has_no_debugger_and_no_history(kernel: BlockingKernelClient) -> None:
    reply = kernel.kernel_info(reply=True, timeout=30)
    assert "debugger" not in reply["content"]["supported_features"]
    code = "import sys; print(sys.modules.get('debugpy'), get_ipython().history_manager.enabled)"
    assert run(kernel, code) == "None False"


def test_page_modules_are_imported_while_the_kernel_waits(kernel: BlockingKernelClient) -> None:
    check = f"import sys; print(all(name in sys.modules for name in {PRELOADED!r}))"
    deadline = time.monotonic() + 30
    while run(kernel, check) != "True":
        assert time.monotonic() < deadline, "page modules were never preloaded"
        time.sleep(0.2)


def test_kernels_of_other_servers_preload_nothing(other_kernel: BlockingKernelClient) -> None:
    time.sleep(1)  # the learner server's kernels have preloaded in ~0.1 s by now
    check = f"import sys; print(any(name in sys.modules for name in {PRELOADED!r}))"
    assert run(other_kernel, check) == "False"


def test_learner_kernels_echo_nothing_and_have_a_memory_ceiling(
    kernel: BlockingKernelClient,
) -> None:
    code = (
        "import resource, ipywidgets.widgets.widget as w\n"
        "print(w.JUPYTER_WIDGETS_ECHO, resource.getrlimit(resource.RLIMIT_DATA)[0])\n"
        f"try:\n    bytearray({MEMORY_CEILING})\nexcept MemoryError:\n    print('refused')"
    )
    assert run(kernel, code).split() == ["False", str(MEMORY_CEILING), "refused"]


def test_kernels_of_other_servers_keep_echo_and_memory(other_kernel: BlockingKernelClient) -> None:
    code = (
        "import resource, ipywidgets.widgets.widget as w\n"
        "print(w.JUPYTER_WIDGETS_ECHO, resource.getrlimit(resource.RLIMIT_DATA)[0])"
    )
    inherited = resource.getrlimit(resource.RLIMIT_DATA)[0]
    assert run(other_kernel, code).split() == ["True", str(inherited)]
