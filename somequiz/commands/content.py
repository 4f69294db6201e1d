"""Trainer commands: validate, coverage, preview, schema and the guideline fingerprint."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from somequiz.config import settings
from somequiz.content import fingerprint as fingerprints
from somequiz.content.diff import diff
from somequiz.content.folder import Content, check_paths, load_content
from somequiz.content.schema import schema_files
from somequiz.content.text import LANGS, Lang
from somequiz.errors import ContentError
from somequiz.reports.coverage import coverage as coverage_of
from somequiz.reports.coverage import render as render_coverage
from somequiz.reports.preview import preview as render_preview
from somequiz.reports.review import write_review_sheet


@click.command()
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


def _content() -> Content:
    return load_content(settings().scenarios)


@click.command()
@click.option(
    "--fail-under", type=click.FloatRange(0, 100), default=None, help="Raja prosentteina."
)
def coverage(fail_under: float | None) -> None:
    """Näytä, mitkä ohjeen säännöt skenaariot kattavat."""
    cov = coverage_of(_content())
    click.echo(render_coverage(cov))
    if fail_under is not None and cov.percent < fail_under:
        click.echo(f"Kattavuus {cov.percent:.0f} % on alle rajan {fail_under:.0f} %.", err=True)
        sys.exit(1)


@click.command()
@click.argument("scenario_id")
@click.option("--lang", type=click.Choice(LANGS), default="fi", show_default=True)
@click.option(
    "--attempt",
    default=None,
    help="Näytä vaihtoehdot siinä järjestyksessä, jossa tämän suorituksen oppija ne näki.",
)
@click.option("--try", "scenario_try", type=click.IntRange(1), default=1, show_default=True)
def preview(scenario_id: str, lang: Lang, attempt: str | None, scenario_try: int) -> None:
    """Tulosta skenaarion kaikki haarat, valinnat ja palautteet luettavaksi."""
    content = _content()
    scenario = content.scenarios.get(scenario_id)
    if scenario is None:
        known = ", ".join(sorted(content.scenarios))
        raise ContentError(f"Skenaariota '{scenario_id}' ei ole. Valitse jokin näistä: {known}")
    seen_by = (attempt, scenario_try) if attempt else None
    click.echo(render_preview(content, scenario, lang, seen_by))


@click.command()
@click.option("--check", is_flag=True, help="Älä kirjoita, vaan kerro, onko tiedosto ajan tasalla.")
def schema(check: bool) -> None:
    """Kirjoita JSON Schema -tiedostot scenarios-kansioon editorin tarkistuksia varten."""
    stale = []
    for name, text in schema_files().items():
        path = settings().scenarios / name
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            click.echo(f"Kirjoitettu {path}")
    if stale:
        click.echo(f"Vanhentunut: {', '.join(stale)}. Aja 'somequiz schema'.", err=True)
        sys.exit(1)


@click.command("diff")
@click.argument("old")
@click.argument("new", default=".")
def diff_command(old: str, new: str) -> None:
    """Näytä muutokset kahden version välillä (kansiot tai git-versiot)."""
    new_spec = str(settings().scenarios) if new == "." else new
    changes = diff(old, new_spec)
    for change in changes:
        click.echo(str(change))
    material = sum(c.kind == "material" for c in changes)
    click.echo(
        f"{material} olennaista muutosta, {len(changes) - material} sanamuodon muutosta.", err=True
    )


@click.command()
@click.argument("guideline", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def fingerprint(guideline: Path) -> None:
    """Päivitä ohjeen sormenjälki (validate vertaa tekstejä siihen) ohjeen tekstitiedostosta."""
    fingerprints.FILE.write_text(
        fingerprints.build(guideline.read_text(encoding="utf-8")), encoding="ascii"
    )
    fingerprints.shipped.cache_clear()
    click.echo(f"Kirjoitettu {fingerprints.FILE} ({len(fingerprints.shipped())} tiivistettä)")


@click.command("review-sheet")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def review_sheet(output: Path) -> None:
    """Kirjoita tarkastusmoniste (HTML tai PDF) kaikista skenaarioista."""
    write_review_sheet(output)
    click.echo(f"Kirjoitettu {output}")


COMMANDS = [validate, coverage, preview, schema, fingerprint, diff_command, review_sheet]
