"""Staff servers: the HR dashboard and the trainer studio, each its own token-protected Voilà."""

from __future__ import annotations

import os
import secrets
import sys

import click

from somequiz.config import settings
from somequiz.errors import ConfigError
from somequiz.ui.server.app import notebooks_root, serve

# (folder under notebooks/, page, environment variable for a fixed token, default port)
_SERVERS = {
    "hr": ("hr", "dashboard.ipynb", "SOMEQUIZ_HR_TOKEN", 8867),
    "trainer": ("trainer", "studio.ipynb", "SOMEQUIZ_TRAINER_TOKEN", 8868),
}


MIN_TOKEN = 24  # characters: a token is the only lock on HR's and trainers' data


def _token(token_env: str) -> str | None:
    """The fixed token from the environment (checked), or None to make one for this start."""
    token = os.environ.get(token_env, "")
    if token and len(token) < MIN_TOKEN:
        raise ConfigError(
            f"{token_env} on liian lyhyt ({len(token)} merkkiä): käytä vähintään {MIN_TOKEN} "
            "satunnaista merkkiä, esim. python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'."
        )
    return token or None


def _run(kind: str, host: str, port: int | None) -> None:
    folder, page, token_env, default_port = _SERVERS[kind]
    root = notebooks_root() / folder
    fixed = _token(token_env)
    token = fixed or secrets.token_urlsafe(24)
    chosen = port or default_port
    shown = "localhost" if host in {"0.0.0.0", "::"} else host
    address = f"http://{shown}:{chosen}/voila/render/{page}"
    if fixed:
        # A token the administrator set is not printed: logs and terminals are read by others.
        click.echo(f"Osoite: {address}?token=<{token_env}>")
    else:
        click.echo(f"Osoite: {address}?token={token}")
        click.echo(f"Tunnus luotiin tätä käynnistystä varten; pysyvän saa muuttujalla {token_env}.")
    click.echo(f"Tulokset: {settings().database_url()}")
    sys.stdout.flush()
    serve(host, chosen, root, token=token)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Portti (oletus 8867).")
def hr(host: str, port: int | None) -> None:
    """Käynnistä HR:n koontinäkymä omana, tunnuksella suojattuna palvelimenaan."""
    _run("hr", host, port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Portti (oletus 8868).")
def trainer(host: str, port: int | None) -> None:
    """Käynnistä kouluttajan työpöytä omana, tunnuksella suojattuna palvelimenaan."""
    _run("trainer", host, port)


COMMANDS = [hr, trainer]
