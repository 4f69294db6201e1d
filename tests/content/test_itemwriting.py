"""Item-writing warnings: each fixture under fixtures/warnings has one defect, named by its file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from somequiz.cli import main
from somequiz.content import fingerprint
from somequiz.content.folder import check_paths

WARNINGS = Path(__file__).parents[1] / "fixtures" / "warnings"
CATALOGUE_FOLDER = Path(__file__).parents[2] / "scenarios"

EXPECTED = {
    "key-always-first": "paras vaihtoehto on jokaisessa vaiheessa kohdalla 1",
    "key-usually-longest": "paras vaihtoehto on pisin 3/3 vaiheessa (eka, toka, seuraus)",
    "supervisor-only-in-key": "vain paras vaihtoehto mainitsee esihenkilön tai tarkistuksen 2/3",
    "hedge-only-in-distractor": "selittely- tai epäröintisana ”Ehkä” vain väärässä vaihtoehdossa",
    "two-choices": "vaiheessa 'toka' on vain 2 vaihtoehtoa",
    "pasted-guideline-text": (
        "kuusi tai useampi sana suoraan ohjeesta: ”muista että julkaistua ei voi peruuttaa”"
    ),
    "harmful-path-success-ending": "harmful-valinnasta 'b' pääsee onnistuneeseen loppuun 'hyva'",
}


def _problems(name: str) -> list[str]:
    return [str(p) for p in check_paths([WARNINGS / f"{name}.yaml"], CATALOGUE_FOLDER)]


def test_clean_fixture_has_no_warnings() -> None:
    assert _problems("clean") == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_defect_gives_exactly_its_warning(name: str) -> None:
    problems = _problems(name)
    assert len(problems) == 1, problems
    assert "varoitus: " + EXPECTED[name] in problems[0]


def test_every_warning_fixture_is_tested() -> None:
    names = {p.stem for p in WARNINGS.glob("*.yaml")} - {"clean"}
    assert names == set(EXPECTED)


def test_a_yes_no_step_may_have_two_choices(tmp_path: Path) -> None:
    text = (WARNINGS / "two-choices.yaml").read_text(encoding="utf-8")
    marked = text.replace("- id: toka\n", "- id: toka\n  yes_no: true\n")
    assert marked != text
    path = tmp_path / "two-choices.yaml"
    path.write_text(marked, encoding="utf-8")
    assert check_paths([path], CATALOGUE_FOLDER) == []


def test_fingerprint_finds_runs_of_six_words_whatever_the_case_and_punctuation() -> None:
    hashes = frozenset(fingerprint.build("Yksi kaksi kolme neljä viisi kuusi seitsemän.").split())
    assert fingerprint.pasted("x YKSI, kaksi kolme – neljä viisi kuusi y", hashes) == [
        "yksi kaksi kolme neljä viisi kuusi"
    ]
    assert fingerprint.pasted("yksi kaksi kolme neljä viisi KUUSI SEITSEMÄN", hashes) == [
        "yksi kaksi kolme neljä viisi kuusi seitsemän"
    ]
    assert fingerprint.pasted("yksi kaksi kolme neljä viisi", hashes) == []


def test_shipped_fingerprint_is_the_guideline_and_holds_no_text() -> None:
    raw = fingerprint.FILE.read_text(encoding="ascii")
    assert len(fingerprint.shipped()) > 1000
    assert all(len(line) == 16 for line in raw.split())
    # Sentences of the 2015 guideline (quoted here as test data, not shipped as content).
    assert fingerprint.pasted("Jos media ottaa sinuun yhteyttä, ilmoita siitä esimiehelle.")
    assert fingerprint.pasted("Verkossa julkaistusta tekstistä jää aina jälki.")
    assert fingerprint.pasted("Kaikesta, mitä julkaiset verkossa, jää jälki.") == []


def test_fingerprint_command_rebuilds_the_shipped_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "guideline.fingerprint"
    monkeypatch.setattr(fingerprint, "FILE", target)
    source = tmp_path / "ohje.txt"
    source.write_text("Yksi kaksi kolme neljä viisi kuusi seitsemän.", encoding="utf-8")
    result = CliRunner().invoke(main, ["fingerprint", str(source)])
    assert result.exit_code == 0, result.output
    assert "(2 tiivistettä)" in result.output
    assert len(target.read_text(encoding="ascii").split()) == 2
    fingerprint.shipped.cache_clear()
