"""The one exception hierarchy of the project.

Every message is meant for a person: it says what went wrong and what to do next.
"""

from __future__ import annotations


class SomequizError(Exception):
    """Base of every error this package raises on purpose."""


class ContentError(SomequizError):
    """Scenario, course or catalogue files are missing or invalid."""


class AnswerError(SomequizError):
    """An answer cannot be accepted (wrong step, unknown choice, repeated answer…)."""


class IdentityError(SomequizError):
    """A sign-in names someone the records know under another name (see the identity rule)."""


class StoreError(SomequizError):
    """The records store could not read or write."""


class ConfigError(SomequizError):
    """A setting is missing or has an invalid value."""


class RosterError(SomequizError):
    """A roster file cannot be imported; ``problems`` lists every bad row."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        super().__init__("\n".join([message, *self.problems]) if self.problems else message)


class ExportError(SomequizError):
    """An export or a transfer to a Learning Record Store failed."""


class ServiceError(SomequizError):
    """The learner server cannot serve a page's request (e.g. the page expired)."""
