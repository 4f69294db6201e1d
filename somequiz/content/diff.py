"""What changed between two versions of the content, and whether it matters for certificates.

A change is *material* when it can change a learner's result: a choice's severity, points,
cited rules or branch, the best answer of a step, steps or choices added or removed, or the
course's pass rules. Wording changes are *editorial*.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Literal

from somequiz.content import graph
from somequiz.content.folder import Content, load_content
from somequiz.content.models import Choice, Scenario, Step
from somequiz.errors import ContentError

Kind = Literal["material", "editorial"]
_CHOICE_RULES = ("severity", "points", "rules", "next")
_COURSE_RULES = ("scenarios", "pass_percent", "must_pass_themes", "max_attempts")


@dataclass(frozen=True)
class Change:
    """One difference, located by scenario, step and choice."""

    kind: Kind
    where: str
    what: str

    def __str__(self) -> str:
        label = "OLENNAINEN" if self.kind == "material" else "sanamuoto"
        return f"{label:<10}  {self.where}: {self.what}"


def _texts_differ(old: object, new: object, fields: tuple[str, ...]) -> list[str]:
    return [f for f in fields if getattr(old, f) != getattr(new, f)]


def _choice_changes(where: str, old: Choice, new: Choice) -> Iterator[Change]:
    for field in _CHOICE_RULES:
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            yield Change("material", where, f"{field} {before} → {after}")
    for field in _texts_differ(old, new, ("text", "feedback", "consequence")):
        yield Change("editorial", where, f"{field} muuttui")


def _step_changes(where: str, old: Step, new: Step) -> Iterator[Change]:
    if old.kind != new.kind or old.next != new.next:
        yield Change("material", where, "vaiheen tyyppi tai jatko muuttui")
    if graph.best_selection(old) != graph.best_selection(new):
        best = ", ".join(graph.best_selection(new))
        yield Change("material", where, f"paras vastaus on nyt {best}")
    for field in _texts_differ(old, new, ("narrative", "prompt")):
        yield Change("editorial", where, f"{field} muuttui")
    old_choices = {c.id: c for c in old.choices}
    new_choices = {c.id: c for c in new.choices}
    for cid in old_choices.keys() - new_choices.keys():
        yield Change("material", f"{where} / {cid}", "vaihtoehto poistettu")
    for cid in new_choices.keys() - old_choices.keys():
        yield Change("material", f"{where} / {cid}", "vaihtoehto lisätty")
    for cid in old_choices.keys() & new_choices.keys():
        yield from _choice_changes(f"{where} / {cid}", old_choices[cid], new_choices[cid])


def scenario_changes(old: Scenario, new: Scenario) -> list[Change]:
    """Differences between two versions of one scenario."""
    changes: list[Change] = []
    old_steps = {s.id: s for s in old.steps}
    new_steps = {s.id: s for s in new.steps}
    if [s.id for s in old.steps] != [s.id for s in new.steps]:
        changes.append(Change("material", old.id, "vaiheiden järjestys tai joukko muuttui"))
    if old.themes != new.themes:
        changes.append(Change("material", old.id, f"teemat {old.themes} → {new.themes}"))
    for sid in old_steps.keys() & new_steps.keys():
        changes += _step_changes(f"{old.id} / {sid}", old_steps[sid], new_steps[sid])
    fields = ("title", "summary", "situation", "endings")
    changes += [
        Change("editorial", old.id, f"{f} muuttui") for f in _texts_differ(old, new, fields)
    ]
    return sorted(changes, key=lambda c: (c.kind != "material", c.where))


def content_changes(old: Content, new: Content) -> list[Change]:
    """Differences between two content folders: course rules and every scenario."""
    changes = [
        Change("material", "course.yaml", f"{field} muuttui")
        for field in _texts_differ(old.course, new.course, _COURSE_RULES)
    ]
    for sid in sorted(old.scenarios.keys() - new.scenarios.keys()):
        changes.append(Change("material", sid, "skenaario poistettu"))
    for sid in sorted(new.scenarios.keys() - old.scenarios.keys()):
        changes.append(Change("material", sid, "skenaario lisätty"))
    for sid in sorted(old.scenarios.keys() & new.scenarios.keys()):
        changes += scenario_changes(old.scenarios[sid], new.scenarios[sid])
    return changes


def load_revision(spec: str, workdir: Path) -> Content:
    """Content from a folder, or from ``scenarios/`` of a git revision (extracted to workdir)."""
    folder = Path(spec)
    if folder.is_dir():
        return load_content(folder)
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", spec, "scenarios"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ContentError(
            f"'{spec}' ei ole kansio eikä git-versio, jossa on scenarios-kansio."
        ) from exc
    target = workdir / spec.replace("/", "_")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return load_content(target / "scenarios")


def diff(old_spec: str, new_spec: str) -> list[Change]:
    """Changes from ``old_spec`` to ``new_spec`` (folders or git revisions)."""
    with tempfile.TemporaryDirectory() as tmp:
        old = load_revision(old_spec, Path(tmp))
        new = load_revision(new_spec, Path(tmp))
    return content_changes(old, new)
