"""Content hashes for records: stable over YAML formatting, changed by any content change."""

from __future__ import annotations

import hashlib
import json

from somequiz.content import Content
from somequiz.scenario import Catalogue, Course, Scenario


def model_hash(model: Scenario | Course | Catalogue) -> str:
    """A short SHA-256 of the model's canonical JSON."""
    canonical = json.dumps(
        model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def course_hash(content: Content) -> str:
    """Hash of the course settings, its scenarios in order and the rule catalogue."""
    parts = [model_hash(content.course), model_hash(content.catalogue)]
    parts += [model_hash(s) for s in content.course_scenarios()]
    return hashlib.sha256("|".join(parts).encode("ascii")).hexdigest()[:16]
