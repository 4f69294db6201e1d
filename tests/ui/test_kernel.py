"""The pages' kernel starts lean and has the page's modules ready before the page runs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from jupyter_client import KernelManager
from jupyter_client.blocking.client import BlockingKernelClient

from somequiz.ui.kernel import PRELOADED, PageKernelSpecs


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    manager = KernelManager(kernel_spec_manager=PageKernelSpecs(), kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


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
    assert spec.argv[1:3] == ["-m", "somequiz.ui.kernel"]
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
