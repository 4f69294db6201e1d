"""The learner's order of choices: shuffled per attempt, derivable, pinned choices kept."""

from __future__ import annotations

from collections import Counter

from click.testing import CliRunner

from somequiz.cli import main
from somequiz.content.folder import Content
from somequiz.content.models import Step
from somequiz.course import order

STEP = Step.model_validate(
    {
        "id": "vaihe",
        "prompt": "Mitä teet?",
        "choices": [
            {
                "id": f"c{n}",
                "text": f"Vaihtoehto {n}",
                "severity": "best" if n == 0 else "risky",
                "points": 10 if n == 0 else 0,
                "feedback": "Palaute.",
                "rules": ["media-esimiehelle"],
                "pinned": n == 3,
            }
            for n in range(4)
        ],
    }
)


def test_the_seed_is_derived_from_the_attempt_alone() -> None:
    # A fixed value: the order must not depend on the process (hash randomisation, restarts).
    assert order.seed("a", "s", 1, "v") == 0x56026976DA3216ED
    assert order.seed("a", "s", 1, "v") == order.seed("a", "s", 1, "v")
    assert order.seed("a", "s", 1, "v") != order.seed("a", "s", 2, "v")
    assert order.seed("a", "s", 1, "v") != order.seed("b", "s", 1, "v")


def test_orders_vary_between_attempts_and_pinned_choices_stay_in_place() -> None:
    firsts: Counter[str] = Counter()
    for n in range(200):
        shown = order.shuffled(STEP, order.seed(f"yritys-{n}", "s", 1, "vaihe"))
        assert sorted(c.id for c in shown) == ["c0", "c1", "c2", "c3"]
        assert shown[3].id == "c3"
        firsts[shown[0].id] += 1
    # The key is first about a third of the time, not always.
    assert set(firsts) == {"c0", "c1", "c2"} and all(30 < v < 110 for v in firsts.values())


def test_preview_labels_file_order_and_can_show_a_learners_order(
    content: Content,
) -> None:
    runner = CliRunner()
    plain = runner.invoke(main, ["preview", "toimittaja-soittaa"])
    assert plain.exit_code == 0
    assert "Vaihtoehdot ovat tiedoston järjestyksessä" in plain.output
    seen = runner.invoke(main, ["preview", "toimittaja-soittaa", "--attempt", "abc", "--try", "2"])
    assert "jossa oppija ne näki (suoritus abc, yritys 2)" in seen.output
    step = content.scenarios["toimittaja-soittaa"].steps[0]
    expected = order.shuffled(step, order.seed("abc", "toimittaja-soittaa", 2, step.id))
    listed = [line.split(":")[0].strip("- ") for line in seen.output.splitlines()]
    positions = [listed.index(c.id) for c in expected]
    assert positions == sorted(positions)
