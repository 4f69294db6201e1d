"""A real learner server (``somequiz serve``) per test module, and Debian Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext
from server_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Server, start_server, stop_server

_OUTSIDE = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/]).*")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)
            if not Path(CHROMIUM).exists():
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium with flags that keep it quiet and offline."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    """A browser context that reaches only this machine.

    The pages need nothing from outside (test_no_third_party.py checks that); should a request
    leave the machine anyway, failing it at once keeps page loads deterministic, since a
    pending stylesheet would hold back the page's scripts (and the kernel connection).
    """
    context.route(_OUTSIDE, lambda route: route.abort())
    return context


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One learner server for the test module, on the tiny UI course and a temporary store."""
    started = start_server(tmp_path_factory.mktemp("results"))
    yield started
    stop_server(started.process)


@pytest.fixture
def artifacts() -> Path:
    """The git-ignored folder for screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
