"""Content hashes for records: stable over YAML formatting, changed by any content change."""

from __future__ import annotations

import hashlib
import json

from somequiz.content.folder import Content
from somequiz.content.models import Catalogue, Course, Scenario


def model_hash(model: Scenario | Course | Catalogue) -> str:
    """A short SHA-256 of the model's canonical JSON."""
    canonical = json.dumps(
        model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def course_hash(content: Content) -> str:
    """Hash of the course settings, its scenarios in order and the rule catalogue."""
    if "course" not in content.memo:
        parts = [model_hash(content.course), model_hash(content.catalogue)]
        parts += [scenario_hash(content, sid) for sid in content.course.scenarios]
        content.memo["course"] = hashlib.sha256("|".join(parts).encode("ascii")).hexdigest()[:16]
    return content.memo["course"]


def scenario_hash(content: Content, scenario_id: str) -> str:
    """``model_hash`` of one of the content's scenarios, computed once per loaded content."""
    key = f"scenario:{scenario_id}"
    if key not in content.memo:
        content.memo[key] = model_hash(content.scenarios[scenario_id])
    return content.memo[key]
