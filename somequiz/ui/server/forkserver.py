"""Learner pages' kernels forked from a warm interpreter: a page start without Python's start.

A spawned page kernel spent ≈ 0.45 of its ≈ 0.75 CPU-seconds before it could answer on a new
interpreter and its imports (IPython, ipykernel, ipywidgets, anywidget: measured, see
bench/README.md, "Morning rush"). On two cores, a hundred learners arriving within seconds
queued behind those starts. The learner server therefore starts one **fork server** (a process
that has imported all of it once, :func:`serve`), and every learner page's kernel is a fork of
it (:class:`ForkProvisioner`, jupyter_client's kernel provisioner): the child takes the
page's environment (its browser, its request headers) and working folder, then initialises
IPython's kernel on the page's connection file. The imported modules stay shared
copy-on-write with the fork server, so a kernel also holds less memory of its own.

The fork server listens on a Unix socket in Voilà's private (0700) connection folder, as the
course service does: only the server's own user reaches it. It sends back a pidfd of each
kernel, so the server signals that very process even after its pid has been reused.
If the fork server is not running, kernels are spawned as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import json
import logging
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, NoReturn

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from somequiz.errors import ServiceError
from somequiz.ui.kernel import main as kernel
from somequiz.ui.kernel.main import FORK_SOCKET_ENV

log = logging.getLogger("somequiz.ui.server.forkserver")
#: A forked kernel's process name (``/proc/<pid>/comm``): its command line is the fork
#: server's, so this is how a kernel is told apart (monitoring, benchmarks, tests).
KERNEL_NAME = "sq-page-kernel"
PROVISIONER = "somequiz-fork"
#: What the fork server imports once for all kernels: IPython's kernel, what its start imports
#: (listed from a kernel's start, measured), and the page's modules.
WARM = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
    "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
    "IPython.extensions.storemagic", "psutil", "tornado.platform.asyncio", "tornado.queues",
    "ipywidgets", "anywidget", "somequiz.ui", *kernel.PRELOADED,
)  # fmt: skip
_MAX_REQUEST = 1024 * 1024


# The fork server


def _warm_up() -> None:
    kernel.guard_learner_kernel()  # the echo setting is read on import; limits are inherited
    sys.modules["debugpy"] = None  # type: ignore[assignment]  # as in kernel.main
    for name in WARM:
        importlib.import_module(name)
    # Objects made so far are never collected: the collector then leaves their pages (shared
    # with every kernel) alone.
    gc.freeze()


def _reap(*_: object) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def serve(socket_path: Path, parent_pid: int) -> None:
    """Fork a kernel for each request on ``socket_path`` until the learner server is gone."""
    _warm_up()
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(str(socket_path))
    finally:
        os.umask(old_mask)
    listener.listen(64)
    listener.settimeout(1.0)
    while os.getppid() == parent_pid:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            connection.settimeout(10)
            try:
                _answer(connection, listener)
            except (OSError, ValueError) as exc:
                log.warning("fork request refused: %s", exc)


def _answer(connection: socket.socket, listener: socket.socket) -> None:
    request = json.loads(_read_line(connection))
    argv, env, cwd = list(request["argv"]), dict(request["env"]), str(request["cwd"])
    # No reaping between the fork and the pidfd: the pid cannot be reused meanwhile.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    try:
        pid = os.fork()
        if pid == 0:
            _child(argv, env, cwd, listener, connection)
        pidfd = os.pidfd_open(pid)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    try:
        socket.send_fds(connection, [json.dumps({"pid": pid}).encode() + b"\n"], [pidfd])
    finally:
        os.close(pidfd)


def _read_line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk or len(data) > _MAX_REQUEST:
            raise ValueError("incomplete request")
        data += chunk
    return data


def _child(argv: list[str], env: dict[str, str], cwd: str, *sockets: socket.socket) -> NoReturn:
    """Become the page's kernel; never returns."""
    code = 1
    try:
        for inherited in sockets:
            inherited.close()
        os.setsid()
        for number in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        Path("/proc/self/comm").write_text(KERNEL_NAME)
        stdin = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        os.close(stdin)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        random.seed()  # the fork server's state would repeat in every kernel
        # Ended when the fork server ends (it ends with the learner server).
        app = kernel.initialise([*argv, f"--IPKernelApp.parent_handle={os.getppid()}"])
        kernel.keep_errors_to_the_log(app)  # as a spawned learner kernel: nothing to the page
        # ipywidgets registers its comm targets on import only when a kernel exists already.
        import ipywidgets

        ipywidgets.register_comm_target()
        app.start()
        code = 0
    finally:
        os._exit(code)


