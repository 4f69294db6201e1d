"""The learner notebooks' entry points: the page's relay to the course service, first painted."""

from __future__ import annotations

import os
from typing import Any

from somequiz.ui import SOCKET_ENV


def _page(scenario_id: str | None) -> Any:
    from IPython.display import display

    from somequiz.ui.errors import setup_logging
    from somequiz.ui.identity import page_browser, sso_identity
    from somequiz.ui.kernel.first_paint import first_paint
    from somequiz.ui.kernel.relay import Client, Relay, SocketClient

    setup_logging()
    sockets = [path for path in os.environ.get(SOCKET_ENV, "").split(os.pathsep) if path]
    client: Client
    if sockets:
        # Pages spread over the server's service processes; a page stays with its one.
        client = SocketClient(sockets[os.getpid() % len(sockets)])
    else:
        # Outside the learner server (a developer's Jupyter, nbconvert): an in-process service.
        from somequiz.ui.service.process import local_client

        client = local_client()
    relay = Relay(client, scenario_id=scenario_id, sso=sso_identity(), browser=page_browser())
    painted = first_paint(relay.first_page) if relay.first_page else None
    if painted is not None:
        display(painted)
    return relay.view


def course_page() -> Any:
    """The whole course on one page (notebooks/learner/kurssi.ipynb)."""
    return _page(None)


def scenario_page(scenario_id: str) -> Any:
    """One scenario as a page of its own; answers count for the course."""
    return _page(scenario_id)
