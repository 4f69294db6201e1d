"""The screens of a learner page as HTML and widget state, from the course's state.

:class:`Screens` is the presenting half of :class:`somequiz.ui.service.session.LearnerSession`: it
reads the use case (``course``) and the page's own state and draws them; it changes nothing
in the course. The controlling half (messages from the page, sign-in, navigation) stays in
the session.
"""

from __future__ import annotations

import base64
from typing import Any

from somequiz.content.folder import Content
from somequiz.content.models import Scenario
from somequiz.content.text import LANGS, Lang, Translations
from somequiz.course.attempt import LearnerCourse, Shown
from somequiz.engine.scoring import Feedback, Reason, ScenarioRun
from somequiz.i18n import Messages
from somequiz.records.store import Completion
from somequiz.ui.identity import SsoIdentity
from somequiz.ui.protocol import PageState, Part, ScreenState, StepState
from somequiz.ui.render import channel_icon, render
from somequiz.ui.service.certificate import certificate_pdf


class Screens:
    """Drawing the learner page's screens (mixed into the session, which owns the state)."""

    content: Content
    course: LearnerCourse
    lang: Lang
    t: Messages
    sso: SsoIdentity | None
    only: str | None
    screen_name: str
    active: str | None
    ref: Shown | None
    error: str
    notice: str
    form_values: dict[str, str]
    form_errors: dict[str, str]
    flag_state: tuple[bool, str]
    _pdf: tuple[tuple[str, str], str] | None
    page: PageState
    header: ScreenState
    step: StepState
    footer: ScreenState

    def _languages(self) -> list[Lang]:
        """The languages offered: Finnish and those the course is translated to."""
        return [code for code in LANGS if code == "fi" or code in self.content.course.languages]

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
            "missed_label": self.t("missed" if shown.step.kind == "multi" else "missed_single"),
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
        scaled = completion.points / completion.max_points if completion.max_points else 0.0
        self.header.html = render(
            "returned.html",
            self.t,
            **self._common(),
            passed=previous is not None,
            date=f"{day.day}.{day.month}.{day.year}",
            **self._score(completion.points, completion.max_points, scaled),
            completion=self._certificate_view(previous),
        )
        return ("header",)

    def _certificate_view(self, completion: Completion | None) -> dict[str, str] | None:
        """Download links of a passed completion's certificate (a failed one has none)."""
        learner = self.course.learner
        if completion is None or not completion.passed or completion.certificate_code is None:
            return None
        assert learner is not None
        code = completion.certificate_code
        fields: dict[str, Any] = {
            "name": learner.name,
            "course_title": self.tx(self.content.course.title),
            "employee_number": learner.employee_number or "",
            "unit": learner.unit or "",
            "self_reported": self.sso is None,
            "points": completion.points,
            "max_points": completion.max_points,
            "code": code,
        }
        percent = round(100 * completion.points / completion.max_points)
        html = render(
            "certificate.html",
            self.t,
            **fields,
            date=completion.completed_at.strftime("%d.%m.%Y"),
            percent=percent if completion.max_points else 0,
        )
        return {
            "code": code,
            "href": _data_url("text/html;charset=utf-8", html.encode("utf-8")),
            "filename": f"todistus-{code}.html",
            "pdf_href": self._pdf_href(completion, fields),
            "pdf_filename": f"todistus-{code}.pdf",
        }

    def _pdf_href(self, completion: Completion, fields: dict[str, Any]) -> str:
        # Drawn once per page (≈ 0.2 s): the result screen is redrawn on every visit.
        key = (str(fields["code"]), self.lang)
        if self._pdf is None or self._pdf[0] != key:
            document = certificate_pdf(
                **fields, completed=completion.completed_at.date(), lang=self.lang
            )
            self._pdf = (key, _data_url("application/pdf", document))
        return self._pdf[1]


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
