"""xAPI 1.0.3 statements of course attempts, validated with Ralph, as JSON lines or to an LRS.

Statement ids are uuid5 of the attempt and the event, so exporting or sending again never
creates duplicates in a Learning Record Store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

import pandas as pd
import requests
from pydantic import TypeAdapter, ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement

from somequiz.config import settings
from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.models import Step
from somequiz.errors import ExportError
from somequiz.records.store import Store

XAPI_VERSION = "1.0.3"
NAMESPACE = uuid.UUID("6f1d8a3e-2b4c-5d6e-8f70-9a1b2c3d4e5f")
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
COURSE = "http://adlnet.gov/expapi/activities/course"
VERB_NAMES = {
    "initialized": "aloitti",
    "answered": "vastasi",
    "completed": "suoritti",
    "passed": "läpäisi",
    "failed": "ei läpäissyt",
    "terminated": "lopetti",
}
_DURATION = TypeAdapter(timedelta)

Statement = dict[str, Any]


def _base() -> str:
    return settings().xapi_homepage.rstrip("/") + "/somequiz"


def _iso(moment: pd.Timestamp) -> str:
    return moment.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _duration(start: pd.Timestamp, end: pd.Timestamp) -> str:
    seconds = max(0, round((end - start).total_seconds()))
    # pydantic writes timedeltas as ISO 8601 durations (PT4M13S)
    return str(_DURATION.dump_python(timedelta(seconds=seconds), mode="json"))


def statement_id(attempt_id: str, event: str) -> str:
    """A stable id: the same attempt and event give the same statement id every time."""
    return str(uuid.uuid5(NAMESPACE, f"{attempt_id}/{event}"))


def pseudonym(secret: bytes, learner_id: int) -> str:
    """A pseudonymous account name: stable for a learner, meaningless without the key."""
    digest = hmac.new(secret, f"xapi-learner:{learner_id}".encode(), hashlib.sha256)
    return "p-" + digest.hexdigest()[:20]


def validate(statement: Statement) -> Statement:
    """The statement if Ralph's xAPI model accepts it; ExportError otherwise."""
    try:
        BaseXapiStatement.model_validate(statement)
    except ValidationError as exc:
        raise ExportError(
            f"xAPI-lauseke {statement.get('id')} ei ole kelvollinen, eikä mitään kirjoitettu: "
            f"{exc.errors()[0]['msg']} ({'.'.join(map(str, exc.errors()[0]['loc']))}). "
            "Ilmoita virheestä ylläpidolle."
        ) from None
    return statement


@dataclass(frozen=True)
class _Attempt:
    row: dict[str, Any]
    answers: pd.DataFrame


