"""The scoring engine: a scenario run and a course run as state machines. Pure Python, no I/O.

The pass rules, the one set used everywhere (learner screens, records, HR):
- a scenario is passed when it is finished, scores at least the course's ``pass_percent``
  and has no harmful answer; only passed scenarios count as done;
- the course is passed when every scenario is finished, the total reaches ``pass_percent``
  and every scenario of a ``must_pass_themes`` theme is passed;
- a scenario not passed may be taken again while tries (``max_attempts``) are left.

Partial credit on "select all that apply" steps: every selected choice adds its points
(correct options are positive, wrong ones zero or negative), the step total is floored at 0
and can reach the sum of the positive options. The answer's severity is the worst severity
among the selected choices; a perfect-looking selection that misses a correct option is at
best ``acceptable``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from somequiz.content import graph
from somequiz.content.models import (
    SEVERITIES,
    Catalogue,
    Choice,
    Course,
    Ending,
    Scenario,
    Severity,
    Step,
)
from somequiz.errors import AnswerError

_RANK = {severity: n for n, severity in enumerate(SEVERITIES)}


def worst(severities: Iterable[Severity]) -> Severity:
    """The most serious of ``severities`` (``best`` for none)."""
    return max(severities, key=_RANK.__getitem__, default="best")


@dataclass(frozen=True)
class Feedback:
    """What the learner gets back after answering a step."""

    step_id: str
    chosen: tuple[str, ...]
    points: int
    max_points: int
    severity: Severity
    choices: tuple[Choice, ...]
    missed: tuple[Choice, ...]
    rules: tuple[str, ...]
    next_step: str | None
    ending: Ending | None


@dataclass(frozen=True)
class Answer:
    """A stored answer: enough to replay a run."""

    step_id: str
    chosen: tuple[str, ...]


@dataclass(frozen=True)
class ScenarioResult:
    """The outcome of one finished (or abandoned) scenario run."""

    scenario_id: str
    points: int
    max_points: int
    worst: Severity
    rules_to_review: tuple[str, ...]
    ending: Ending | None

    @property
    def scaled(self) -> float:
        """Score in [0, 1]."""
        return min(1.0, self.points / self.max_points) if self.max_points else 0.0


class ScenarioRun:
    """One learner's way through one scenario."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.current: Step | None = scenario.steps[0]
        self.ending: Ending | None = None
        self.feedback: list[Feedback] = []

    @classmethod
    def replay(cls, scenario: Scenario, answers: Sequence[Answer]) -> ScenarioRun:
        """A run rebuilt from stored answers (for resuming)."""
        run = cls(scenario)
        for answer in answers:
            run.answer(answer.step_id, answer.chosen)
        return run

    @property
    def finished(self) -> bool:
        """Whether the run has reached an ending."""
        return self.current is None

    @property
    def answers(self) -> list[Answer]:
        """The answers given so far, in order."""
        return [Answer(f.step_id, f.chosen) for f in self.feedback]

    def answer(self, step_id: str, chosen: Iterable[str]) -> Feedback:
        """Grade an answer to the current step and move on; invalid answers change nothing."""
        step = self.current
        if step is None:
            raise AnswerError("Skenaario on jo päättynyt.")
        if step_id != step.id:
            answered = any(f.step_id == step_id for f in self.feedback)
            raise AnswerError(
                "Tähän kohtaan on jo vastattu." if answered else "Vastaus ei koske nykyistä kohtaa."
            )
        ids = tuple(dict.fromkeys(chosen))
        by_id = {c.id: c for c in step.choices}
        if not ids:
            raise AnswerError("Valitse vähintään yksi vaihtoehto.")
        if any(i not in by_id for i in ids):
            raise AnswerError("Tuntematon vaihtoehto.")
        if step.kind == "single" and len(ids) != 1:
            raise AnswerError("Valitse yksi vaihtoehto.")
        picked = tuple(c for c in step.choices if c.id in ids)
        feedback = self._grade(step, picked)
        self.feedback.append(feedback)
        self.current = self.scenario.step(feedback.next_step) if feedback.next_step else None
        self.ending = feedback.ending
        return feedback

    def _grade(self, step: Step, picked: tuple[Choice, ...]) -> Feedback:
        best = set(graph.best_selection(step))
        missed = tuple(c for c in step.choices if c.id in best and c not in picked)
        severity = worst(c.severity for c in picked)
        if step.kind == "multi":
            points = max(0, sum(c.points for c in picked))
            if missed:
                severity = worst([severity, "acceptable"])
        else:
            points = picked[0].points
        target = self.scenario.next_after(step, picked[0] if step.kind == "single" else None)
        ending = self.scenario.ending(target) if target else None
        rules = tuple(dict.fromkeys(r for c in (*picked, *missed) for r in c.rules))
        return Feedback(
            step_id=step.id,
            chosen=tuple(c.id for c in picked),
            points=points,
            max_points=graph.step_max_points(step),
            severity=severity,
            choices=picked,
            missed=missed,
            rules=rules,
            next_step=None if ending else target,
            ending=ending,
        )

    def result(self) -> ScenarioResult:
        """Points against the best path's maximum, and the rules worth reviewing."""
        review = [r for f in self.feedback if f.severity != "best" for r in f.rules]
        return ScenarioResult(
            scenario_id=self.scenario.id,
            points=sum(f.points for f in self.feedback),
            max_points=graph.max_points(self.scenario),
            worst=worst(f.severity for f in self.feedback),
            rules_to_review=tuple(dict.fromkeys(review)),
            ending=self.ending,
        )


