"""The learner page: start, overview, scenarios step by step, summaries, result, completion.

One :class:`LearnerSession` per learner page, living in the learner server beside the content
and the store (the page's kernel only relays; see :mod:`somequiz.ui.service.process`). The browser
is not trusted: the page state carries only what is on screen and every action that comes back
is checked here. The course itself (identity, tries, choice order, grading, storing) is the
use case :class:`somequiz.course.attempt.LearnerCourse`; this class turns it into screens.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, cast

from somequiz.content.folder import Content
from somequiz.content.text import Lang, plain_name
from somequiz.course.attempt import LearnerCourse, Shown
from somequiz.errors import AnswerError, IdentityError
from somequiz.i18n import Messages
from somequiz.records.course import CourseRecords
from somequiz.ui.errors import Guard, log, setup_logging
from somequiz.ui.identity import SsoIdentity
from somequiz.ui.protocol import PageState
from somequiz.ui.render import render
from somequiz.ui.service.screens import Screens

_EMPLOYEE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
_MAX_NAME = 200
FLAG_INTERVAL_S = 2.0


def _text(value: Any) -> str:
    """A form field as a stripped string, whatever the browser sent."""
    return value.strip() if isinstance(value, str) else ""


class LearnerSession(Screens):
    """One learner's page: what it shows plus the course state behind it."""

    def __init__(
        self,
        content: Content,
        records: CourseRecords,
        *,
        scenario_id: str | None = None,
        lang: Lang = "fi",
        sso: SsoIdentity | None = None,
        browser: str | None = None,
    ) -> None:
        setup_logging()
        self.content = content
        self.only = scenario_id
        self.sso = sso
        self.lang: Lang = lang
        self.t = Messages(lang)
        self.course = LearnerCourse(content, records, scenario_id, browser)
        self.screen_name = "start"
        self.active: str | None = None
        self.ref: Shown | None = None
        self.error = ""
        self.notice = ""
        self.form_values: dict[str, str] = {"name": "", "employee_number": "", "unit": ""}
        self.form_errors: dict[str, str] = {}
        self.flag_state: tuple[bool, str] = (False, "")
        self._flagged_at = -FLAG_INTERVAL_S
        self._pdf: tuple[tuple[str, str], str] | None = None
        self.page = PageState()
        self.header, self.step, self.footer = self.page.header, self.page.step, self.page.footer
        if scenario_id is not None and scenario_id not in content.course.scenarios:
            self.error = self.t("no_scenario")
        self.refresh()
        if sso is None and not self.error:
            # A reload or Back in a browser that signed in: no need to type it all again.
            self._guard(self._resume_browser, None)

    # Entry points for messages from the page (also what the unit tests drive)

    def snapshot(self) -> dict[str, Any]:
        """The page as the kernel copies it into the widgets."""
        return self.page.snapshot()

    def dispatch(self, content: Any) -> None:
        """Handle an action from a screen (button or form)."""
        self._guard(self._dispatch, content)

    def dispatch_step(self, content: Any) -> None:
        """Handle a message from the choice step (submit or next)."""
        self._guard(self._dispatch_step, content)

    def _guard(self, handler: Callable[[Any], None], content: Any) -> None:
        with Guard(f"{handler.__name__} ({self.screen_name})", expected=(AnswerError,)) as guard:
            handler(content)
        if guard.expected is not None:
            self._show_error(self.t("error_answer", reason=str(guard.expected)))
        elif guard.code is not None:
            self._show_error(self.t("error_generic", code=guard.code))

    def _show_error(self, message: str) -> None:
        try:
            if self.screen_name == "scenario" and self.ref is not None and not self.ref.answered:
                self.step.error = message
                return
            self.error = message
            self.refresh()
        except Exception:
            log.exception("error while showing an error")

    def _dispatch(self, content: Any) -> None:
        if not isinstance(content, dict):
            return
        action, arg = content.get("action"), content.get("arg", "")
        raw_fields = content.get("fields")
        fields: dict[str, Any] = raw_fields if isinstance(raw_fields, dict) else {}
        self.error = ""
        course = self.course
        if action == "lang" and course.learner is None and arg in self._languages():
            self._set_lang(cast(Lang, arg))
        elif action == "start" and course.learner is None:
            self._start(fields)
        elif action == "switch" and course.learner is not None and self.sso is None:
            self._switch_user()
        elif action == "again" and self.screen_name == "returned":
            course.start_again(self.lang)
            self._show_overview()
        elif course.run is None:
            log.info("ignored %r before an attempt is open", action)
        elif action == "open" and isinstance(arg, str):
            course.open(arg)
            self._show_scenario(arg)
        elif action == "retry" and isinstance(arg, str):
            course.retry(arg)
            self._show_scenario(arg)
        elif action == "overview" and self.only is None:
            self._show_overview()
        elif action == "result" and course.run.finished:
            self._show_result()
        elif action == "flag":
            self._flag(_text(fields.get("comment")))
        else:
            log.info("ignored action %r on %s", action, self.screen_name)

    def _dispatch_step(self, content: Any) -> None:
        if not isinstance(content, dict):
            return
        ref = self.ref
        if ref is None or self.screen_name != "scenario" or content.get("token") != ref.token:
            log.info("ignored step message for a step not on screen")
            return
        kind = content.get("type")
        if kind == "submit":
            if ref.answered:
                log.info("ignored second submission of %s/%s", ref.scenario_id, ref.step.id)
                return
            chosen = content.get("chosen")
            if not isinstance(chosen, list) or len(chosen) > len(ref.choices):
                raise AnswerError("Tuntematon vaihtoehto.")
            self._submit(ref, [c for c in chosen if isinstance(c, str)])
        elif kind == "next" and ref.answered:
            self._show_scenario(ref.scenario_id)

    # Start and identity

    def _set_lang(self, lang: Lang) -> None:
        self.lang, self.t = lang, Messages(lang)
        self.refresh()

    def _form(self, fields: dict[str, Any]) -> tuple[str, str, str]:
        """The start form's name, employee number and unit, with field errors noted."""
        course = self.content.course
        if self.sso is not None:
            name, employee = self.sso.name, ""
        else:
            name = plain_name(_text(fields.get("name")))[:_MAX_NAME]
            employee = _text(fields.get("employee_number")).upper()
        unit = _text(fields.get("unit"))
        self.form_values = {"name": name, "employee_number": employee, "unit": unit}
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = self.t("err_name")
        needs_number = course.require_employee_number and self.sso is None
        if (employee or needs_number) and not _EMPLOYEE.match(employee):
            errors["employee_number"] = self.t("err_employee")
        if course.units and unit not in course.unit_names:
            errors["unit"] = self.t("err_unit")
        self.form_errors = errors
        return name, employee, unit

    def _start(self, fields: dict[str, Any]) -> None:
        name, employee, unit = self._form(fields)
        if self.form_errors:
            self.error = self.t("err_form")
            self.refresh()
            return
        try:
            standing = self.course.sign_in(
                name=name,
                employee_number=employee or None,
                unit=unit or None,
                external_id=self.sso.external_id if self.sso else None,
                lang=self.lang,
            )
        except IdentityError:
            self.form_errors = {"employee_number": self.t("err_identity")}
            self.error = self.t("err_identity_summary")
            self.refresh()
            return
        self._entered(standing)

    def _resume_browser(self, _: Any) -> None:
        standing = self.course.resume_browser(self.lang)
        if standing is not None:
            self._entered(standing)

    def _entered(self, standing: str) -> None:
        """The first screen after signing in (or being recognised again)."""
        learner = self.course.learner
        assert learner is not None
        if standing in {"passed_before", "tries_spent"}:
            self.screen_name = "returned"
            self.refresh()
            return
        run = self.course.course_run
        resumed = standing == "resumed" and run.runs
        self.notice = self.t("welcome_back", name=learner.name) if resumed else ""
        if self.only is not None and self.course.allowed(self.only):
            self.course.open(self.only)
            self._show_scenario(self.only)
        else:
            self._show_overview()

    def _switch_user(self) -> None:
        """ "Not me": forget this browser's learner and show an empty start form."""
        self.course.sign_out()
        self.form_values = {"name": "", "employee_number": "", "unit": ""}
        self.form_errors, self.notice = {}, ""
        self.screen_name, self.active, self.ref = "start", None, None
        self.refresh()

    # Navigation

    def _show_overview(self) -> None:
        self.screen_name, self.active, self.ref = "overview", None, None
        self.refresh()

    def _show_result(self) -> None:
        self.course.finish()
        self.screen_name, self.active, self.ref = "result", None, None
        self.refresh()

    def _show_scenario(self, sid: str) -> None:
        self.active = sid
        shown = self.course.show(sid)
        if shown is None:
            self.screen_name, self.ref = "summary", None
            self.refresh()
            return
        self.screen_name, self.ref = "scenario", shown
        self.flag_state = (False, "")
        self.refresh()

    # Answers

    def _submit(self, ref: Shown, chosen: list[str]) -> None:
        count = len(ref.choices)
        ids = [
            ref.choices[int(c)].id if c.isdecimal() and int(c) < count else "?" + c for c in chosen
        ]
        feedback = self.course.answer(ref, ids)
        if feedback is None:
            # Answered meanwhile in another tab: continue from what the store holds.
            self._show_scenario(ref.scenario_id)
            return
        view = self._feedback_view(feedback, ref)
        self.step.error = ""
        self.step.feedback_html = render("feedback.html", self.t, **view)
        self.step.answered = True

    def _flag(self, comment: str) -> None:
        ref = self.ref
        if ref is None:
            return
        if not comment:
            self.flag_state = (False, self.t("flag_empty"))
        elif time.monotonic() - self._flagged_at < FLAG_INTERVAL_S:
            # Each note is a database write: a page may not send them in a flood.
            self.flag_state = (False, self.t("flag_wait"))
        else:
            self._flagged_at = time.monotonic()
            self.course.flag(ref, comment)
            self.flag_state = (True, "")
        self.footer.html = render(
            "flag.html", self.t, thanks=self.flag_state[0], error=self.flag_state[1]
        )
