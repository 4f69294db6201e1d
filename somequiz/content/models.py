"""Strict models of the trainer-edited files: scenarios, the course and the rule catalogue.

Structural rules live here (types, required fields, unknown fields). Rules that need the
whole file or several files (reachability, rule ids, duplicate ids) live in ``checks``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from somequiz.content.text import Lang, Text

SCHEMA_VERSION = 1

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length=1, max_length=64),
]
Severity = Literal["best", "acceptable", "risky", "harmful"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
Theme = Literal[
    "media",
    "false-claims",
    "opinion-and-role",
    "confidentiality",
    "customer-data",
    "copyright",
    "accounts-and-passwords",
    "terms-of-service",
    "information-security",
    "law-and-sanctions",
    "conduct",
]
THEMES: tuple[Theme, ...] = get_args(Theme)
Role = Literal["all-staff", "managers", "social-media-admins"]
Channel = Literal[
    "phone",
    "email",
    "facebook-group",
    "facebook-page",
    "messenger",
    "whatsapp",
    "instagram",
    "tiktok",
    "x",
    "youtube",
    "forum",
    "teams",
    "web",
    "face-to-face",
]
StepKind = Literal["single", "multi"]


class Strict(BaseModel):
    """Base for trainer data: unknown fields are errors, values are not coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Choice(Strict):
    """One answer option of a step."""

    id: Slug = Field(description="Vaihtoehdon tunniste, uniikki vaiheen sisällä.")
    text: Text = Field(description="Vaihtoehdon teksti, jonka oppija näkee.")
    severity: Severity = Field(description="best, acceptable, risky tai harmful.")
    points: int = Field(ge=-100, le=100, description="Pisteet tästä valinnasta.")
    feedback: Text = Field(description="Palaute: mitä tapahtuu ja miksi.")
    rules: list[Slug] = Field(min_length=1, description="Ohjeen sääntöjen tunnisteet.")
    consequence: Text | None = Field(
        default=None, description="Tarinan jatko: mitä valinnasta seuraa."
    )
    next: Slug | None = Field(
        default=None,
        description="Vaihe tai loppu, johon valinta johtaa (vain single-vaiheissa).",
    )
    pinned: bool = Field(
        default=False,
        description=(
            "true = vaihtoehto pysyy tiedoston paikallaan, kun vaihtoehdot sekoitetaan "
            "(esim. ”ei mikään näistä” viimeisenä)."
        ),
    )


class Step(Strict):
    """One decision point: a prompt and its choices."""

    id: Slug = Field(description="Vaiheen tunniste, uniikki skenaarion sisällä.")
    narrative: Text | None = Field(default=None, description="Tilanteen kuvaus ennen kysymystä.")
    prompt: Text = Field(description="Kysymys oppijalle.")
    kind: StepKind = Field(
        default="single",
        description="single = yksi valinta, multi = valitse kaikki sopivat.",
    )
    choices: list[Choice] = Field(min_length=2, max_length=8)
    next: Slug | None = Field(
        default=None,
        description="Seuraava vaihe tai loppu; oletuksena listan seuraava vaihe.",
    )
    yes_no: bool = Field(
        default=False,
        description="true = kyllä/ei-vaihe, jossa kaksi vaihtoehtoa riittää (muuten vähintään 3).",
    )


Outcome = Literal["success", "partial", "failure"]


class Ending(Strict):
    """An explicit end of a scenario."""

    id: Slug
    title: Text
    text: Text
    outcome: Outcome = Field(
        default="success",
        description=(
            "success = asia hoitui hyvin, partial = osin, failure = vahinko syntyi. "
            "Polku, jolla on harmful-valinta, ei saa päättyä success-loppuun."
        ),
    )


class Situation(Strict):
    """The opening situation, shown in the style of its channel."""

    channel: Channel = Field(description="Kanava: phone, email, facebook-group, whatsapp…")
    sender: Text | None = Field(default=None, description="Kuka viestii (esim. toimittaja).")
    text: Text = Field(description="Tilanteen kuvaus tai viesti.")


