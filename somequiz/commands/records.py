"""Administrator and HR commands: database, demo data, roster, verify, erase, export, report."""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast, get_args

import click

from somequiz.config import settings
from somequiz.content.folder import Content, load_content
from somequiz.errors import ConfigError, ExportError
from somequiz.i18n import message
from somequiz.records.admin import Admin
from somequiz.records.database import Database
from somequiz.records.reports import Reports
from somequiz.records.rows import Problem, Verification
from somequiz.records.signing import Signatures


def _database() -> Database:
    return Database.configured(settings())


def _content() -> Content:
    return load_content(settings().scenarios)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise ConfigError(f"”{value}” ei ole päivämäärä. Kirjoita muodossa p.k.vvvv, esim. 1.3.2025.")


@click.group()
def db() -> None:
    """Tietokannan hallinta."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Päivitä tietokannan rakenne uusimpaan versioon."""
    from somequiz.records.database import current_revision

    with _database() as database:
        revision = current_revision(database.engine)
        click.echo(f"Tietokanta on ajan tasalla (versio {revision}): {database.engine.url!r}")
        # Rows from before the seals (revision 0007) are sealed as they are now: run
        # `somequiz verify` before upgrading to know they were intact.
        sealed = Signatures(database).seal_unsealed()
        if sealed:
            click.echo(f"Sinetöity {sealed} aiemmin tallennettua riviä.")


@db.command("retention")
@click.option(
    "--years",
    type=click.IntRange(min=1),
    default=None,
    help="Poista tätä vanhemmat vastaukset (oletus: SOMEQUIZ_RETENTION_YEARS).",
)
def db_retention(years: int | None) -> None:
    """Poista säilytysaikaa vanhemmat vastaukset; suoritukset ja todistukset säilyvät."""
    chosen = years or settings().retention_years
    if chosen < 1:
        raise ConfigError(
            "Säilytysaikaa ei ole asetettu. Anna --years N tai aseta SOMEQUIZ_RETENTION_YEARS."
        )
    with _database() as database:
        deleted = Admin(database).apply_retention(chosen)
    click.echo(f"Poistettu {deleted} yli {chosen} vuotta vanhaa vastausta.")


