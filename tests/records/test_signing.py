"""Tamper evidence: verify finds altered completions, moved certificate codes, changed
identities, deleted completions and rewritten or deleted answers; legitimate changes seal again."""

from __future__ import annotations

from datetime import date

from records_helpers import Records, run_course
from sqlalchemy import delete, select, update

from somequiz.content.folder import Content
from somequiz.records.rows import RosterEntry
from somequiz.records.tables import AnswerRow, CompletionRow, LearnerRow


def test_verify_detects_an_edited_score(store: Records, content: Content) -> None:
    run_course(store, content, employee_number="E1")
    _, completion = run_course(store, content, employee_number="E2", best=False)
    assert store.signatures.verify().clean
    with store.db.session() as s:
        s.execute(
            update(CompletionRow)
            .where(CompletionRow.attempt_id == completion.attempt_id)
            .values(points=CompletionRow.max_points, passed=True)
        )
    report = store.signatures.verify()
    assert report.checked == 2
    assert [a.attempt_id for a in report.altered] == [completion.attempt_id]
    # A failed course has no certificate code; one made "passed" has none either.
    assert completion.certificate_code is None
    assert report.altered[0].problems == ("signature", "code")
    assert report.learners == []


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
    assert first.certificate_code is not None
    good = store.signatures.verify_certificate(first.certificate_code)
    assert good.valid and good.passed and good.name == "Testi Oppija"
    assert not store.signatures.verify_certificate("0000-0000-0000").found


def _set(store: Records, table: type, where: object, **values: object) -> None:
    """What a database writer without the key does."""
    with store.db.session() as s:
        s.execute(update(table).where(where).values(**values))  # type: ignore[arg-type]


def test_verify_detects_a_changed_employee_number_and_name(
    store: Records, content: Content
) -> None:
    _, completion = run_course(store, content, employee_number="E1")
    _, other = run_course(store, content, name="Toinen", employee_number="E2")
    assert completion.certificate_code and store.signatures.verify().clean
    learner = store.admin.find_learner("E1")
    assert learner is not None
    # The pass moves to another employee in HR's exports...
    _set(store, LearnerRow, LearnerRow.id == learner.id, employee_number="E9")
    report = store.signatures.verify()
    assert [(p.learner_id, p.problems) for p in report.learners] == [(learner.id, ("identity",))]
    assert report.altered == []  # the completion itself is intact
    # ...and a certificate check vouches for whatever name is stored.
    _set(store, LearnerRow, LearnerRow.id == learner.id, employee_number="E1", name="Väärä")
    assert not store.signatures.verify_certificate(completion.certificate_code).valid
    assert [p.problems for p in store.signatures.verify().learners] == [("identity",)]
    assert other.certificate_code
    assert store.signatures.verify_certificate(other.certificate_code).valid


def test_verify_detects_a_deleted_completion(store: Records, content: Content) -> None:
    _, completion = run_course(store, content, employee_number="E1")
    run_course(store, content, employee_number="E1", best=False)
    with store.db.session() as s:
        s.execute(delete(CompletionRow).where(CompletionRow.attempt_id == completion.attempt_id))
    report = store.signatures.verify()
    assert report.checked == 1 and report.altered == []
    [learner] = report.learners
    assert learner.problems == ("deleted",) and learner.missing == 1
    # Lowering the sealed count to hide it does not help: the count is sealed too.
    _set(store, LearnerRow, LearnerRow.id == learner.learner_id, completions_sealed=1)
    assert [p.problems for p in store.signatures.verify().learners] == [("deleted",)]


def test_verify_detects_rewritten_and_deleted_answers(store: Records, content: Content) -> None:
    first, _ = run_course(store, content, employee_number="E1")
    second, _ = run_course(store, content, employee_number="E2")
    with store.db.session() as s:
        one = s.scalars(select(AnswerRow.id).where(AnswerRow.attempt_id == first.id)).first()
        s.execute(update(AnswerRow).where(AnswerRow.id == one).values(points=0, chosen='["x"]'))
        s.execute(delete(AnswerRow).where(AnswerRow.attempt_id == second.id, AnswerRow.seq == 1))
    report = store.signatures.verify()
    assert sorted((a.attempt_id, a.problems) for a in report.altered) == sorted(
        [(first.id, ("answers",)), (second.id, ("answers",))]
    )


def test_roster_renames_and_sign_ins_seal_again(store: Records, content: Content) -> None:
    run_course(store, content, name="Vanha Nimi", employee_number="E1")
    store.admin.import_roster([RosterEntry("E1", "Uusi Nimi", "Kotihoito", date(2025, 1, 1))])
    found = store.admin.find_learner("E1")
    assert found is not None and found.name == "Uusi Nimi"
    run_course(store, content, name="Sso Nimi", employee_number=None, external_id="x-1")
    store.course.learner(name="Sso Uusi Nimi", external_id="x-1")  # the header's name changed
    assert store.signatures.verify().clean


def test_legitimate_changes_do_not_launder_tampering(store: Records, content: Content) -> None:
    _, completion = run_course(store, content, name="Oikea Nimi", employee_number="E1")
    found = store.admin.find_learner("E1")
    assert found is not None
    _set(store, LearnerRow, LearnerRow.id == found.id, name="Väärä Nimi")
    _set(store, CompletionRow, CompletionRow.attempt_id == completion.attempt_id, points=0)
    store.admin.import_roster([RosterEntry("E1", "Kolmas Nimi", "Kotihoito", date(2025, 1, 1))])
    report = store.signatures.verify()
    assert [p.problems for p in report.learners] == [("identity",)]
    store.admin.erase_learner(found.id)  # the completion was tampered with: not signed again
    assert [a.problems for a in store.signatures.verify().altered] == [("signature",)]
