"""Content snapshots and which earlier versions differ materially from today's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from records_helpers import run_course

from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash
from somequiz.course.versions import equivalent_versions, from_snapshot, snapshot
from somequiz.records.store import Store
from somequiz.reports.export import Filters, Tables


def _edited(content: Content, **changes: object) -> Content:
    first = content.course_scenarios()[0]
    step = first.steps[0]
    choice = step.choices[0].model_copy(update=changes)
    step = step.model_copy(update={"choices": [choice, *step.choices[1:]]})
    scenario = first.model_copy(update={"steps": [step, *first.steps[1:]]})
    return Content(
        content.catalogue, content.course, {**content.scenarios, first.id: scenario}, content.folder
    )


def test_snapshot_round_trip_keeps_the_hash(content: Content) -> None:
    assert course_hash(from_snapshot(snapshot(content))) == course_hash(content)


def test_wording_change_keeps_earlier_passes_valid(content: Content) -> None:
    reworded = _edited(content, feedback=content.course_scenarios()[0].steps[0].choices[0].text)
    old = course_hash(content)
    assert course_hash(reworded) != old
    assert old in equivalent_versions({old: snapshot(content)}, reworded)


def test_material_change_or_missing_snapshot_makes_earlier_versions_different(
    content: Content,
) -> None:
    rescored = _edited(content, points=3)
    old = course_hash(content)
    same = equivalent_versions({old: snapshot(content)}, rescored)
    assert same == {course_hash(rescored)}
    assert equivalent_versions({}, content) == {old}


def test_store_keeps_each_version_once(store: Store, content: Content) -> None:
    text = snapshot(content)
    for _ in range(2):
        store.save_content_version(content.course.id, 1, course_hash(content), text)
    assert store.content_versions(content.course.id) == {course_hash(content): text}
    assert store.content_versions("muu-kurssi") == {}


def test_pass_on_reworded_content_stays_valid_but_material_change_is_due(
    store: Store, content: Content
) -> None:
    reworded = _edited(content, feedback=content.course_scenarios()[0].steps[0].choices[0].text)
    rescored = _edited(content, points=3)
    day = datetime(2026, 6, 1, 9, tzinfo=UTC)
    run_course(store, content, employee_number="W1", at=day)
    store.save_content_version(content.course.id, 1, course_hash(content), snapshot(content))

    def status(now: Content) -> str:
        tables = Tables(store, now, Filters(None, None), today=date(2026, 7, 1))
        row = tables.status.set_index("employee_number").loc["W1"]
        return str(row["status"])

    assert status(content) == "passed"
    assert status(reworded) == "passed"
    assert status(rescored) == "recertify"
    lenient = rescored.course.model_copy(update={"recertify_on_material_change": False})
    assert status(Content(rescored.catalogue, lenient, rescored.scenarios, rescored.folder)) == (
        "passed"
    )
