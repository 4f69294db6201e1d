"""The ``somequiz`` command for trainers, HR and administrators."""

from __future__ import annotations

import sys

import click

from somequiz.commands import backup, content, learner, records, staff
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


for _module in (content, records, learner, staff, backup):
    for _command in _module.COMMANDS:
        main.add_command(_command)