@click.command("demo-data")
@click.option("--learners", type=click.IntRange(min=1, max=1_000_000), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
def demo_data(learners: int, seed: int) -> None:
    """Täytä tietokanta keksityillä mutta kelvollisilla suorituksilla (demoja ja testejä varten)."""
    from somequiz.course.demo import generate

    with _database() as database:
        summary = generate(database, _content(), learners=learners, seed=seed)
    click.echo(
        f"Luotu {summary.learners} oppijaa: {summary.completed} suoritusta "
        f"({summary.passed} hyväksyttyä), {summary.in_progress} kesken, "
        f"{summary.not_started} aloittamatta, {summary.answers} vastausta."
    )


@click.group()
def roster() -> None:
    """Henkilöstölista (kuka kurssin suorittaa ja mistä päivästä)."""


@roster.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Poista listalta ne, joita tiedostossa ei ole.")
def roster_import(file: Path, replace: bool) -> None:
    """Tuo henkilöstölista CSV- tai XLSX-tiedostosta (kaikki tai ei mitään)."""
    from somequiz.records.roster_file import read_roster

    entries = read_roster(file)
    with _database() as database:
        result = Admin(database).import_roster(entries, replace=replace)
    click.echo(
        f"Tuotu {len(entries)} riviä: {result.added} uutta, {result.updated} päivitetty, "
        f"{result.removed} poistettu."
    )


@click.command()
@click.option("--certificate", "code", default=None, help="Tarkista tämä todistuskoodi.")
def verify(code: str | None) -> None:
    """Tarkista suoritusten allekirjoitukset ja listaa muutetut rivit."""
    with _database() as database:
        signatures = Signatures(database)
        if code is not None:
            check = signatures.verify_certificate(code)
            if not check.found:
                click.echo(f"Todistusta {check.code} ei löydy.", err=True)
                sys.exit(1)
            when = check.completed_at.date() if check.completed_at else None
            day = f"{when.day}.{when.month}.{when.year}" if when else "?"
            who = check.name or "(tiedot poistettu)"
            if not check.valid:
                click.echo(f"Todistus {check.code} on MUUTETTU: sitä ei voi hyväksyä.", err=True)
                sys.exit(1)
            verdict = "hyväksytty" if check.passed else "ei hyväksytty"
            click.echo(f"Todistus {check.code} on aito: {who}, {day}, {verdict}.")
            if check.superseded_at is not None:
                later = check.superseded_at.date()
                click.echo(
                    f"Todistus on korvattu: sama henkilö suoritti kurssin uudelleen "
                    f"{later.day}.{later.month}.{later.year}. Voimassa on uudempi todistus."
                )
            return
        report = signatures.verify()
    _report(report)


def _report(report: Verification) -> None:
    """Print what verify found, each kind in words; exit 1 if anything."""

    def problems(kinds: tuple[Problem, ...], missing: int = 0) -> str:
        return "; ".join(message("fi", f"verify_{kind}", missing=missing) for kind in kinds)

    for row in report.altered:
        click.echo(
            message(
                "fi",
                "verify_completion",
                id=row.completion_id,
                attempt=row.attempt_id,
                code=row.certificate_code or "-",
                problems=problems(row.problems),
            )
        )
    for person in report.learners:
        found = problems(person.problems, person.missing)
        number = person.employee_number or "-"
        click.echo(
            message("fi", "verify_learner", id=person.learner_id, number=number, problems=found)
        )
    counts = {"checked": report.checked, "learners": report.learners_checked}
    if not report.clean:
        altered = {"altered": len(report.altered), "people": len(report.learners)}
        click.echo(message("fi", "verify_found", **counts, **altered), err=True)
        sys.exit(1)
    click.echo(message("fi", "verify_clean", **counts))


@click.command()
@click.option("--learner", "ref", required=True, help="Henkilönumero tai #sisäinen-tunniste.")
@click.option("--yes", is_flag=True, help="Älä kysy vahvistusta.")
def erase(ref: str, yes: bool) -> None:
    """Poista oppijan henkilötiedot ja vastaukset (tietosuoja); tilastot säilyvät nimettöminä."""
    with _database() as database:
        admin = Admin(database)
        learner = admin.find_learner(ref)
        if learner is None:
            raise ConfigError(f"Oppijaa {ref} ei löydy (tai hänen tietonsa on jo poistettu).")
        if not yes:
            click.confirm(
                f"Poistetaanko oppijan {learner.name} ({ref}) tiedot pysyvästi?", abort=True
            )
        done = admin.erase_learner(learner.id)
    click.echo(
        f"Poistettu: henkilötiedot, {done.answers_deleted} vastausta ja {done.flags_deleted} "
        f"huomautusta. {done.completions_kept} suoritusta säilyy nimettömänä."
    )


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv", "xapi"]), default="xlsx", show_default=True
)
@click.option("--since", default=None, help="Vain tästä päivästä (p.k.vvvv) alkaen.")
@click.option("--unit", default=None, help="Vain tämä yksikkö.")
@click.option(
    "--sheet",
    type=click.Choice(["completions", "overdue", "themes", "items"]),
    default="completions",
    show_default=True,
    help="CSV: mikä taulukko kirjoitetaan.",
)
@click.option(
    "--pseudonymous", is_flag=True, help="xAPI: oppijat tunnisteella, ei henkilönumerolla."
)
@click.option(
    "--lrs", default=None, help="xAPI: lähetä oppimistietovarastoon (LRS) tähän osoitteeseen."
)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None)
def export(
    fmt: str,
    since: str | None,
    unit: str | None,
    sheet: str,
    pseudonymous: bool,
    lrs: str | None,
    output: Path | None,
) -> None:
    """Vie suoritukset Exceliin, CSV:ksi tai xAPI-lausekkeiksi."""
    from somequiz.reports import export as exporting

    day = _parse_date(since)
    content = _content()
    with _database() as database:
        records = Reports(database)
        if fmt == "xapi":
            _export_xapi(records, content, day, unit, pseudonymous, lrs, output)
            return
        # A CSV holds one sheet: build only that one (the item analysis reads every answer).
        sheets: tuple[exporting.Sheet, ...] = (
            (cast("exporting.Sheet", sheet),) if fmt == "csv" else get_args(exporting.Sheet)
        )
        tables = exporting.build(records, content, exporting.Filters(day, unit), sheets=sheets)
    target = output or settings().results / f"suoritukset.{fmt}"
    try:
        if fmt == "xlsx":
            exporting.write_xlsx(tables, target)
        else:
            exporting.write_csv(tables[sheet], target)  # type: ignore[index]
    except OSError as exc:
        raise ExportError(f"Tiedostoa {target} ei voi kirjoittaa: {exc.strerror}.") from exc
    click.echo(f"Kirjoitettu {target}")


def _export_xapi(
    records: Reports,
    content: Content,
    day: date | None,
    unit: str | None,
    pseudonymous: bool,
    lrs: str | None,
    output: Path | None,
) -> None:
    import pandas as pd

    from somequiz.reports import xapi

    since = pd.Timestamp(datetime.combine(day, datetime.min.time(), UTC)) if day else None
    items = list(
        xapi.statements(records, content, since=since, unit=unit, pseudonymous=pseudonymous)
    )
    if lrs:
        user, password = settings().lrs_user, settings().lrs_password
        if not user:
            raise ConfigError("Aseta LRS-tunnukset: SOMEQUIZ_LRS_USER ja SOMEQUIZ_LRS_PASSWORD.")
        result = xapi.send(items, lrs, auth=(user, password))
        click.echo(f"Lähetetty {result.sent} lauseketta; {result.already_there} oli jo perillä.")
        if output is None:
            return
    if output is None or str(output) == "-":
        xapi.write_jsonl(items, sys.stdout)
        return
    try:
        with output.open("w", encoding="utf-8") as handle:
            xapi.write_jsonl(items, handle)
    except OSError as exc:
        raise ExportError(f"Tiedostoa {output} ei voi kirjoittaa: {exc.strerror}.") from exc
    click.echo(f"Kirjoitettu {len(items)} lauseketta tiedostoon {output}", err=True)


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def report(output: Path) -> None:
    """Kirjoita HR-raportti (dashboard ilman koodia) HTML-tiedostoksi sähköpostia varten."""
    from somequiz.reports.dashboard import render_report

    render_report(output, env=dict(os.environ))
    click.echo(f"Kirjoitettu {output}")


COMMANDS = [db, demo_data, roster, verify, erase, export, report]