class Scenario(Strict):
    """One scenario file."""

    schema_version: Literal[1] = Field(description="Tiedostomuodon versio, aina 1.")
    id: Slug = Field(description="Skenaarion tunniste.")
    version: int = Field(default=1, ge=1, description="Sisällön versionumero.")
    title: Text
    summary: Text
    themes: list[Theme] = Field(min_length=1)
    roles: list[Role] = Field(min_length=1)
    languages: list[Lang] = Field(
        default=["fi"], description="Kielet, joille kaikki tekstit on käännetty."
    )
    estimated_minutes: int = Field(default=3, ge=1, le=60)
    situation: Situation
    steps: list[Step] = Field(min_length=1)
    endings: list[Ending] = Field(min_length=1)

    def step(self, step_id: str) -> Step | None:
        """The step with ``step_id``, or None."""
        return next((s for s in self.steps if s.id == step_id), None)

    def ending(self, ending_id: str) -> Ending | None:
        """The ending with ``ending_id``, or None."""
        return next((e for e in self.endings if e.id == ending_id), None)

    def default_next(self, step: Step) -> str | None:
        """Where a step leads when its choice names no ``next``."""
        if step.next is not None:
            return step.next
        index = self.steps.index(step)
        return self.steps[index + 1].id if index + 1 < len(self.steps) else None

    def next_after(self, step: Step, choice: Choice | None) -> str | None:
        """The target after answering ``step`` (a single step's choice may branch)."""
        if choice is not None and choice.next is not None:
            return choice.next
        return self.default_next(step)


class Course(Strict):
    """``course.yaml``: which scenarios form the course and how it is passed."""

    schema_version: Literal[1]
    id: Slug
    version: int = Field(default=1, ge=1)
    title: Text
    description: Text
    scenarios: list[Slug] = Field(min_length=1, description="Skenaariot kurssin järjestyksessä.")
    pass_percent: int = Field(default=80, ge=0, le=100, description="Läpäisyraja prosentteina.")
    must_pass_themes: list[Theme] = Field(
        default=["confidentiality", "customer-data"],
        description="Teemat, joiden jokainen skenaario on läpäistävä.",
    )
    deadline_days: int = Field(default=30, ge=1, description="Suoritusaika aloituspäivästä.")
    recertify_months: int = Field(default=12, ge=1, description="Uusintaväli kuukausina.")
    recertify_on_material_change: bool = Field(
        default=True,
        description="Erääntyykö suoritus, kun sisältö muuttuu olennaisesti (pisteet, luokitus…).",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Yrityksiä skenaariota kohden (oppijaa ja kurssiversiota kohden).",
    )
    require_employee_number: bool = True
    units: list[Text] = Field(
        default=[],
        description=(
            "Yksiköt, joista oppija valitsee omansa (nimi suomeksi tallentuu; käännökset "
            "näytetään oppijan kielellä)."
        ),
    )
    languages: list[Lang] = Field(default=["fi"])

    @property
    def unit_names(self) -> list[str]:
        """The units as records and HR know them (their Finnish names)."""
        return [unit.fi for unit in self.units]


class Rule(Strict):
    """One thing an employee must do or avoid, paraphrased from the guideline."""

    id: Slug
    text: Text


class Section(Strict):
    """A section of the guideline and its rules."""

    id: Slug
    heading: Text
    rules: list[Rule] = Field(min_length=1)


class Catalogue(Strict):
    """``guideline.yaml``: the guideline's sections and rules with stable ids."""

    schema_version: Literal[1]
    title: Text
    source: str
    languages: list[Lang] = Field(default=["fi"])
    sections: list[Section] = Field(min_length=1)

    def rules(self) -> Iterator[tuple[Section, Rule]]:
        """Every rule with its section, in guideline order."""
        for section in self.sections:
            for rule in section.rules:
                yield section, rule

    def rule(self, rule_id: str) -> tuple[Section, Rule] | None:
        """The rule with ``rule_id`` and its section, or None."""
        return next(((s, r) for s, r in self.rules() if r.id == rule_id), None)
