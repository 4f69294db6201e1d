"""A Jupyter kernel websocket client that speaks what a Voilà page speaks, without a browser.

Independent of somequiz: the load simulator drives learners with it and the security tests
forge messages with it. The page (``@jupyterlab/services``) connects to
``/api/kernels/<id>/channels?session_id=<client id>`` offering the binary
``v1.kernel.websocket.jupyter.org`` subprotocol; its widget manager loads the widgets by
opening a ``jupyter.widget.control`` comm and asking for ``request_states``; an anywidget's
``model.send(x)`` becomes a ``comm_msg`` with ``{"method": "custom", "content": x}``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websocket

V1 = "v1.kernel.websocket.jupyter.org"
_PARTS = ("header", "parent_header", "metadata", "content")


@dataclass
class Message:
    """A kernel message as received."""

    channel: str
    header: dict[str, Any]
    parent_header: dict[str, Any]
    metadata: dict[str, Any]
    content: dict[str, Any]
    buffers: list[bytes] = field(default_factory=list)

    @property
    def msg_type(self) -> str:
        """The message type (``comm_msg``, ``status``, ...)."""
        return str(self.header.get("msg_type", ""))

    @property
    def parent_id(self) -> str:
        """The id of the request this message answers."""
        return str(self.parent_header.get("msg_id", ""))


def encode_v1(
    channel: str, message: Mapping[str, Any], buffers: list[bytes] | None = None
) -> bytes:
    """One message in the v1 binary framing: offsets, channel, JSON parts, buffers."""
    parts = [json.dumps(message[p]).encode("utf-8") for p in _PARTS] + list(buffers or [])
    name = channel.encode("utf-8")
    offsets = [8 * (2 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(name))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + name + b"".join(parts)


def decode_v1(data: bytes) -> Message:
    """The inverse of :func:`encode_v1`."""
    count = int.from_bytes(data[:8], "little")
    offsets = [int.from_bytes(data[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    offsets.append(len(data))
    channel = data[offsets[0] : offsets[1]].decode("utf-8")
    parts = [data[offsets[i] : offsets[i + 1]] for i in range(1, count)]
    header, parent, metadata, content = (json.loads(p) if p else {} for p in parts[:4])
    return Message(channel, header, parent, metadata, content, parts[4:])


def decode_legacy(text: str) -> Message:
    """A message in the legacy JSON framing."""
    raw = json.loads(text)
    return Message(
        raw.get("channel") or "",
        raw.get("header") or {},
        raw.get("parent_header") or {},
        raw.get("metadata") or {},
        raw.get("content") or {},
    )


class KernelSocket:
    """One connection to a kernel's channels, as the page (or anyone with its URL) opens it."""

    def __init__(
        self,
        base_url: str,
        kernel_id: str,
        *,
        cookies: Mapping[str, str] | None = None,
        protocol: str = V1,
        timeout: float = 10,
        username: str = "",
    ) -> None:
        self.session = uuid.uuid4().hex
        self.username = username
        self.timeout = timeout
        ws_base = base_url.rstrip("/").replace("https://", "wss://").replace("http://", "ws://")
        url = f"{ws_base}/api/kernels/{kernel_id}/channels?session_id={self.session}"
        cookie = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items()) or None
        self.ws = websocket.create_connection(
            url, timeout=timeout, cookie=cookie, subprotocols=[protocol] if protocol else None
        )
        # The server may fall back to the legacy JSON framing.
        self.v1 = self.ws.getsubprotocol() == V1

    def close(self) -> None:
        """Close the connection."""
        self.ws.close()

    def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        channel: str = "shell",
    ) -> str:
        """Send a message; its id."""
        msg_id = uuid.uuid4().hex
        message: dict[str, Any] = {
            "header": {
                "msg_id": msg_id,
                "msg_type": msg_type,
                "username": self.username,
                "session": self.session,
                "date": datetime.now(UTC).isoformat(),
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": metadata or {},
            "content": content,
        }
        if self.v1:
            self.ws.send_binary(encode_v1(channel, message))
        else:
            self.ws.send(json.dumps({**message, "channel": channel, "buffers": []}))
        return msg_id

    def recv(self, timeout: float | None = None) -> Message | None:
        """The next message, or None when none comes within ``timeout`` seconds."""
        self.ws.settimeout(self.timeout if timeout is None else max(timeout, 0.001))
        try:
            data = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        if isinstance(data, bytes):
            return decode_v1(data)
        return decode_legacy(data)

    def comm(self, comm_id: str, data: dict[str, Any]) -> str:
        """A comm message to a widget model."""
        return self.send("comm_msg", {"comm_id": comm_id, "data": data})

    def custom(self, comm_id: str, content: dict[str, Any]) -> str:
        """What an anywidget's ``model.send(content)`` sends."""
        return self.comm(comm_id, {"method": "custom", "content": content})

    def widget_states(self, timeout: float = 20) -> dict[str, Any]:
        """Every widget's full state, loaded as the page's widget manager loads it."""
        control = uuid.uuid4().hex
        self.send(
            "comm_open",
            {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}},
            {"version": "1.0.0"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Asked again after a pause: a busy kernel may not have registered the comm yet.
            self.comm(control, {"method": "request_states"})
            asked = time.monotonic()
            while time.monotonic() - asked < 4 and time.monotonic() < deadline:
                reply = self.recv(timeout=1)
                if reply is None or reply.msg_type != "comm_msg":
                    continue
                data = reply.content.get("data", {})
                if data.get("method") == "update_states":
                    # The page closes the control comm once it has the states.
                    self.send("comm_close", {"comm_id": control, "data": {}})
                    states: dict[str, Any] = data["states"]
                    return states
        raise TimeoutError(f"no update_states reply in {timeout} s")

    def drain(self, seconds: float = 1.0) -> list[Message]:
        """Let the kernel handle what was sent; the messages that came meanwhile."""
        received = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = self.recv(timeout=min(left, 0.2))
            if message is not None:
                received.append(message)
        return received
