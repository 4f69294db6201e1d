"""The ``somequiz`` command for trainers, HR and administrators."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from somequiz.config import settings
from somequiz.content import check_paths
from somequiz.errors import SomequizError


class _Group(click.Group):
    """Turns every SomequizError into a one-line message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SomequizError as exc:
            click.echo(f"Virhe: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(package_name="somequiz")
def main() -> None:
    """SoMe-koulutus: skenaarioiden tarkistus, esikatselu ja kurssin hallinta."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Tarkista skenaariotiedostot (oletuksena koko scenarios-kansio)."""
    problems = check_paths(list(paths), settings().scenarios)
    for problem in problems:
        click.echo(str(problem))
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    if errors:
        click.echo(f"{errors} virhettä, {warnings} varoitusta.", err=True)
        sys.exit(1)
    click.echo(f"Kunnossa ({warnings} varoitusta).", err=True)
