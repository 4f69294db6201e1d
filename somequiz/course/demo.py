"""Synthetic but valid course runs for demos, tests and benchmarks, made through the engine."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash, scenario_hash
from somequiz.content.kinds import kind_of
from somequiz.content.models import Scenario, Step
from somequiz.engine.scoring import CourseResult, CourseRun, Feedback
from somequiz.records.admin import Admin
from somequiz.records.course import CourseRecords
from somequiz.records.database import Database
from somequiz.records.rows import RosterEntry, now

_FIRST = [
    "Aino",
    "Eino",
    "Helmi",
    "Ilmari",
    "Kaarina",
    "Lauri",
    "Maija",
    "Niilo",
    "Outi",
    "Pekka",
    "Riikka",
    "Sampo",
    "Tuula",
    "Veikko",
    "Anneli",
    "Juha",
    "Leena",
    "Matti",
    "Päivi",
    "Timo",
    "Sari",
    "Jukka",
    "Hanna",
    "Antti",
    "Åsa",
    "Öhman",
]
_LAST = [
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Mäkelä",
    "Hämäläinen",
    "Laine",
    "Heikkinen",
    "Koskinen",
    "Järvinen",
    "Lehtonen",
    "Saarinen",
    "Salminen",
    "Heinonen",
    "Niemi",
    "Kallio",
    "Lindqvist",
    "Ylä-Outinen",
]
_DEFAULT_UNITS = ("Hallinto", "Sivistys", "Tekniset palvelut")


@dataclass(frozen=True)
class DemoSummary:
    """How many learners of each kind were made."""

    learners: int
    completed: int
    passed: int
    in_progress: int
    not_started: int
    answers: int


def _pick(rng: random.Random, step: Step, skill: float) -> list[str]:
    best = set(graph.best_selection(step))
    if kind_of(step).picks_one:
        if rng.random() < skill:
            return sorted(best)
        return [rng.choice([c.id for c in step.choices if c.id not in best] or sorted(best))]
    picked = [c.id for c in step.choices if (c.id in best) == (rng.random() < skill)]
    return picked or [rng.choice(step.choices).id]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class SimulatedAnswer:
    """One answer of a simulated learner, graded by the engine."""

    scenario: Scenario
    scenario_try: int
    step: Step
    feedback: Feedback


def simulated_answers(
    run: CourseRun, rng: random.Random, skill: float, *, give_up: float = 0.4
) -> Iterator[SimulatedAnswer]:
    """A learner of ``skill`` (0–1) going through ``run``'s course, retrying failed scenarios.

    Each scenario is played until passed, out of tries, or the learner gives up (with chance
    ``give_up`` after each failed try). Stop iterating to leave the course unfinished; after
    the last answer ``run.result()`` is the course result.
    """
    for sid in run.course.scenarios:
        scenario = run.scenarios[sid]
        while True:
            srun = run.start(sid)
            while srun.current is not None:
                step = srun.current
                feedback = srun.answer(step.id, _pick(rng, step, skill))
                yield SimulatedAnswer(scenario, run.attempts[sid], step, feedback)
            if not run.can_retry(sid) or rng.random() < give_up:
                break


def _roster(
    rng: random.Random, content: Content, learners: int, seed: int, day: date
) -> list[RosterEntry]:
    units = content.course.unit_names or list(_DEFAULT_UNITS)
    return [
        RosterEntry(
            employee_number=f"D{seed % 1000:03d}{n + 1:05d}",
            name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            unit=rng.choice(units),
            start_date=day - timedelta(days=rng.randint(0, 540)),
        )
        for n in range(learners)
    ]


def _take_course(
    records: CourseRecords,
    content: Content,
    entry: RosterEntry,
    rng: random.Random,
    *,
    day: date,
    stop_early: bool,
) -> tuple[int, CourseResult | None]:
    """One person's run: the answers stored, and the result unless they left early."""
    learner = records.learner(
        name=entry.name, employee_number=entry.employee_number, unit=entry.unit
    )
    latest = max(0, (day - entry.start_date).days)
    start_day = entry.start_date + timedelta(days=rng.randint(0, min(latest, 60)))
    clock = datetime.combine(start_day, time(8), UTC) + timedelta(minutes=rng.randint(0, 480))
    course = content.course
    attempt = records.start_attempt(
        learner.id, course.id, course.version, course_hash(content), at=clock
    )
    run = CourseRun(course, content.scenarios)
    answers = 0
    for given in simulated_answers(run, rng, rng.uniform(0.45, 0.98)):
        clock += timedelta(seconds=rng.randint(10, 90))
        records.record_answer(
            answer_id=_uuid(rng),
            attempt_id=attempt.id,
            scenario_id=given.scenario.id,
            scenario_version=given.scenario.version,
            scenario_hash=scenario_hash(content, given.scenario.id),
            scenario_try=given.scenario_try,
            step_id=given.step.id,
            chosen=given.feedback.chosen,
            points=given.feedback.points,
            max_points=given.feedback.max_points,
            severity=given.feedback.severity,
            at=clock,
        )
        answers += 1
        if rng.random() < 0.02:
            records.flag(
                attempt.id, given.scenario.id, given.step.id, "Vaihtoehdot olivat epäselviä."
            )
        if stop_early:
            return answers, None
    result = run.result(content.catalogue)
    records.record_completion(attempt.id, result, at=clock + timedelta(seconds=30))
    return answers, result


def generate(
    db: Database, content: Content, *, learners: int, seed: int = 0, today: date | None = None
) -> DemoSummary:
    """Make ``learners`` people with roster rows and course runs, reproducibly from ``seed``."""
    rng = random.Random(seed)
    day = today or now().date()
    entries = _roster(rng, content, learners, seed, day)
    Admin(db).import_roster(entries)
    records = CourseRecords(db)
    completed = passed = in_progress = not_started = answers = 0
    for entry in entries:
        fate = rng.random()
        if fate < 0.12:
            not_started += 1
            continue
        # fate < 0.22: leaves after the first answer, an attempt in progress
        given, result = _take_course(records, content, entry, rng, day=day, stop_early=fate < 0.22)
        answers += given
        if result is None:
            in_progress += 1
            continue
        completed += 1
        passed += result.passed
    return DemoSummary(learners, completed, passed, in_progress, not_started, answers)
