"""One learner's course: sign in, resume, open, answer, retry, finish and flag. No HTML.

The rules live here and in the engine, not in the UI:
- identity: the records decide who a sign-in is (``Store.learner``'s identity rule); a
  browser that signed in is remembered (``BrowserSessions``) until the learner says "not me";
- tries: a returning learner resumes their open attempt; one whose tries are spent in this
  course version cannot start over (HR can see it); one who passed sees their result and
  may deliberately take the course again;
- the choices of every step are shown in the attempt's own order (``order``);
- an answer is graded by the engine and stored before its feedback is shown;
- a completion (and a certificate code, only when passed) is recorded once the course is
  over: passed, or failed with no tries left.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash, scenario_hash
from somequiz.content.models import Choice, Step
from somequiz.course import order
from somequiz.engine.scoring import Answer, CourseResult, CourseRun, Feedback, ScenarioRun
from somequiz.errors import AnswerError
from somequiz.records.sessions import BrowserSessions
from somequiz.records.store import Attempt, Completion, Learner, Store

Standing = Literal["new", "resumed", "passed_before", "tries_spent"]
Status = Literal["todo", "in_progress", "done", "failed", "failed_final"]


@dataclass
class Shown:
    """The step on screen; its random token is what the page must send back."""

    token: str
    scenario_id: str
    scenario_try: int
    step: Step
    choices: tuple[Choice, ...]
    answered: bool = False

    @property
    def step_id(self) -> str:
        """The id of the step on screen."""
        return self.step.id


class LearnerCourse:
    """The course as one learner takes it (``only``: a single scenario, for direct links)."""

    def __init__(
        self,
        content: Content,
        store: Store,
        only: str | None = None,
        browser: str | None = None,
    ) -> None:
        self.content = content
        self.store = store
        self.only = only
        self.browser = browser
        self.learner: Learner | None = None
        self.attempt: Attempt | None = None
        self.run: CourseRun | None = None
        self.completion: Completion | None = None
        self.previous: Completion | None = None

    # Sign-in

    def sign_in(
        self,
        *,
        name: str,
        employee_number: str | None,
        unit: str | None,
        external_id: str | None,
        lang: str,
    ) -> Standing:
        """Identify the learner and find where they stand (IdentityError: not them)."""
        learner = self.store.learner(
            name=name, employee_number=employee_number, unit=unit, external_id=external_id
        )
        if self.browser is not None and external_id is None:
            BrowserSessions(self.store).remember(self.browser, learner.id)
        return self._enter(learner, lang)

    def resume_browser(self, lang: str) -> Standing | None:
        """Sign in again as the learner this browser signed in as, if it did."""
        if self.browser is None:
            return None
        learner = BrowserSessions(self.store).learner(self.browser)
        return self._enter(learner, lang) if learner is not None else None

    def sign_out(self) -> None:
        """Forget the browser's learner ("not me"): the next page asks who you are."""
        if self.browser is not None:
            BrowserSessions(self.store).forget(self.browser)
        self.learner = self.attempt = self.run = self.completion = self.previous = None

    def _enter(self, learner: Learner, lang: str) -> Standing:
        course = self.content.course
        self.learner = learner
        attempt = self.store.open_attempt(learner.id, course.id)
        if attempt is not None:
            self._take(attempt)
            return "resumed"
        standing = self.store.standing(learner.id, course.id, course.version)
        if standing is None:
            self._begin(lang)
            return "new"
        if standing.passed:
            self.previous = standing
            return "passed_before"
        self.completion = standing
        return "tries_spent"

    def start_again(self, lang: str) -> None:
        """A deliberate new attempt by a learner who passed before."""
        if self.learner is None or self.previous is None or self.attempt is not None:
            raise AnswerError("Uutta suorituskertaa ei voi aloittaa nyt.")
        self._begin(lang)

    def _begin(self, lang: str) -> None:
        assert self.learner is not None
        course = self.content.course
        self._take(
            self.store.start_attempt(
                self.learner.id, course.id, course.version, course_hash(self.content), lang
            )
        )

    def _take(self, attempt: Attempt) -> None:
        self.attempt = attempt
        self.run = self._rebuild(attempt)

    def _rebuild(self, attempt: Attempt) -> CourseRun:
        """The course run replayed from the stored answers (resume after reload or restart)."""
        run = CourseRun(self.content.course, self.content.scenarios)
        tries: dict[str, dict[int, list[Answer]]] = {}
        for stored in self.store.answers(attempt.id):
            by_try = tries.setdefault(stored.scenario_id, {})
            by_try.setdefault(stored.scenario_try, []).append(stored.as_answer())
        for sid in self.content.course.scenarios:
            for number in sorted(tries.get(sid, {})):
                run.attempts[sid] = number - 1
                try:
                    scenario_run = run.start(sid)
                    for answer in tries[sid][number]:
                        scenario_run.answer(answer.step_id, answer.chosen)
                except AnswerError:
                    break  # the scenario changed since: keep what still fits
        self.completion = self.store.completion(attempt.id)
        return run

    # The course

    @property
    def course_run(self) -> CourseRun:
        """The run of the signed-in learner's attempt."""
        if self.run is None:
            raise AnswerError("Kirjaudu ensin.")
        return self.run

    @property
    def over(self) -> bool:
        """Whether this attempt is finished for good (its completion is recorded)."""
        return self.completion is not None

    def allowed(self, sid: str) -> bool:
        """Whether the learner may open ``sid`` on this page."""
        return sid in self.content.course.scenarios and (self.only is None or sid == self.only)

    def open(self, sid: str) -> None:
        """Start a scenario the first time it is opened; later opens show where it stands."""
        run = self.course_run
        if not self.allowed(sid):
            raise AnswerError("Skenaario ei kuulu kurssiin.")
        if sid not in run.runs:
            if self.over:
                raise AnswerError("Kurssi on jo päättynyt.")
            run.start(sid)

    def retry(self, sid: str) -> None:
        """Take a scenario that was not passed again, while tries are left."""
        run = self.course_run
        if not self.allowed(sid) or self.over or not run.can_retry(sid):
            raise AnswerError("Tätä skenaariota ei voi yrittää uudelleen.")
        run.start(sid)

    def status(self, sid: str) -> Status:
        """Where a scenario stands; only a passed scenario is done."""
        run = self.course_run
        scenario_run = run.runs.get(sid)
        if scenario_run is None:
            return "todo"
        if not scenario_run.finished:
            return "in_progress"
        if run.scenario_passed(sid):
            return "done"
        return "failed" if run.can_retry(sid) and not self.over else "failed_final"

    def show(self, sid: str) -> Shown | None:
        """The scenario's current step in this attempt's choice order (None when finished)."""
        run = self.course_run
        step = run.runs[sid].current
        if step is None:
            return None
        number = run.attempts[sid]
        assert self.attempt is not None
        choices = order.as_seen(step, self.attempt.id, sid, number)
        return Shown(uuid.uuid4().hex, sid, number, step, tuple(choices))

    def answer(self, shown: Shown, chosen: list[str]) -> Feedback | None:
        """Grade and store an answer; None when another tab answered it first."""
        run = self.course_run
        assert self.attempt is not None
        if self.over or run.attempts.get(shown.scenario_id) != shown.scenario_try:
            raise AnswerError("Vastaus ei koske nykyistä kohtaa.")
        current = run.runs[shown.scenario_id]
        scenario = current.scenario
        # Grade on a copy: the run moves on only once the answer is stored.
        probe = ScenarioRun.replay(scenario, current.answers)
        feedback = probe.answer(shown.step.id, chosen)
        try:
            self.store.record_answer(
                answer_id=str(uuid.uuid4()),
                attempt_id=self.attempt.id,
                scenario_id=scenario.id,
                scenario_version=scenario.version,
                scenario_hash=scenario_hash(self.content, scenario.id),
                scenario_try=shown.scenario_try,
                step_id=shown.step.id,
                chosen=feedback.chosen,
                points=feedback.points,
                max_points=feedback.max_points,
                severity=feedback.severity,
            )
        except AnswerError:
            self.run = self._rebuild(self.attempt)
            return None
        run.runs[shown.scenario_id] = probe
        shown.answered = True
        return feedback

    def finish(self) -> CourseResult:
        """The course result; recorded (signed) once the course is over."""
        run = self.course_run
        assert self.attempt is not None
        result = run.result(self.content.catalogue)
        if self.completion is None and run.final:
            self.completion = self.store.record_completion(self.attempt.id, result)
        return result

    def flag(self, shown: Shown, comment: str) -> None:
        """Store the learner's note that the step on screen was unclear."""
        if self.attempt is not None:
            self.store.flag(self.attempt.id, shown.scenario_id, shown.step.id, comment)
