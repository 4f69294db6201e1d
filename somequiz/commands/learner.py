"""Learner commands: serve the course and generate its notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from somequiz.config import settings
from somequiz.content.folder import load_content
from somequiz.ui.server.app import learner_root
from somequiz.ui.server.app import serve as run_server
from somequiz.ui.server.notebooks import COURSE_NOTEBOOK, sync_notebooks


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Osoite, jota kuunnellaan.")
@click.option("--port", default=8866, show_default=True, type=int, help="Portti.")
def serve(host: str, port: int) -> None:
    """Käynnistä oppijan kurssi (Voilà) osoitteeseen http://HOST:PORT."""
    root = learner_root()
    if not (root / COURSE_NOTEBOOK).is_file():
        click.echo(
            f"Kurssin muistiota ei löydy: {root / COURSE_NOTEBOOK}. Aja 'somequiz notebooks'."
        )
        sys.exit(1)
    load_content(settings().scenarios)  # a broken course fails here, before the URL is shown
    shown = "localhost" if host in {"0.0.0.0", "::"} else host
    click.echo(f"Kurssi: http://{shown}:{port}/voila/render/{COURSE_NOTEBOOK}")
    click.echo(f"Tulokset: {settings().database_url()}")
    sys.stdout.flush()
    run_server(host, port, root, course_service=True)


@click.command()
@click.option(
    "--check", is_flag=True, help="Älä kirjoita, vaan kerro, ovatko muistiot ajan tasalla."
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Oppijan muistioiden kansio (oletus notebooks/learner).",
)
def notebooks(check: bool, root: Path | None) -> None:
    """Luo oppijan muistiot (kurssi ja yksi sivu kullekin skenaariolle) sisällöstä."""
    folder = root or learner_root()
    stale = sync_notebooks(load_content(settings().scenarios), folder, check=check)
    if check and stale:
        click.echo(f"Vanhentunut: {', '.join(stale)}. Aja 'somequiz notebooks'.", err=True)
        sys.exit(1)
    for relative in stale:
        click.echo(f"Päivitetty {folder / relative}")
    if not stale:
        click.echo("Muistiot ovat ajan tasalla.", err=True)


COMMANDS = [serve, notebooks]
