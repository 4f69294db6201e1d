"""The learner page: start, overview, scenarios step by step, summaries, result, completion.

One :class:`LearnerSession` per learner page, living in the learner server beside the content
and the store (the page's kernel only relays; see :mod:`somequiz.ui.service`). The browser is
not trusted: the page state carries only what is on screen and every action that comes back
is checked here. The course itself (identity, tries, choice order, grading, storing) is the
use case :class:`somequiz.course.attempt.LearnerCourse`; this class turns it into screens.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from typing import Any, cast

from somequiz.content import Content
from somequiz.course.attempt import LearnerCourse, Shown
from somequiz.engine.scoring import Feedback, Reason, ScenarioRun
from somequiz.errors import AnswerError, IdentityError
from somequiz.i18n import Messages
from somequiz.scenario import Scenario
from somequiz.store import Completion, Store
from somequiz.text import LANGS, Lang, Translations, plain_name
from somequiz.ui.certificate import certificate_pdf
from somequiz.ui.errors import log, reference_code, setup_logging
from somequiz.ui.identity import SsoIdentity
from somequiz.ui.render import channel_icon, render
from somequiz.ui.state import PageState, Part

_EMPLOYEE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
_MAX_NAME = 200
FLAG_INTERVAL_S = 2.0


def _text(value: Any) -> str:
    """A form field as a stripped string, whatever the browser sent."""
    return value.strip() if isinstance(value, str) else ""


class LearnerSession:
    """One learner's page: what it shows plus the course state behind it."""

    def __init__(
        self,
        content: Content,
        store: Store,
        *,
        scenario_id: str | None = None,
        lang: Lang = "fi",
        sso: SsoIdentity | None = None,
        browser: str | None = None,
    ) -> None:
        setup_logging()
        self.content = content
        self.store = store
        self.only = scenario_id
        self.sso = sso
        self.lang: Lang = lang
        self.t = Messages(lang)
        self.course = LearnerCourse(content, store, scenario_id, browser)
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
        try:
            handler(content)
        except AnswerError as exc:
            log.info("answer refused: %s", exc)
            self._show_error(self.t("error_answer", reason=str(exc)))
        except Exception:
            code = reference_code()
            log.exception("error %s in %s (%s)", code, handler.__name__, self.screen_name)
            self._show_error(self.t("error_generic", code=code))

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

    def _languages(self) -> list[Lang]:
        """The languages offered: Finnish and those the course is translated to."""
        return [code for code in LANGS if code == "fi" or code in self.content.course.languages]

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
        run = self.course.course_run.runs[ref.scenario_id]
        view = self._feedback_view(run.scenario, feedback, run, ref)
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

    # Views

    def tx(self, text: Translations | None) -> str:
        """Content text in the UI language, Finnish when not translated."""
        return text.get(self.lang) if text is not None else ""

    def _untranslated(self, scenario: Scenario) -> bool:
        return self.lang != "fi" and self.lang not in scenario.languages

    def _rules(self, rule_ids: tuple[str, ...]) -> list[dict[str, str]]:
        rows = []
        for rule_id in rule_ids:
            found = self.content.catalogue.rule(rule_id)
            if found is not None:
                section, rule = found
                rows.append({"section": self.tx(section.heading), "text": self.tx(rule.text)})
        return rows

    def _position(self, sid: str) -> str:
        order = self.content.course.scenarios
        return self.t("scenario_of", n=order.index(sid) + 1, total=len(order))

    def _feedback_view(
        self, scenario: Scenario, feedback: Feedback, run: ScenarioRun, shown: Shown
    ) -> dict[str, Any]:
        # Picked and missed choices in the order the learner saw them.
        place = {c.id: n for n, c in enumerate(shown.choices)}
        picked = sorted(feedback.choices, key=lambda c: place[c.id])
        missed = sorted(feedback.missed, key=lambda c: place[c.id])
        return {
            "severity": feedback.severity,
            "points": feedback.points,
            "max_points": feedback.max_points,
            "picked": [
                {"text": self.tx(c.text), "feedback": self.tx(c.feedback), "severity": c.severity}
                for c in picked
            ],
            "missed": [{"text": self.tx(c.text), "feedback": self.tx(c.feedback)} for c in missed],
            "missed_label": self.t(
                "missed" if self._is_multi(scenario, feedback.step_id) else "missed_single"
            ),
            "rules": self._rules(feedback.rules),
            "consequences": [self.tx(c.consequence) for c in feedback.choices if c.consequence],
            "ending": (
                {"title": self.tx(feedback.ending.title), "text": self.tx(feedback.ending.text)}
                if feedback.ending
                else None
            ),
            "next_label": self.t("to_summary" if run.finished else "next_step"),
        }

    @staticmethod
    def _is_multi(scenario: Scenario, step_id: str) -> bool:
        step = scenario.step(step_id)
        return step is not None and step.kind == "multi"

    @staticmethod
    def _score(points: float, max_points: float, scaled: float) -> dict[str, Any]:
        return {"points": points, "max_points": max_points, "percent": round(scaled * 100)}

    def _common(self) -> dict[str, Any]:
        return {
            "learner_name": self.course.learner.name if self.course.learner else "",
            "can_switch": self.course.learner is not None and self.sso is None,
            "error": self.error,
            "course_title": self.tx(self.content.course.title),
        }

    def refresh(self) -> None:
        """Redraw the current screen."""
        render_screen = {
            "start": self._render_start,
            "overview": self._render_overview,
            "scenario": self._render_scenario,
            "summary": self._render_summary,
            "result": self._render_result,
            "returned": self._render_returned,
        }[self.screen_name]
        self.header.lang = self.lang
        self.header.title = f"{self.t('app_name')} – {self.tx(self.content.course.title)}"
        self.page.children = render_screen()

    def _render_start(self) -> tuple[Part, ...]:
        course = self.content.course
        scenarios = [self.content.scenarios[s] for s in course.scenarios if self.course.allowed(s)]
        self.header.html = render(
            "start.html",
            self.t,
            **self._common(),
            description=self.tx(course.description),
            languages=[(code, Messages(code)("lang_name")) for code in self._languages()],
            scenario_count=len(scenarios),
            minutes=sum(s.estimated_minutes for s in scenarios),
            pass_percent=course.pass_percent,
            require_employee=course.require_employee_number,
            sso_name=self.sso.name if self.sso else "",
            units=[(u.fi, self.tx(u)) for u in course.units],
            values=self.form_values,
            errors=self.form_errors,
            start_label=self.t("start_button" if self.only is None else "start_scenario_button"),
        )
        return ("header",)

    def _render_overview(self) -> tuple[Part, ...]:
        run = self.course.course_run
        items, primary_given = [], False
        for sid in self.content.course.scenarios:
            scenario = self.content.scenarios[sid]
            status = self.course.status(sid)
            action, label = {
                "todo": ("open", "open_start"),
                "in_progress": ("open", "open_continue"),
                "failed": ("retry", "retry"),
            }.get(status, ("open", "summary_heading"))
            primary = status in {"todo", "in_progress"} and not primary_given
            primary_given = primary_given or primary
            items.append(
                {
                    "id": sid,
                    "title": self.tx(scenario.title),
                    "summary": self.tx(scenario.summary),
                    "minutes": scenario.estimated_minutes,
                    "status": status,
                    "action": action,
                    "action_label": self.t(label),
                    "primary": primary,
                    "tries_left": run.tries_left(sid) if status.startswith("failed") else None,
                }
            )
        self.header.html = render(
            "overview.html",
            self.t,
            **self._common(),
            notice=self.notice,
            items=items,
            done=sum(1 for i in items if i["status"] == "done"),
            total=len(items),
            finished=run.finished,
        )
        self.notice = ""
        return ("header",)

    def _render_scenario(self) -> tuple[Part, ...]:
        ref = self.ref
        assert ref is not None
        run = self.course.course_run.runs[ref.scenario_id]
        scenario = run.scenario
        step = ref.step
        situation = scenario.situation
        sender = self.tx(situation.sender)
        channel = situation.channel
        first_step = not run.feedback
        self.header.html = render(
            "scenario.html",
            self.t,
            **self._common(),
            position=self._position(scenario.id),
            title=self.tx(scenario.title),
            untranslated=self._untranslated(scenario),
            channel=channel,
            channel_label=self.t(f"channel_{channel}"),
            icon=channel_icon(channel),
            sender=sender,
            initial=(sender[:1] or "?").upper(),
            paragraphs=[p for p in self.tx(situation.text).split("\n\n") if p.strip()],
            focus_title=first_step,
            show_back=self.only is None,
        )
        labels = {
            key: self.t(key)
            for key in ("choose_one", "choose_many", "submit", "choose_first", "saving", "feedback")
        }
        self.step.token = ref.token
        self.step.step_label = self.t("step_of", n=len(run.feedback) + 1)
        self.step.narrative = self.tx(step.narrative)
        self.step.prompt = self.tx(step.prompt)
        self.step.kind = step.kind
        # Ids are places in the learner's order: they tell the page nothing about the file.
        self.step.choices = [
            {"id": str(n), "text": self.tx(c.text)} for n, c in enumerate(ref.choices)
        ]
        self.step.labels = labels
        self.step.answered = False
        self.step.feedback_html = ""
        self.step.error = ""
        self.footer.html = render(
            "flag.html", self.t, thanks=self.flag_state[0], error=self.flag_state[1]
        )
        return ("header", "step", "footer")

    def _render_summary(self) -> tuple[Part, ...]:
        run = self.course.course_run
        sid = self.active
        assert sid is not None
        scenario_run = run.runs[sid]
        scenario = scenario_run.scenario
        result = scenario_run.result()
        steps = []
        for fb in scenario_run.feedback:
            step = scenario.step(fb.step_id)
            steps.append(
                {
                    "prompt": self.tx(step.prompt) if step else fb.step_id,
                    "answer": " · ".join(self.tx(c.text) for c in fb.choices),
                    "severity": fb.severity,
                }
            )
        actions = self._summary_actions(sid)
        self.header.html = render(
            "summary.html",
            self.t,
            **self._common(),
            position=self._position(sid),
            title=self.tx(scenario.title),
            ending=(
                {"title": self.tx(result.ending.title), "text": self.tx(result.ending.text)}
                if result.ending
                else None
            ),
            passed=run.scenario_passed(sid),
            **self._score(result.points, result.max_points, result.scaled),
            fraction=result.scaled,
            steps=steps,
            rules=self._rules(result.rules_to_review),
            actions=actions,
        )
        return ("header",)

    def _summary_actions(self, sid: str) -> list[dict[str, str]]:
        run = self.course.course_run
        actions = []
        todo = [
            s
            for s in self.content.course.scenarios
            if self.course.allowed(s) and not (s in run.runs and run.runs[s].finished)
        ]
        if todo:
            actions.append({"action": "open", "arg": todo[0], "label": self.t("next_scenario")})
        if run.finished and self.only is None:
            actions.append({"action": "result", "arg": "", "label": self.t("to_result")})
        if self.course.status(sid) == "failed":
            actions.append({"action": "retry", "arg": sid, "label": self.t("retry")})
        if self.only is None:
            actions.append({"action": "overview", "arg": "", "label": self.t("to_overview")})
        elif run.finished:
            actions.append({"action": "result", "arg": "", "label": self.t("to_result")})
        return actions

    def _reason(self, reason: Reason) -> str:
        if reason.code == "must_pass_failed":
            title = self.tx(self.content.scenarios[reason.scenario_id].title)
            return self.t("reason_must_pass_failed", title=title)
        return self.t(f"reason_{reason.code}", percent=reason.percent)

    def _render_result(self) -> tuple[Part, ...]:
        run = self.course.course_run
        result = run.result(self.content.catalogue)
        themes = [
            {
                "label": self.t(f"theme_{theme}"),
                "fraction": min(1.0, max(0.0, score)),
                "percent": round(min(1.0, max(0.0, score)) * 100),
            }
            for theme, score in result.theme_scores.items()
        ]
        retry = [
            {
                "id": sid,
                "title": self.tx(self.content.scenarios[sid].title),
                "tries_left": run.tries_left(sid),
            }
            for sid in self.content.course.scenarios
            if self.course.status(sid) == "failed"
        ]
        completion = self.course.completion
        self.header.html = render(
            "result.html",
            self.t,
            **self._common(),
            passed=result.passed,
            **self._score(result.points, result.max_points, result.scaled),
            reasons=[self._reason(r) for r in result.reasons],
            themes=themes,
            rules=self._rules(result.rules_to_review),
            retry=retry,
            spent=completion is not None and not completion.passed,
            completion=self._certificate_view(completion),
        )
        return ("header",)

    def _render_returned(self) -> tuple[Part, ...]:
        """A returning learner who passed before, or whose tries in this version are spent."""
        previous = self.course.previous
        completion = previous or self.course.completion
        assert completion is not None
        day = completion.completed_at
        self.header.html = render(
            "returned.html",
            self.t,
            **self._common(),
            passed=previous is not None,
            date=f"{day.day}.{day.month}.{day.year}",
            **self._score(completion.points, completion.max_points, self._scaled(completion)),
            completion=self._certificate_view(previous),
        )
        return ("header",)

    @staticmethod
    def _scaled(completion: Completion) -> float:
        return completion.points / completion.max_points if completion.max_points else 0.0

    def _certificate_view(self, completion: Completion | None) -> dict[str, str] | None:
        """Download links of a passed completion's certificate (a failed one has none)."""
        if completion is None or not completion.passed or completion.certificate_code is None:
            return None
        code = completion.certificate_code
        return {
            "code": code,
            "href": self._certificate_href(completion, code),
            "filename": f"todistus-{code}.html",
            "pdf_href": self._certificate_pdf_href(completion, code),
            "pdf_filename": f"todistus-{code}.pdf",
        }

    def _certificate_pdf_href(self, completion: Completion, code: str) -> str:
        # Drawn once per page (≈ 0.2 s): the result screen is redrawn on every visit.
        key = (code, self.lang)
        learner = self.course.learner
        if self._pdf is None or self._pdf[0] != key:
            assert learner is not None
            document = certificate_pdf(
                name=learner.name,
                course_title=self.tx(self.content.course.title),
                completed=completion.completed_at.date(),
                points=completion.points,
                max_points=completion.max_points,
                code=code,
                lang=self.lang,
                employee_number=learner.employee_number or "",
                unit=learner.unit or "",
                self_reported=self.sso is None,
            )
            encoded = base64.b64encode(document).decode("ascii")
            self._pdf = (key, f"data:application/pdf;base64,{encoded}")
        return self._pdf[1]

    def _certificate_href(self, completion: Completion, code: str) -> str:
        learner = self.course.learner
        assert learner is not None
        document = render(
            "certificate.html",
            self.t,
            course_title=self.tx(self.content.course.title),
            name=learner.name,
            employee_number=learner.employee_number or "",
            unit=learner.unit or "",
            self_reported=self.sso is None,
            date=completion.completed_at.strftime("%d.%m.%Y"),
            points=completion.points,
            max_points=completion.max_points,
            percent=round(100 * completion.points / completion.max_points)
            if completion.max_points
            else 0,
            code=code,
        )
        encoded = base64.b64encode(document.encode("utf-8")).decode("ascii")
        return f"data:text/html;charset=utf-8;base64,{encoded}"