class Builder:
    """Builds the statements of attempts from the store's frames and the course content."""

    def __init__(self, content: Content, secret: bytes, *, pseudonymous: bool = False) -> None:
        self.content = content
        self.secret = secret
        self.pseudonymous = pseudonymous
        self.base = _base()
        self.homepage = settings().xapi_homepage

    def actor(self, row: dict[str, Any]) -> dict[str, Any]:
        """The learner as an xAPI account: employee number, or a pseudonym."""
        number = row.get("employee_number")
        erased = not pd.isna(row.get("erased_at"))
        if self.pseudonymous or erased or not isinstance(number, str) or not number:
            name = pseudonym(self.secret, int(row["learner_id"]))
        else:
            name = number
        return {"objectType": "Agent", "account": {"homePage": self.homepage, "name": name}}

    def _verb(self, verb: str) -> dict[str, Any]:
        return {"id": ADL_VERBS + verb, "display": {"en-US": verb, "fi-FI": VERB_NAMES[verb]}}

    def _course(self, row: dict[str, Any]) -> dict[str, Any]:
        course = self.content.course
        return {
            "objectType": "Activity",
            "id": f"{self.base}/course/{row['course_id']}",
            "definition": {
                "type": COURSE,
                "name": {"fi-FI": course.title.fi},
            },
        }

    def _context(self, row: dict[str, Any], extra: dict[str, Any] | None = None) -> Statement:
        context: Statement = {
            "registration": row["attempt_id"],
            "platform": "somequiz",
            "language": str(row["lang"]),
            "extensions": {
                f"{self.base}/extensions/course-hash": row["course_hash"],
                f"{self.base}/extensions/course-version": int(row["course_version"]),
                **(extra or {}),
            },
        }
        return context

    def _score(self, points: Any, maximum: Any) -> dict[str, Any]:
        scaled = max(-1.0, min(1.0, float(points) / float(maximum))) if maximum else 0.0
        return {
            "scaled": round(scaled, 4),
            "raw": int(points),
            "min": 0,
            "max": int(maximum),
        }

    def _interaction(self, scenario_id: str, step: Step | None, step_id: str) -> Statement:
        definition: Statement = {"type": INTERACTION, "interactionType": "choice"}
        if step is not None:
            definition["name"] = {"fi-FI": step.prompt.fi}
            definition["choices"] = [
                {"id": c.id, "description": {"fi-FI": c.text.fi}} for c in step.choices
            ]
            definition["correctResponsesPattern"] = ["[,]".join(graph.best_selection(step))]
        return {
            "objectType": "Activity",
            "id": f"{self.base}/scenario/{scenario_id}/step/{step_id}",
            "definition": definition,
        }

    def attempt(self, row: dict[str, Any], answers: pd.DataFrame) -> list[Statement]:
        """initialized, answered per step, and for a finished attempt completed,
        passed or failed and terminated."""
        aid, actor, course = row["attempt_id"], self.actor(row), self._course(row)
        started: pd.Timestamp = row["started_at"]

        def make(event: str, verb: str, moment: pd.Timestamp, **parts: Any) -> Statement:
            statement: Statement = {
                "id": statement_id(aid, event),
                "actor": actor,
                "verb": self._verb(verb),
                "object": parts.pop("object", course),
                "timestamp": _iso(moment),
                "version": XAPI_VERSION,
                "context": parts.pop("context", self._context(row)),
                **parts,
            }
            return validate(statement)

        out = [make("initialized", "initialized", started)]
        previous = started
        for answer in answers.to_dict("records"):
            scenario = self.content.scenarios.get(answer["scenario_id"])
            step = scenario.step(answer["step_id"]) if scenario else None
            moment = answer["answered_at"]
            extensions = {
                f"{self.base}/extensions/scenario-hash": answer["scenario_hash"],
                f"{self.base}/extensions/scenario-try": int(answer["scenario_try"]),
            }
            context = self._context(row, extensions)
            context["contextActivities"] = {"parent": [course]}
            out.append(
                make(
                    f"answered/{answer['answer_id']}",
                    "answered",
                    moment,
                    object=self._interaction(answer["scenario_id"], step, answer["step_id"]),
                    context=context,
                    result={
                        "response": "[,]".join(answer["chosen"]),
                        "score": self._score(answer["points"], answer["max_points"]),
                        "success": answer["severity"] == "best",
                        "duration": _duration(previous, moment),
                    },
                )
            )
            previous = moment
        if pd.isna(row.get("completed_at")):
            return out
        ended: pd.Timestamp = row["completed_at"]
        passed = bool(row["passed"])
        score = self._score(row["points"], row["max_points"])
        duration = _duration(started, ended)
        out.append(
            make(
                "completed",
                "completed",
                ended,
                result={"score": score, "completion": True, "duration": duration},
            )
        )
        verdict = "passed" if passed else "failed"
        out.append(
            make(
                "verdict",
                verdict,
                ended,
                result={
                    "score": score,
                    "success": passed,
                    "completion": True,
                    "duration": duration,
                },
            )
        )
        out.append(make("terminated", "terminated", ended, result={"duration": duration}))
        return out


def statements(
    store: Store,
    content: Content,
    *,
    since: pd.Timestamp | None = None,
    unit: str | None = None,
    pseudonymous: bool = False,
) -> Iterator[Statement]:
    """Every statement of every attempt (started since ``since``, of ``unit``), validated."""
    attempts = store.attempts_frame()
    if since is not None:
        attempts = attempts[attempts["started_at"] >= since]
    if unit is not None:
        attempts = attempts[attempts["unit"] == unit]
    answers = store.answers_frame()
    by_attempt = dict(tuple(answers.groupby("attempt_id", sort=False)))
    empty = answers.iloc[0:0]
    builder = Builder(content, store.secret, pseudonymous=pseudonymous)
    for record in attempts.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        yield from builder.attempt(row, by_attempt.get(row["attempt_id"], empty))


def write_jsonl(items: Iterable[Statement], handle: IO[str]) -> int:
    """Write statements one JSON object a line; the number written."""
    count = 0
    for statement in items:
        handle.write(json.dumps(statement, ensure_ascii=False) + "\n")
        count += 1
    return count


_RERUN = (
    "Aja komento myöhemmin uudelleen: lausekkeiden tunnisteet ovat pysyviä, joten mitään ei "
    "tallenneta kahdesti."
)


