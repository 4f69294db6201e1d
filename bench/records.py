"""Records benchmark: exports and the HR dashboard on a big store, and concurrent writes.

Run: ``.venv/bin/python bench/records.py`` (``--quick`` for a smoke run; ``--no-postgres``
to skip PostgreSQL). PostgreSQL from ``SOMEQUIZ_BENCH_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``): a database of its own is created and
dropped.

Synthetic data is inserted in bulk through the store's tables with SQLAlchemy Core (not through
``CourseRecords.record_answer``/``record_completion``: that path is tested elsewhere and would take
hours). It is still valid: course runs are made through the engine (``CourseRun``) as
templates and replicated; completions carry real certificate codes and signatures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from common import ROOT, figure, header, load_average, wait_for_quiet
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from somequiz.config import settings
from somequiz.content.folder import Content, load_content
from somequiz.content.hashing import course_hash, model_hash
from somequiz.course.demo import simulated_answers
from somequiz.engine.scoring import CourseResult, CourseRun
from somequiz.records.course import CourseRecords
from somequiz.records.database import Database
from somequiz.records.reports import Reports
from somequiz.records.signing import Signer
from somequiz.records.tables import (
    AnswerRow,
    AttemptRow,
    CompletionRow,
    FlagRow,
    LearnerRow,
    RosterRow,
)
from somequiz.reports import dashboard, export

PG_URL = os.environ.get(
    "SOMEQUIZ_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WRITERS = 8
COMPLETION_COLUMNS = [c.name for c in CompletionRow.__table__.columns if c.name != "id"]
BATCH = 20_000
Values = dict[str, Any]  # one row's column values, as insert() takes them


@dataclass(frozen=True)
class Template:
    """One course run made by the engine: its answers and result."""

    answers: Sequence[tuple[str, int, str, int, str, str, int, int, str]]
    result: CourseResult


def templates(content: Content, count: int, seed: int) -> list[Template]:
    """``count`` course runs through the engine, with retries, skills from 0.45 to 0.98."""
    rng = random.Random(seed)
    made = []
    hashes = {sid: model_hash(s) for sid, s in content.scenarios.items()}
    for _ in range(count):
        run = CourseRun(content.course, content.scenarios)
        answers = [
            (
                given.scenario.id,
                given.scenario.version,
                hashes[given.scenario.id],
                given.scenario_try,
                given.step.id,
                json.dumps(list(given.feedback.chosen)),
                given.feedback.points,
                given.feedback.max_points,
                given.feedback.severity,
            )
            for given in simulated_answers(run, rng, rng.uniform(0.45, 0.98))
        ]
        made.append(Template(answers, run.result(content.catalogue)))
    return made


def _chunks(rows: list[Values], size: int = BATCH) -> Iterator[list[Values]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(engine: Engine, table: Any, rows: list[Values]) -> None:
    with engine.begin() as connection:
        for chunk in _chunks(rows):
            connection.execute(insert(table), chunk)


def _database(url: str, *, migrate: bool = True) -> Database:
    """The database at ``url`` with the configured key."""
    options = settings()
    return Database(url, results=options.results, secret_key=options.secret_key, migrate=migrate)


def fill(store: Database, content: Content, completions: int, answers: int, seed: int = 1) -> str:
    """Bulk-insert roster, learners, attempts, completions, answers and flags; a summary."""
    rng = random.Random(seed)
    signer = Signer(store.secret)
    runs = templates(content, 200, seed)
    chash = course_hash(content)
    units = content.course.unit_names or ["Yksikkö"]
    today = datetime.now(UTC).replace(microsecond=0)
    in_progress = completions // 20
    learners = completions + in_progress
    roster_size = learners + completions // 20  # and some who have not started
    roster: list[Values] = []
    people: list[Values] = []
    attempts: list[Values] = []
    done: list[Values] = []
    given: list[Values] = []
    moment = today
    for n in range(roster_size):
        employee = f"E{n + 1:07d}"
        unit = rng.choice(units)
        name = f"Oppija {n + 1}"
        # Completions spread over three years, newest first.
        finished = today - timedelta(seconds=int(3 * 365 * 86400 * n / max(1, roster_size)))
        start_day = (finished - timedelta(days=rng.randint(1, 40))).date()
        roster.append(
            {
                "employee_number": employee,
                "name": name,
                "unit": unit,
                "start_date": start_day,
                "email": None,
                "imported_at": moment,
            }
        )
        if n >= learners:
            continue
        people.append(
            {
                "id": n + 1,
                "learner_key": f"emp:{employee}",
                "name": name,
                "employee_number": employee,
                "unit": unit,
                "email": None,
                "created_at": finished - timedelta(hours=2),
                "erased_at": None,
            }
        )
        attempt_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        finishing = n < completions
        attempts.append(
            {
                "id": attempt_id,
                "learner_id": n + 1,
                "course_id": content.course.id,
                "course_version": content.course.version,
                "course_hash": chash,
                "lang": "fi",
                "status": "completed" if finishing else "in_progress",
                "started_at": finished - timedelta(hours=1),
                "finished_at": finished if finishing else None,
            }
        )
        if not finishing:
            continue
        run = runs[n % len(runs)]
        row = CompletionRow(
            attempt_id=attempt_id,
            learner_id=n + 1,
            completed_at=finished,
            points=run.result.points,
            max_points=run.result.max_points,
            passed=run.result.passed,
            theme_scores={k: round(v, 4) for k, v in run.result.theme_scores.items()},
            course_hash=chash,
            certificate_code=signer.certificate_code(attempt_id),
            signature="",
        )
        row.signature = signer.signature(row, f"emp:{employee}")
        done.append({c: getattr(row, c) for c in COMPLETION_COLUMNS})
        # Answers are kept for the newest completions only (as after the retention setting).
        if len(given) < answers:
            clock = finished - timedelta(hours=1)
            for seq, item in enumerate(run.answers[: answers - len(given)], start=1):
                sid, version, shash, attempt_try, step_id, chosen, points, maximum, severity = item
                clock += timedelta(seconds=20)
                given.append(
                    {
                        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "attempt_id": attempt_id,
                        "scenario_id": sid,
                        "scenario_version": version,
                        "scenario_hash": shash,
                        "scenario_try": attempt_try,
                        "step_id": step_id,
                        "seq": seq,
                        "chosen": chosen,
                        "points": points,
                        "max_points": maximum,
                        "severity": severity,
                        "answered_at": clock,
                    }
                )
    flags = [
        {
            "attempt_id": given[i]["attempt_id"],
            "scenario_id": given[i]["scenario_id"],
            "step_id": given[i]["step_id"],
            "comment": "Vaihtoehdot olivat epäselviä.",
            "created_at": given[i]["answered_at"],
        }
        for i in range(0, len(given), 1000)
    ]
    for table, rows in (
        (RosterRow, roster),
        (LearnerRow, people),
        (AttemptRow, attempts),
        (CompletionRow, done),
        (AnswerRow, given),
        (FlagRow, flags),
    ):
        _insert(store.engine, table, rows)
    with_answers = len({a["attempt_id"] for a in given})
    return (
        f"{len(roster)} roster rows, {len(people)} learners, {len(attempts)} attempts, "
        f"{len(done)} completions, {len(given)} answers (for the newest {with_answers} "
        f"completions), {len(flags)} flags"
    )


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def bench_exports(
    store: Database, content: Content, folder: Path, skip: set[str] | None = None
) -> dict[str, float]:
    """CSV, XLSX and the dashboard (less those in ``skip``), each with its baseline."""
    skip = skip or set()
    found: dict[str, float] = {}
    # The store's frames, for the breakdown.
    for name in ("roster_frame", "attempts_frame", "answers_frame"):
        if "frames" in skip:
            break
        seconds, frame = timed(getattr(Reports(store), name))
        figure(f"read_{name}_s", seconds, "s", note=f"{len(frame)} rows")
        del frame
    if "csv" not in skip:
        found["csv"] = _bench_csv(store, content, folder)
    if "xlsx" not in skip:
        found["xlsx"] = _bench_xlsx(store, content, folder)
    if "dashboard" not in skip:
        found["dashboard"] = _bench_dashboard(store, content, folder)
    return found


def _bench_csv(store: Database, content: Content, folder: Path) -> float:
    """CSV as `somequiz export --format csv` does it: the completions sheet built and written."""
    csv_path = folder / "suoritukset.csv"
    build_s, tables = timed(
        lambda: export.build(Reports(store), content, export.Filters(), sheets=("completions",))
    )
    write_s, _ = timed(lambda: export.write_csv(tables["completions"], csv_path))
    plain_s, _ = timed(lambda: tables["completions"].to_csv(folder / "plain.csv", index=False))
    rows = len(tables["completions"])
    figure("csv_build_completions_s", build_s, "s", note="export.build, completions sheet")
    figure("csv_write_s", write_s, "s", baseline=plain_s, note="vs pandas to_csv, same rows")
    total = build_s + write_s
    figure(
        "csv_export_total_s",
        total,
        "s",
        baseline=plain_s,
        note=f"build + write, {rows} rows, goal <= 3 s; vs pandas to_csv",
    )
    figure("baseline_pandas_to_csv_s", plain_s, "s", note=f"{rows} rows")
    return total


def _bench_xlsx(store: Database, content: Content, folder: Path) -> float:
    """XLSX as `somequiz export --format xlsx`: every sheet built, the workbook written."""
    xlsx_path = folder / "suoritukset.xlsx"
    all_s, tables = timed(lambda: export.build(Reports(store), content, export.Filters()))
    write_xlsx_s, _ = timed(lambda: export.write_xlsx(tables, xlsx_path))
    total = all_s + write_xlsx_s
    figure("xlsx_build_s", all_s, "s", note="export.build: reads and statuses")
    figure("xlsx_write_s", write_xlsx_s, "s", note="export.write_xlsx, sheets made as it goes")

    def plain_xlsx() -> None:
        with pd.ExcelWriter(folder / "plain.xlsx", engine="openpyxl") as writer:
            for key, frame in tables.items():
                frame.to_excel(writer, sheet_name=export.SHEETS[key], index=False)

    plain_xlsx_s, _ = timed(plain_xlsx)
    figure(
        "xlsx_export_total_s",
        total,
        "s",
        baseline=plain_xlsx_s,
        note="build + write_xlsx, goal <= 15 s; vs plain pandas to_excel(openpyxl)",
    )
    figure("baseline_pandas_to_excel_s", plain_xlsx_s, "s", note="same four sheets")
    return total


def _bench_dashboard(store: Database, content: Content, folder: Path) -> float:
    """The HR dashboard: the notebook executed by nbclient, and its build functions in-process."""
    board_s, board = timed(lambda: dashboard.build(Reports(store), content))
    sections_s, _ = timed(lambda: dashboard.report_html(board, content))
    figure("dashboard_build_s", board_s, "s", note="dashboard.build in-process")
    figure("dashboard_sections_s", sections_s, "s", note="bars and HTML tables (report_html)")
    total, _ = timed(lambda: dashboard.render_report(folder / "raportti.html"))
    empty_s, _ = timed(lambda: _execute_trivial_notebook(folder))
    figure(
        "dashboard_notebook_executed_s",
        total,
        "s",
        baseline=empty_s,
        note="render_report (nbclient + HTML), goal <= 10 s; vs a one-cell notebook",
    )
    figure("baseline_trivial_notebook_s", empty_s, "s", note="kernel start + one cell + HTML")
    return total


def _execute_trivial_notebook(folder: Path) -> None:
    import nbconvert
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    body, _ = nbconvert.HTMLExporter(exclude_input=True).from_notebook_node(notebook)
    (folder / "trivial.html").write_text(body, encoding="utf-8")


# Concurrent writes


def _prepare_attempts(store: Database, content: Content, count: int, tag: str) -> list[list[str]]:
    """``WRITERS`` learners with ``count`` open attempts each; attempt ids per writer."""
    rng = random.Random(tag)
    with store.engine.connect() as connection:
        start = connection.scalar(select(func.coalesce(func.max(LearnerRow.id), 0))) or 0
    moment = datetime.now(UTC)
    people: list[Values] = []
    attempts: list[Values] = []
    ids: list[list[str]] = []
    for w in range(WRITERS):
        learner_id = start + w + 1
        people.append(
            {
                "id": learner_id,
                "learner_key": f"emp:{tag}{w}",
                "name": f"Kirjoittaja {w}",
                "employee_number": f"{tag}{w}",
                "unit": "Kotihoito",
                "email": None,
                "created_at": moment,
                "erased_at": None,
            }
        )
        mine = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]
        ids.append(mine)
        attempts.extend(
            {
                "id": attempt_id,
                "learner_id": learner_id,
                "course_id": content.course.id,
                "course_version": content.course.version,
                "course_hash": course_hash(content),
                "lang": "fi",
                "status": "in_progress",
                "started_at": moment,
                "finished_at": None,
            }
            for attempt_id in mine
        )
    _insert(store.engine, LearnerRow, people)
    _insert(store.engine, AttemptRow, attempts)
    return ids


def _store_writer(
    url: str, attempt_ids: Sequence[str], result: CourseResult, barrier: Any, out: Any
) -> None:
    """A writer process: record a completion for each attempt through the store."""
    store = _database(url, migrate=False)
    records = CourseRecords(store)
    _ = store.secret
    with store.engine.connect() as connection:  # connect before the clock starts
        connection.execute(text("SELECT 1"))
    done = errors = 0
    barrier.wait()
    started = time.perf_counter()
    for attempt_id in attempt_ids:
        try:
            records.record_completion(attempt_id, result)
            done += 1
        except Exception:
            errors += 1
    out.put((done, errors, started, time.perf_counter()))
    store.close()


def _raw_writer(url: str, rows: Sequence[tuple[Any, ...]], barrier: Any, out: Any) -> None:
    """A baseline writer: one DBAPI ``executemany`` of its completion rows, one transaction."""
    engine = _database(url, migrate=False).engine
    connection = engine.raw_connection()
    sqlite = engine.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    columns = (
        "attempt_id, learner_id, completed_at, points, max_points, passed, theme_scores, "
        "course_hash, certificate_code, signature"
    )
    sql = f"INSERT INTO completions ({columns}) VALUES ({', '.join([mark] * 10)})"
    if sqlite:
        rows = [(*r[:2], r[2].strftime("%Y-%m-%d %H:%M:%S.%f"), *r[3:]) for r in rows]
    barrier.wait()
    started = time.perf_counter()
    errors = 0
    try:
        cursor = connection.cursor()
        cursor.executemany(sql, rows)
        connection.commit()
    except Exception:
        errors = len(rows)
    out.put((len(rows) - errors, errors, started, time.perf_counter()))
    connection.close()
    engine.dispose()


def _run_writers(
    target: Callable[..., None], jobs: list[tuple[Any, ...]]
) -> tuple[int, int, float]:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(jobs))
    out = context.Queue()
    processes = [context.Process(target=target, args=(*job, barrier, out)) for job in jobs]
    for process in processes:
        process.start()
    results = [out.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    elapsed = max(r[3] for r in results) - min(r[2] for r in results)
    return done, errors, elapsed


def bench_writes(kind: str, url: str, content: Content, per_writer: int) -> dict[str, float]:
    """8 writers through CourseRecords.record_completion vs 8 raw executemany writers."""
    store = _database(url)
    signer = Signer(store.secret)
    try:
        result = CourseRun(content.course, content.scenarios).result(content.catalogue)
        ids = _prepare_attempts(store, content, per_writer, "W")
        done, errors, elapsed = _run_writers(_store_writer, [(url, mine, result) for mine in ids])
        expected = WRITERS * per_writer
        with store.engine.connect() as connection:
            stored = connection.scalar(
                select(func.count())
                .select_from(CompletionRow)
                .where(CompletionRow.attempt_id.in_([a for mine in ids for a in mine]))
            )
        lost = expected - int(stored or 0)

        base_ids = _prepare_attempts(store, content, per_writer, "R")
        with store.engine.connect() as connection:
            owners = dict(
                connection.execute(
                    select(AttemptRow.id, AttemptRow.learner_id).where(
                        AttemptRow.id.in_([a for mine in base_ids for a in mine])
                    )
                ).all()
            )
        moment = datetime.now(UTC).replace(microsecond=0)
        scores = json.dumps({k: round(v, 4) for k, v in result.theme_scores.items()})
        jobs = [
            (
                url,
                [
                    (
                        a,
                        owners[a],
                        moment,
                        result.points,
                        result.max_points,
                        result.passed,
                        scores,
                        course_hash(content),
                        signer.certificate_code(a),
                        "0" * 64,
                    )
                    for a in mine
                ],
            )
            for mine in base_ids
        ]
        raw_done, raw_errors, raw_elapsed = _run_writers(_raw_writer, jobs)
    finally:
        store.close()
    rate = done / elapsed if elapsed else 0.0
    raw_rate = raw_done / raw_elapsed if raw_elapsed else 0.0
    figure(
        f"writes_{kind}_completions_per_s",
        rate,
        "completions/s",
        baseline=raw_rate,
        note=(
            f"{WRITERS} writers x {per_writer}, {elapsed:.2f} s, errors {errors}, lost {lost}; "
            "goal >= 500/s; ratio vs raw executemany"
        ),
    )
    figure(
        f"baseline_{kind}_executemany_per_s",
        raw_rate,
        "rows/s",
        note=f"{WRITERS} writers, one executemany each, errors {raw_errors}",
    )
    return {"rate": rate, "errors": errors, "lost": lost}


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the benchmark, dropped afterwards."""
    name = f"somequiz_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--completions", type=int, default=None, help="default 100000")
    parser.add_argument("--answers", type=int, default=None, help="default 1500000")
    parser.add_argument("--per-writer", type=int, default=None, help="default 250")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--max-load", type=float, default=1.5)
    parser.add_argument("--wait", type=float, default=None, help="max s to wait for low load")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="keep the generated store in this folder and reuse it when its sizes match",
    )
    parser.add_argument(
        "--skip",
        action="append",
        choices=["frames", "csv", "xlsx", "dashboard", "writes"],
        default=[],
        help="leave out a part (repeatable), for profiling one figure",
    )
    args = parser.parse_args()
    completions = args.completions or (500 if args.quick else 100_000)
    answers = args.answers or (5_000 if args.quick else 1_500_000)
    per_writer = args.per_writer or (10 if args.quick else 250)
    wait = args.wait if args.wait is not None else (0 if args.quick else 1200)

    header("Records benchmark (bench/records.py)" + (" --quick" if args.quick else ""))
    with tempfile.TemporaryDirectory(prefix="sq-bench-records-") as tmp:
        folder = Path(tmp)
        for key in [k for k in os.environ if k.startswith("SOMEQUIZ_")]:
            if key != "SOMEQUIZ_BENCH_PG_URL":
                del os.environ[key]
        data = (args.data or folder).resolve()
        os.environ["SOMEQUIZ_RESULTS"] = str(data / "results")
        os.environ["SOMEQUIZ_SCENARIOS"] = str(ROOT / "scenarios")
        os.environ["SOMEQUIZ_SECRET_KEY"] = "bench-key"
        settings.cache_clear()
        content = load_content(ROOT / "scenarios")
        # A kept store is reused only if it was made with the same sizes and content.
        marker = data / "results" / "bench-sizes.json"
        wanted = {"completions": completions, "answers": answers, "course": course_hash(content)}
        reuse = marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == wanted
        if not reuse:
            (data / "results" / "somequiz.db").unlink(missing_ok=True)
        # results/somequiz.db: the dashboard notebook's kernel finds it there.
        store = Database.configured(settings())
        try:
            if reuse:
                print(f"# data: reused {data / 'results' / 'somequiz.db'} ({wanted})")
            else:
                fill_s, summary = timed(lambda: fill(store, content, completions, answers))
                marker.write_text(json.dumps(wanted), encoding="utf-8")
                print(f"# data: {summary}")
                figure("setup_bulk_insert_s", fill_s, "s", note="SQLite, Core executemany")
            load = wait_for_quiet(args.max_load, wait)
            print(f"# load before measuring: {load:.2f}", flush=True)
            found = bench_exports(store, content, folder, skip=set(args.skip))
        finally:
            store.close()
        sqlite_url = f"sqlite:///{folder / 'writes.db'}"
        writes = {}
        if "writes" not in args.skip:
            writes["sqlite"] = bench_writes("sqlite", sqlite_url, content, per_writer)
        if not args.no_postgres and "writes" not in args.skip:
            try:
                with postgres_database() as url:
                    writes["postgresql"] = bench_writes("postgresql", url, content, per_writer)
            except Exception as exc:  # no server: say so, keep the other figures
                print(f"# PostgreSQL skipped: {exc.__class__.__name__}: {exc}")
    print(f"# load average at the end: {load_average()[0]:.2f}")
    limits = {"csv": ("CSV export <= 3 s", 3), "xlsx": ("XLSX export <= 15 s", 15)}
    limits["dashboard"] = ("HR dashboard notebook <= 10 s", 10)
    goals = {name: found[key] <= limit for key, (name, limit) in limits.items() if key in found}
    for kind, figures in writes.items():
        goals[f"{kind} writes >= 500/s, 0 lost"] = (
            figures["rate"] >= 500 and figures["lost"] == 0 and figures["errors"] == 0
        )
    for goal, met in goals.items():
        print(f"GOAL {goal}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
