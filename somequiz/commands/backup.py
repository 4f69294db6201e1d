"""Administrator command: a consistent backup of the records while the course is in use."""

from __future__ import annotations

from pathlib import Path

import click

from somequiz.config import settings
from somequiz.records.database import backup as backup_records


@click.command()
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Varmuuskopiotiedosto (luodaan oikeuksin 0600).",
)
def backup(output: Path) -> None:
    """Varmuuskopioi tulokset turvallisesti myös kurssin ollessa käytössä."""
    click.echo(backup_records(settings().database_url(), output))
    key = "SOMEQUIZ_SECRET_KEY" if settings().secret_key else str(settings().results / "secret.key")
    click.echo(
        f"Ota talteen myös allekirjoitusavain ({key}): ilman sitä todistuksia ei voi tarkistaa."
    )


COMMANDS = [backup]