@dataclass(frozen=True)
class Sent:
    """What a transfer to an LRS did: each statement is in exactly one count."""

    sent: int
    already_there: int
    missing: int = 0
    unknown: int = 0  # the LRS stopped answering before these could be looked up

    def summary(self) -> str:
        """Where the statements are, for a person."""
        present = self.sent + self.already_there
        counts = f"{present} / {present + self.missing + self.unknown} lauseketta"
        where = "Oppimistietovarastosta löytyi" if self.unknown else "Oppimistietovarastossa on"
        rest = f" ja {self.unknown} lausekkeen tilaa ei voitu tarkistaa" if self.unknown else ""
        return f"{where} {counts}; {self.missing} puuttuu{rest}."


class DeliveryError(ExportError):
    """Some statements are not in the LRS; ``result`` says how many are."""

    def __init__(self, failure: tuple[str, str], result: Sent) -> None:
        self.result = result
        super().__init__(f"{failure[0]} {result.summary()} {failure[1]}")


class _Lrs:
    """The statements resource of one LRS, over one HTTP session."""

    def __init__(self, url: str, auth: tuple[str, str] | None, timeout: float) -> None:
        url = url.rstrip("/")
        self.endpoint = url if url.endswith("/statements") else url + "/statements"
        self.timeout, self.http = timeout, requests.Session()
        self.http.auth, self.http.headers["X-Experience-API-Version"] = auth, XAPI_VERSION

    def has(self, statement: Statement) -> bool | None:
        """Whether the LRS returns the statement by id; None when it gives no usable answer."""
        wanted = str(statement["id"]).lower()
        try:
            response = self.http.get(
                self.endpoint, params={"statementId": wanted}, timeout=self.timeout
            )
            body = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None
        if response.status_code == 404:
            return False
        # xAPI answers with the statement; Ralph with 200 and {"statements": []} when it has none.
        found = body.get("statements", [body]) if isinstance(body, dict) else None
        if not isinstance(found, list):
            return None
        return any(isinstance(s, dict) and str(s.get("id")).lower() == wanted for s in found)

    def check(self, pending: list[Statement]) -> list[bool | None]:
        """``has`` for each statement; None for all after the first that got no answer."""
        states: list[bool | None] = []
        for statement in pending:
            states.append(self.has(statement))
            if states[-1] is None:  # asking on would only wait out more timeouts
                break
        return states + [None] * (len(pending) - len(states))


def send(
    items: list[Statement],
    url: str,
    *,
    auth: tuple[str, str] | None,
    batch: int = 50,
    retries: int = 5,
    backoff: float = 0.5,
    timeout: float = 30.0,
) -> Sent:
    """POST statements to an LRS in batches; a failed one is looked up by id before a retry.

    A batch that cannot be delivered ends the transfer; unless every statement is then found
    by lookup, DeliveryError says how many of them the LRS has."""
    lrs, sent, already = _Lrs(url, auth, timeout), 0, 0
    with lrs.http:
        for start in range(0, len(items), batch):
            done, found, failure = _deliver(lrs, items[start : start + batch], retries, backoff)
            if failure:
                seen = lrs.check(items[start:])
                result = Sent(sent, already + seen.count(True), seen.count(False), seen.count(None))
                if result.missing or result.unknown:
                    raise DeliveryError(failure, result)
                return result
            sent, already = sent + done, already + found
    return Sent(sent, already)


def _deliver(
    lrs: _Lrs, pending: list[Statement], retries: int, backoff: float
) -> tuple[int, int, tuple[str, str] | None]:
    """One batch: how many were sent, how many were there already, and why it failed."""
    already = 0
    failure = (f"Oppimistietovarasto ei vastaa ({lrs.endpoint}).", _RERUN)
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
            states = lrs.check(pending)
            already += states.count(True)
            pending = [s for s, state in zip(pending, states, strict=True) if not state]
            if not pending:
                return 0, already, None
        try:
            response = lrs.http.post(lrs.endpoint, json=pending, timeout=lrs.timeout)
        except requests.RequestException:
            continue
        status = response.status_code
        if status in (200, 204):
            return len(pending), already, None
        if status in (401, 403):
            problem = f"Oppimistietovarasto hylkäsi tunnukset (HTTP {status})."
            return 0, already, (problem, "Tarkista SOMEQUIZ_LRS_USER ja SOMEQUIZ_LRS_PASSWORD.")
        if status == 400:
            problem = f"Oppimistietovarasto hylkäsi lausekkeet (HTTP 400): {response.text[:300]}."
            return 0, already, (problem, "Ilmoita virheestä ylläpidolle.")
        # 409, 429 and 5xx: retried after checking what got through.
        failure = (f"Oppimistietovarasto ei ottanut lausekkeita vastaan (HTTP {status}).", _RERUN)
    return 0, already, failure
