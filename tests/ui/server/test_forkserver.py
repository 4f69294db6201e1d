"""Learner pages' kernels forked from the fork server: started at once, each with its own
page's environment (its browser), freed when shut down, and spawned when no fork server runs."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from somequiz.ui import SOCKET_ENV
from somequiz.ui.identity import BROWSER_ENV
from somequiz.ui.kernel.main import FORK_SOCKET_ENV, MEMORY_CEILING, PageKernelSpecs
from somequiz.ui.server.forkserver import KERNEL_NAME, ForkedKernel, ForkServer

CHECK = (
    "import os, resource, ipywidgets.widgets.widget as w\n"
    f"print(os.environ[{BROWSER_ENV!r}], os.getcwd(), w.JUPYTER_WIDGETS_ECHO,\n"
    "      resource.getrlimit(resource.RLIMIT_DATA)[0],\n"
    "      'jupyter.widget.control' in get_ipython().kernel.comm_manager.targets)"
)


@pytest.fixture
def fork_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ForkServer]:
    """A fork server, announced to this process's kernel provisioner as the learner server does."""
    server = ForkServer(tmp_path)
    monkeypatch.setenv(FORK_SOCKET_ENV, str(server.start()))
    yield server
    server.stop()


def start(browser: str, folder: Path) -> tuple[KernelManager, BlockingKernelClient]:
    """A page kernel started as the learner server starts one (its browser in its environment)."""
    manager = KernelManager(kernel_spec_manager=PageKernelSpecs(), kernel_name="python3")
    env = {**os.environ, SOCKET_ENV: "/nonexistent/service.sock", BROWSER_ENV: browser}
    manager.start_kernel(env=env, cwd=str(folder))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def stop(manager: KernelManager, client: BlockingKernelClient) -> None:
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def run(client: BlockingKernelClient, code: str) -> str:
    """Execute ``code`` and return what it printed."""
    printed: list[str] = []

    def output(message: dict[str, object]) -> None:
        content = message["content"]
        assert isinstance(content, dict)
        assert message["msg_type"] != "error", content
        if message["msg_type"] == "stream":
            printed.append(str(content["text"]))

    client.execute_interactive(code, output_hook=output, timeout=60)
    return "".join(printed).strip()


def gone(pid: int, seconds: float = 10) -> bool:
    """Whether process ``pid`` ends within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


def test_each_page_gets_a_forked_kernel_with_its_own_browser(
    fork_server: ForkServer, tmp_path: Path
) -> None:
    first, first_client = start("browser-one", tmp_path)
    second, second_client = start("browser-two", tmp_path)
    try:
        assert fork_server.process is not None
        for manager in (first, second):
            process = psutil.Process(manager.provisioner.pid)  # type: ignore[union-attr]
            assert process.ppid() == fork_server.process.pid
            assert process.name() == KERNEL_NAME
        expected = ["browser-one", str(tmp_path), "False", str(MEMORY_CEILING), "True"]
        assert run(first_client, CHECK).split() == expected
        assert run(second_client, CHECK).split()[0] == "browser-two"
    finally:
        stop(first, first_client)
        stop(second, second_client)


def test_a_shut_down_kernel_is_freed_and_an_idle_fork_server_holds_none(
    fork_server: ForkServer, tmp_path: Path
) -> None:
    manager, client = start("browser-three", tmp_path)
    forked = manager.provisioner.process  # type: ignore[union-attr]
    assert isinstance(forked, ForkedKernel)
    pid = forked.pid
    stop(manager, client)
    assert gone(pid)
    assert forked.poll() == 0
    forked.kill()  # its pidfd is closed: nothing else is signalled
    assert fork_server.process is not None
    assert psutil.Process(fork_server.process.pid).children() == []


def test_a_kernel_is_watched_through_a_descriptor_above_1024(
    fork_server: ForkServer, tmp_path: Path
) -> None:
    """A server with a hundred pages holds thousands of descriptors (select() stops at 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    manager, client = start("browser-six", tmp_path)
    forked = manager.provisioner.process  # type: ignore[union-attr]
    assert isinstance(forked, ForkedKernel)
    forked.pidfd = os.dup2(forked.pidfd, 2000)
    assert forked.poll() is None
    stop(manager, client)
    assert gone(forked.pid)
    assert forked.poll() == 0


def test_kernels_end_with_their_fork_server(fork_server: ForkServer, tmp_path: Path) -> None:
    manager, client = start("browser-four", tmp_path)
    pid = manager.provisioner.pid  # type: ignore[union-attr]
    client.stop_channels()
    fork_server.stop()
    assert gone(pid)
    manager.shutdown_kernel(now=True)


def test_without_a_fork_server_kernels_are_spawned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FORK_SOCKET_ENV, str(tmp_path / "no-fork-server.sock"))
    manager, client = start("browser-five", tmp_path)
    try:
        process = psutil.Process(manager.provisioner.pid)  # type: ignore[union-attr]
        assert "somequiz.ui.kernel.main" in process.cmdline()
        assert run(client, CHECK).split()[0] == "browser-five"
    finally:
        stop(manager, client)


def test_the_fork_server_is_not_used_outside_the_learner_server() -> None:
    assert FORK_SOCKET_ENV not in os.environ
    spec = PageKernelSpecs().get_kernel_spec("python3")
    assert "kernel_provisioner" not in spec.metadata
