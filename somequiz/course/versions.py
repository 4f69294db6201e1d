"""Content versions: snapshots of the course as learners took it, and whether it has since
changed materially (which can make an earlier pass due for re-certification)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from somequiz.content.diff import content_changes
from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash
from somequiz.content.models import Catalogue, Course, Scenario
from somequiz.records.store import Store


def snapshot(content: Content) -> str:
    """The course content as canonical JSON, enough to compare it with later versions."""
    data = {
        "catalogue": content.catalogue.model_dump(mode="json"),
        "course": content.course.model_dump(mode="json"),
        "scenarios": [s.model_dump(mode="json") for s in content.course_scenarios()],
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def from_snapshot(text: str) -> Content:
    """Content rebuilt from a snapshot."""
    data = json.loads(text)
    scenarios = [Scenario.model_validate(s) for s in data["scenarios"]]
    return Content(
        Catalogue.model_validate(data["catalogue"]),
        Course.model_validate(data["course"]),
        {s.id: s for s in scenarios},
        Path(),
    )


def remember_content(store: Store, content: Content) -> None:
    """Save the snapshot of the content being served, so later changes can be judged."""
    store.save_content_version(
        content.course.id, content.course.version, course_hash(content), snapshot(content)
    )


def equivalent_versions(snapshots: Mapping[str, str], current: Content) -> frozenset[str]:
    """Hashes of versions that differ from ``current`` only in wording (and its own hash).

    A pass on any other version was taken on materially different content; a version with
    no snapshot counts as different, since nobody can tell.
    """
    same = {course_hash(current)}
    for version, text in snapshots.items():
        if not any(c.kind == "material" for c in content_changes(from_snapshot(text), current)):
            same.add(version)
    return frozenset(same)
