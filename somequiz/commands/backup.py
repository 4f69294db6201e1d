"""Administrator command: a consistent backup of the records while the course is in use."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.engine import make_url

from somequiz.config import settings
from somequiz.records.store import backup_sqlite


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
    url = make_url(settings().database_url())
    if url.get_backend_name() != "sqlite":
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=True)
        click.echo("PostgreSQL varmuuskopioidaan sen omalla työkalulla, esimerkiksi:")
        click.echo(f"  pg_dump --format=custom --file={output} '{libpq}'")
        click.echo("Salasanan pg_dump lukee tiedostosta ~/.pgpass tai muuttujasta PGPASSWORD.")
    else:
        backup_sqlite(settings().database_url(), output)
        click.echo(f"Varmuuskopio: {output} ({output.stat().st_size} tavua, eheys tarkistettu).")
    key = "SOMEQUIZ_SECRET_KEY" if settings().secret_key else str(settings().results / "secret.key")
    click.echo(
        f"Ota talteen myös allekirjoitusavain ({key}): ilman sitä todistuksia ei voi tarkistaa."
    )


COMMANDS = [backup]
