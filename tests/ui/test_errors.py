"""The one error guard: refusals kept for the person, failures logged under a code."""

from __future__ import annotations

import logging

import pytest

from somequiz.errors import AnswerError
from somequiz.ui.errors import Guard


def test_an_expected_error_is_kept_and_logged_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, "somequiz.ui"), Guard("answer", (AnswerError,)) as guard:
        raise AnswerError("Valitse yksi vaihtoehto.")
    assert isinstance(guard.expected, AnswerError) and guard.code is None and guard.failed
    assert [r.exc_info for r in caplog.records] == [None]


def test_any_other_error_gets_a_reference_code_and_its_traceback_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, "somequiz.ui"), Guard("answer", (AnswerError,)) as guard:
        raise KeyError("x")
    assert guard.expected is None and guard.code is not None and len(guard.code) == 6
    (record,) = caplog.records
    assert guard.code in record.getMessage() and record.exc_info is not None


def test_nothing_wrong_leaves_the_guard_clean() -> None:
    with Guard("answer") as guard:
        pass
    assert not guard.failed


def test_an_interrupt_is_not_swallowed() -> None:
    with pytest.raises(KeyboardInterrupt), Guard("answer"):
        raise KeyboardInterrupt
