"""The one error guard of every process: a friendly message for the person, a traceback with
the same reference code in the log, and the learner's progress untouched."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from types import TracebackType

log = logging.getLogger("somequiz.ui")


def reference_code() -> str:
    """A short code the learner can quote to support (six hex digits)."""
    return secrets.token_hex(3).upper()


class Guard:
    """``with Guard("what", expected=(SomeError,)) as guard:`` runs a callback's work.

    An expected error (a refusal the person can act on) is logged in one line and kept in
    ``guard.expected``; any other error is logged with its traceback under a fresh
    ``guard.code`` for the person to quote. Either way it goes no further: the caller shows
    a message from what the guard kept.
    """

    def __init__(self, what: str, expected: tuple[type[Exception], ...] = ()) -> None:
        self.what = what
        self.allowed = expected
        self.expected: Exception | None = None
        self.code: str | None = None

    @property
    def failed(self) -> bool:
        return self.expected is not None or self.code is not None

    def __enter__(self) -> Guard:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool:
        if not isinstance(error, Exception):
            return False  # no error, or one that must end the process (KeyboardInterrupt...)
        if isinstance(error, self.allowed):
            log.info("%s refused: %s", self.what, error)
            self.expected = error
        else:
            self.code = reference_code()
            log.error("error %s in %s", self.code, self.what, exc_info=error)
        return True


def setup_logging(folder: Path | None = None) -> None:
    """Log the UI's errors to ``results/logs/learner.log``; kernel stderr is not visible."""
    if any(getattr(h, "_somequiz", False) for h in log.handlers):
        return
    if folder is None:
        # The learner server hands kernels SOMEQUIZ_RESULTS; reading it directly spares the
        # kernel pydantic-settings.
        env = os.environ.get("SOMEQUIZ_RESULTS")
        if env:
            folder = Path(env)
        else:
            from somequiz.config import settings

            folder = settings().results
    target = folder / "logs"
    try:
        target.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(target / "learner.log", encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler._somequiz = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
