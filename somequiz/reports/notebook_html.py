"""Notebooks as standalone HTML files (the HR report, the review sheet) through nbconvert.

nbconvert's own page loads require.js and MathJax from a CDN and is titled after the file;
ours (``templates/nbconvert/somequiz``) carries the course's stylesheet inline, a real title
and no script at all, so the file asks no third party for anything when it is opened.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from somequiz.errors import ConfigError, ExportError
from somequiz.reports.dashboard_html import TEMPLATES, stylesheet

TEMPLATE = "somequiz"

# The learner course's stylesheet, carried into every report as a file (the report imports no
# UI code): the same tokens and look as the course.
COURSE_CSS = (
    Path(__file__).resolve().parents[1]
    / "ui/server/jupyter/voila/templates/somequiz/static/somequiz.css"
)


def run_notebook(notebook: Path, cwd: Path, timeout: int = 120) -> Any:
    """``notebook`` read and executed in ``cwd`` (its outputs filled in)."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    read: Callable[..., Any] = nbformat.read  # untyped
    if not notebook.is_file():
        raise ConfigError(f"Muistio puuttuu: {notebook}. Asenna somequiz uudelleen.")
    nb = read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="somequiz-kernel-") as folder:
        # Unix sockets in a private folder, not TCP ports on localhost: nothing else on the
        # machine can listen in, and the kernel prints no warning about plain-text TCP.
        manager = KernelManager(kernel_name="python3", transport="ipc", ip=f"{folder}/kernel")
        client = NotebookClient(
            nb, km=manager, timeout=timeout, resources={"metadata": {"path": str(cwd)}}
        )
        try:
            client.execute()
        except Exception as exc:  # a failing cell, a missing kernel: say what happened
            last = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            raise ExportError(
                f"Muistion {notebook.name} suoritus epäonnistui ({exc.__class__.__name__}: "
                f"{last}). Tarkista tietokantayhteys komennolla 'somequiz db upgrade'."
            ) from None
        finally:
            # The client leaves a kernel it did not start running; left alone it would print
            # "Parent appears to have exited" once this process ends.
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)
    return nb


def notebook_html(nb: Any, title: str) -> str:
    """An executed notebook as one HTML page without code, in the course's look."""
    from nbconvert import HTMLExporter

    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code="fi",
    )
    css = COURSE_CSS.read_text(encoding="utf-8") + "\n" + stylesheet()
    body, _ = exporter.from_notebook_node(nb, resources={"somequiz_css": css})
    return str(body)


def write_notebook_html(notebook: Path, output: Path, title: str, timeout: int = 120) -> None:
    """Execute ``notebook`` and write it to ``output`` as HTML (see :func:`notebook_html`)."""
    page = notebook_html(run_notebook(notebook, notebook.parent, timeout), title)
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"Tiedostoa {output} ei voi kirjoittaa: {exc.strerror}.") from exc
