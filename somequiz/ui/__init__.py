"""The learner course in Voilà: the only package that imports ipywidgets and anywidget.

A learner page's kernel imports this module and :mod:`somequiz.ui.kernel.relay` only; keep both
free of pydantic, SQLAlchemy and Jinja (see :mod:`somequiz.ui.service.process` for why).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SOCKET_ENV = "SOMEQUIZ_SERVICE_SOCKET"
# Jupyter data folder shipped in the package; holds the servers' Voilà template.
JUPYTER_DATA = Path(__file__).resolve().with_name("jupyter")
TEMPLATE = "somequiz"
# The course's styles: linked by the template's page head, and carried by the widgets too.
STYLESHEET = JUPYTER_DATA / "voila" / "templates" / TEMPLATE / "static" / "somequiz.css"


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
