"""The learner course and the staff pages in Voilà: the only package that imports ipywidgets.

Grouped by the process code runs in: ``kernel/`` (every page's kernel), ``service/`` (the
course service processes), ``server/`` (the Voilà server) and ``staff/`` (HR and trainer page
widgets). Shared by all: ``protocol`` (what the service sends a page), ``render`` (HTML from
templates), ``identity`` (single sign-on headers) and ``errors`` (the one guard).
"""

from __future__ import annotations

from pathlib import Path

SOCKET_ENV = "SOMEQUIZ_SERVICE_SOCKET"
# Jupyter data folder shipped in the package; holds the servers' Voilà template.
JUPYTER_DATA = Path(__file__).resolve().parent / "server" / "jupyter"
TEMPLATE = "somequiz"
# The course's styles: linked by the template's page head, and carried by the widgets too.
STYLESHEET = JUPYTER_DATA / "voila" / "templates" / TEMPLATE / "static" / "somequiz.css"
