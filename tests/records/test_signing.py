"""Tamper evidence: verify finds altered completions and moved certificate codes."""

from __future__ import annotations

from records_helpers import Records, run_course
from sqlalchemy import update

from somequiz.content.folder import Content
from somequiz.records.tables import (
    CompletionRow,
)


def test_verify_detects_an_edited_score(store: Records, content: Content) -> None:
    run_course(store, content, employee_number="E1")
    _, completion = run_course(store, content, employee_number="E2", best=False)
    assert store.signatures.verify().altered == []
    with store.db.session() as s:
        s.execute(
            update(CompletionRow)
            .where(CompletionRow.attempt_id == completion.attempt_id)
            .values(points=CompletionRow.max_points, passed=True)
        )
    report = store.signatures.verify()
    assert report.checked == 2
    assert [a.attempt_id for a in report.altered] == [completion.attempt_id]
    assert "allekirjoitus" in report.altered[0].reason
    # A failed course has no certificate code; one made "passed" has none either.
    assert completion.certificate_code is None
    assert "todistuskoodi" in report.altered[0].reason


def test_verify_detects_a_moved_certificate_code(store: Records, content: Content) -> None:
    _, first = run_course(store, content, employee_number="E1")
    _, second = run_course(store, content, employee_number="E2")
    with store.db.session() as s:
        s.execute(
            update(CompletionRow)
            .where(CompletionRow.attempt_id == second.attempt_id)
            .values(certificate_code="AAAA-BBBB-CCCC")
        )
    altered = store.signatures.verify().altered
    assert [a.attempt_id for a in altered] == [second.attempt_id]
    good = store.signatures.verify_certificate(first.certificate_code)
    assert good.valid and good.passed and good.name == "Testi Oppija"
    assert not store.signatures.verify_certificate("0000-0000-0000").found
