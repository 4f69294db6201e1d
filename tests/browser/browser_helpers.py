"""Playwright steps shared by the browser tests."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websocket
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

TIMEOUT = 30_000
_AXE = Axe()


def open_course(page: Page, url: str) -> None:
    """Load a course page and wait until the start form is interactive."""
    page.goto(url)
    expect(page.locator("#sq-name")).to_be_visible(timeout=TIMEOUT)


def sign_in(page: Page, name: str, employee: str = "B100", unit: str = "Hallinto") -> None:
    """Fill the start form and send it."""
    page.fill("#sq-name", name)
    page.fill("#sq-employee", employee)
    page.select_option("#sq-unit", unit)
    page.click("form[data-action=start] button[type=submit]")


def open_scenario(page: Page, title: str) -> None:
    """Press the overview button of the scenario with ``title``."""
    page.locator(".sq-scenario", has_text=title).locator("button").click()
    expect(page.locator(".sq-step legend")).to_be_visible(timeout=TIMEOUT)


def answer(page: Page, *labels: str) -> None:
    """Pick the options with these texts and submit; waits for the feedback."""
    for label in labels:
        page.locator(".sq-step label", has_text=label).click()
    page.locator(".sq-step button[type=submit]").click()
    expect(page.locator(".sq-feedback .sq-verdict")).to_be_visible(timeout=TIMEOUT)


def next_step(page: Page) -> None:
    """Press the button under the feedback."""
    page.locator(".sq-feedback button[data-action=next]").click()


def shot(page: Page, folder: Path, name: str) -> None:
    """Save a screenshot of the whole course area."""
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def assert_accessible(page: Page, screen: str) -> None:
    """axe-core finds no serious or critical violation on the page."""
    results = _AXE.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert not bad, f"{screen}: {bad}"


class KernelSocket:
    """A second connection to a page's kernel, as an attacker with the page's URL has."""

    def __init__(self, base_url: str, kernel_id: str) -> None:
        self.session = uuid.uuid4().hex
        url = base_url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        self.ws = websocket.create_connection(f"{url}?session_id={self.session}", timeout=10)

    def close(self) -> None:
        """Close the connection."""
        self.ws.close()

    def send(
        self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> str:
        """Send a shell message; its id."""
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "attacker",
            "session": self.session,
            "date": datetime.now(UTC).isoformat(),
            "version": "5.3",
        }
        message = {
            "header": header,
            "parent_header": {},
            "metadata": metadata or {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
        self.ws.send(json.dumps(message))
        return msg_id

    def comm(self, comm_id: str, data: dict[str, Any]) -> None:
        """A comm message to a widget model."""
        self.send("comm_msg", {"comm_id": comm_id, "data": data})

    def widget_states(self) -> dict[str, Any]:
        """Every widget's full state, as ``jupyter.widget.control`` hands it out."""
        control = uuid.uuid4().hex
        self.send(
            "comm_open",
            {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}},
            {"version": "1.0.0"},
        )
        # The kernel may take the comm_msg before it has registered the comm: ask again.
        deadline = time.monotonic() + 20
        self.ws.settimeout(1)
        try:
            while time.monotonic() < deadline:
                self.comm(control, {"method": "request_states"})
                asked = time.monotonic()
                while time.monotonic() - asked < 3:
                    try:
                        reply = json.loads(self.ws.recv())
                    except websocket.WebSocketTimeoutException:
                        continue
                    data = reply.get("content", {}).get("data", {})
                    if (
                        reply.get("msg_type") == "comm_msg"
                        and data.get("method") == "update_states"
                    ):
                        states: dict[str, Any] = data["states"]
                        return states
        finally:
            self.ws.settimeout(10)
        raise AssertionError("no update_states reply")

    def drain(self, seconds: float = 1.0) -> None:
        """Let the kernel handle what was sent (read and drop replies for a moment)."""
        self.ws.settimeout(0.2)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
        self.ws.settimeout(10)


def kernel_id(page: Page) -> str:
    """The page's kernel id, from the page config Voilà writes into the HTML."""
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.content())
    assert found, "no kernel id in the page"
    return found.group(1)