# The learner server's side


class ForkServer:
    """The learner server's fork server process (see :func:`serve`)."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / f"somequiz-fork-{os.getpid()}.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Path:
        """Start it and wait until it accepts requests."""
        self.socket.unlink(missing_ok=True)
        command = [sys.executable, "-m", "somequiz.ui.server.forkserver", str(os.getpid())]
        self.process = subprocess.Popen([*command, str(self.socket)])
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServiceError("Sivujen ytimien käynnistäjä ei käynnistynyt. Katso loki.")
            time.sleep(0.05)
        return self.socket

    def stop(self) -> None:
        """Stop it (its kernels end with it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.socket.unlink(missing_ok=True)


def fork_kernel(socket_path: str, argv: list[str], env: dict[str, str], cwd: str) -> ForkedKernel:
    """Ask the fork server for a kernel (blocking: run it in a thread)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(30)
        connection.connect(socket_path)
        request = {"argv": argv, "env": env, "cwd": cwd}
        connection.sendall(json.dumps(request).encode() + b"\n")
        message, fds, _, _ = socket.recv_fds(connection, 4096, 1)
    if not fds:
        raise OSError("the fork server sent no kernel")
    return ForkedKernel(int(json.loads(message)["pid"]), fds[0])


class ForkedKernel:
    """A forked kernel, driven as ``subprocess.Popen`` is by jupyter_client, through a pidfd."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """None while the kernel runs (its pidfd turns readable when it exits)."""
        if self.returncode is None and self._exited(0):
            self.returncode = 0  # not our child: its exit status is the fork server's
            os.close(self.pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait until the kernel has exited."""
        if self.returncode is None:
            self._exited(timeout)
        code = self.poll()
        if code is None:
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        return code

    def _exited(self, timeout: float | None) -> bool:
        # poll(), not select(): a server with many pages has descriptors above select's 1024.
        waiter = select.poll()
        waiter.register(self.pidfd, select.POLLIN)
        return bool(waiter.poll(None if timeout is None else 1000 * timeout))

    def send_signal(self, number: int) -> None:
        """Signal the kernel (never another process that got its pid later)."""
        if self.poll() is None:
            signal.pidfd_send_signal(self.pidfd, number)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, forking kernels from the fork server when it runs.

    Signals go to the kernel itself (``pgid`` unset): a page's kernel starts no processes.
    """

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Fork the kernel for ``cmd`` (``python -m somequiz.ui.kernel.main -f FILE``)."""
        socket_path = os.environ.get(FORK_SOCKET_ENV, "")
        if not socket_path or cmd[1:3] != ["-m", kernel.MODULE]:
            return await super().launch_kernel(cmd, **kwargs)
        env = {k: str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        self.cwd = str(kwargs.get("cwd") or Path.cwd())
        try:
            forked = await asyncio.to_thread(fork_kernel, socket_path, cmd[3:], env, self.cwd)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("fork server unavailable (%s): kernel spawned", exc)
            return await super().launch_kernel(cmd, **kwargs)
        # Driven as a Popen by the base class (poll, wait, send_signal, kill, terminate).
        self.process = forked  # type: ignore[assignment]
        self.pid, self.pgid = forked.pid, None
        return self.connection_info


def use_fork_provisioner() -> dict[str, str]:
    """Make :class:`ForkProvisioner` known to jupyter_client; the kernel spec's entry for it.

    Registered here rather than as a package entry point: only the learner server uses it.
    """
    factory = KernelProvisionerFactory.instance()
    if PROVISIONER not in factory.provisioners:
        factory.provisioners[PROVISIONER] = EntryPoint(
            PROVISIONER, f"{__name__}:ForkProvisioner", KernelProvisionerFactory.GROUP_NAME
        )
    return {"provisioner_name": PROVISIONER}


if __name__ == "__main__":
    serve(Path(sys.argv[2]), int(sys.argv[1]))
