"""One guard for every widget callback: a friendly message for the learner, a traceback with
the same reference code in the log, and the learner's progress untouched."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("somequiz.ui")


def reference_code() -> str:
    """A short code the learner can quote to support (six hex digits)."""
    return secrets.token_hex(3).upper()


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