@dataclass(frozen=True)
class Reason:
    """Why a course is not passed, as a code the UI words in the learner's language."""

    code: str
    percent: int = 0
    scenario_id: str = ""


@dataclass(frozen=True)
class CourseResult:
    """The course outcome as HR and the learner see it."""

    points: int
    max_points: int
    theme_scores: dict[str, float]
    passed: bool
    reasons: tuple[Reason, ...]
    rules_to_review: tuple[str, ...]
    scenario_results: tuple[ScenarioResult, ...]

    @property
    def scaled(self) -> float:
        """Score in [0, 1]."""
        return self.points / self.max_points if self.max_points else 0.0


@dataclass
class CourseRun:
    """A learner's runs of the course's scenarios; a retry replaces a scenario's run."""

    course: Course
    scenarios: dict[str, Scenario]
    runs: dict[str, ScenarioRun] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)

    def start(self, scenario_id: str) -> ScenarioRun:
        """Start (or retry) a scenario of the course."""
        if scenario_id not in self.course.scenarios:
            raise AnswerError("Skenaario ei kuulu kurssiin.")
        used = self.attempts.get(scenario_id, 0)
        if used >= self.course.max_attempts:
            raise AnswerError("Tämän skenaarion yrityskerrat on käytetty.")
        self.attempts[scenario_id] = used + 1
        run = ScenarioRun(self.scenarios[scenario_id])
        self.runs[scenario_id] = run
        return run

    def can_retry(self, scenario_id: str) -> bool:
        """Whether a finished scenario may be taken again."""
        run = self.runs.get(scenario_id)
        return (
            run is not None
            and run.finished
            and self.tries_left(scenario_id) > 0
            and not self.scenario_passed(scenario_id)
        )

    def scenario_passed(self, scenario_id: str) -> bool:
        """Passed: finished, at the course threshold and without a harmful answer."""
        run = self.runs.get(scenario_id)
        if run is None or not run.finished:
            return False
        result = run.result()
        return result.scaled * 100 >= self.course.pass_percent and result.worst != "harmful"

    def must_pass(self, scenario_id: str) -> bool:
        """Whether the scenario has a theme the course requires to be passed."""
        themes = set(self.scenarios[scenario_id].themes)
        return bool(themes & set(self.course.must_pass_themes))

    def tries_left(self, scenario_id: str) -> int:
        """How many more times the scenario may be started."""
        return max(0, self.course.max_attempts - self.attempts.get(scenario_id, 0))

    @property
    def final(self) -> bool:
        """Whether the course is over: passed, or failed with nothing left to retry."""
        if not self.finished:
            return False
        return self.result().passed or not any(self.can_retry(sid) for sid in self.course.scenarios)

    @property
    def finished(self) -> bool:
        """Whether every scenario of the course has been finished."""
        return all(sid in self.runs and self.runs[sid].finished for sid in self.course.scenarios)

    def result(self, catalogue: Catalogue | None = None) -> CourseResult:
        """Scaled score, per-theme scores, pass or fail with the reasons."""
        results = [
            self.runs[sid].result() if sid in self.runs else _empty(self.scenarios[sid])
            for sid in self.course.scenarios
        ]
        points = sum(r.points for r in results)
        maximum = sum(r.max_points for r in results)
        theme_points: dict[str, list[int]] = {}
        for result in results:
            for theme in self.scenarios[result.scenario_id].themes:
                earned, most = theme_points.setdefault(theme, [0, 0])
                theme_points[theme] = [earned + result.points, most + result.max_points]
        reasons: list[Reason] = []
        if not self.finished:
            reasons.append(Reason("unfinished"))
        if maximum and points * 100 < self.course.pass_percent * maximum:
            reasons.append(Reason("below_pass", percent=self.course.pass_percent))
        for sid in self.course.scenarios:
            finished = sid in self.runs and self.runs[sid].finished
            if finished and self.must_pass(sid) and not self.scenario_passed(sid):
                reasons.append(Reason("must_pass_failed", scenario_id=sid))
        review = [r for result in results for r in result.rules_to_review]
        if catalogue is not None:
            order = {rule.id: n for n, (_, rule) in enumerate(catalogue.rules())}
            review.sort(key=lambda r: order.get(r, len(order)))
        return CourseResult(
            points=points,
            max_points=maximum,
            theme_scores={t: (e / m if m else 0.0) for t, (e, m) in theme_points.items()},
            passed=not reasons,
            reasons=tuple(reasons),
            rules_to_review=tuple(dict.fromkeys(review)),
            scenario_results=tuple(results),
        )


def _empty(scenario: Scenario) -> ScenarioResult:
    return ScenarioResult(scenario.id, 0, graph.max_points(scenario), "best", (), None)
