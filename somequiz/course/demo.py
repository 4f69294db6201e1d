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
from somequiz.content.models import Scenario, Step
from somequiz.engine.scoring import CourseRun, Feedback
from somequiz.records.store import RosterEntry, Store, now

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
    if step.kind == "single":
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


def generate(
    store: Store, content: Content, *, learners: int, seed: int = 0, today: date | None = None
) -> DemoSummary:
    """Make ``learners`` people with roster rows and course runs, reproducibly from ``seed``."""
    rng = random.Random(seed)
    day = today or now().date()
    units = content.course.unit_names or list(_DEFAULT_UNITS)
    chash = course_hash(content)
    entries = []
    for n in range(learners):
        entries.append(
            RosterEntry(
                employee_number=f"D{seed % 1000:03d}{n + 1:05d}",
                name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                unit=rng.choice(units),
                start_date=day - timedelta(days=rng.randint(0, 540)),
            )
        )
    store.import_roster(entries)
    completed = passed = in_progress = not_started = answers = 0
    for entry in entries:
        fate = rng.random()
        if fate < 0.12:
            not_started += 1
            continue
        learner = store.learner(
            name=entry.name, employee_number=entry.employee_number, unit=entry.unit
        )
        latest = max(0, (day - entry.start_date).days)
        start_day = entry.start_date + timedelta(days=rng.randint(0, min(latest, 60)))
        clock = datetime.combine(start_day, time(8), UTC) + timedelta(minutes=rng.randint(0, 480))
        attempt = store.start_attempt(
            learner.id, content.course.id, content.course.version, chash, at=clock
        )
        run = CourseRun(content.course, content.scenarios)
        stop_early = fate < 0.22  # leaves after the first answer: an attempt in progress
        for given in simulated_answers(run, rng, rng.uniform(0.45, 0.98)):
            clock += timedelta(seconds=rng.randint(10, 90))
            store.record_answer(
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
                store.flag(
                    attempt.id, given.scenario.id, given.step.id, "Vaihtoehdot olivat epäselviä."
                )
            if stop_early:
                break
        if stop_early:
            in_progress += 1
            continue
        result = run.result(content.catalogue)
        store.record_completion(attempt.id, result, at=clock + timedelta(seconds=30))
        completed += 1
        passed += result.passed
    return DemoSummary(learners, completed, passed, in_progress, not_started, answers)
