"""Every defective fixture gives one pinned, located message and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from somequiz.content.folder import check_paths
from somequiz.content.loader import MAX_BYTES

FIXTURES = Path(__file__).parents[1] / "fixtures"
SCENARIOS = Path(__file__).parents[2] / "scenarios"
INVALID = FIXTURES / "invalid"

EXPECTED = {
    "bad-severity": [
        "40:19: steps[1].choices[1].severity: arvo 'terrible' ei kelpaa; "
        "sallitut: 'best', 'acceptable', 'risky', 'harmful'"
    ],
    "bad-slug-id": [
        "2:5: id: tunniste 'Minimal Scenario' ei kelpaa: "
        "käytä pieniä kirjaimia a–z, numeroita ja väliviivoja"
    ],
    "best-not-highest": ["35:17: best-vaihtoehdolla pitää olla vaiheen suurimmat pisteet"],
    "binary-file": ["1:1: binääritiedosto: tähän kuuluu YAML-tekstiä"],
    "broken-syntax": ["9:9: lainausmerkki jää sulkematta: lisää loppuun \" tai '"],
    "colon-in-text": [
        "22:28: tekstin keskellä on kaksoispiste ja välilyönti: kirjoita teksti >- -merkin alle"
    ],
    "control-character": ["2:6: kielletty ohjausmerkki (#x0007): poista se"],
    "cycle-with-no-ending": [
        "11:5: kierre: eka → toka → eka; jokaisen polun pitää päättyä loppuun",
        "68:5: varoitus: loppuun 'loppu' ei pääse mistään",
    ],
    "dead-end": [
        "44:5: umpikuja: vaiheesta 'toka' ei pääse eteenpäin; anna next, joka vie loppuun",
        "67:5: varoitus: loppuun 'loppu' ei pääse mistään",
    ],
    "duplicate-choice-id": [
        "15:13: vaihtoehto 'hyva' on vaiheessa kahdesti",
        "21:13: vaihtoehto 'hyva' on vaiheessa kahdesti",
    ],
    "duplicate-key": ["10:3: avain 'text' on kahdesti samassa kohdassa: poista toinen"],
    "duplicate-step-id": [
        "28:9: tunniste 'seuraus' on käytössä useammin kuin kerran",
        "44:9: tunniste 'seuraus' on käytössä useammin kuin kerran",
    ],
    "empty-file": ["1:1: tiedosto on tyhjä"],
    "empty-text": ["16:15: steps[0].choices[0].text: teksti on tyhjä"],
    "harmful-with-points": ["24:17: harmful-vaihtoehto ei voi antaa pisteitä"],
    "missing-feedback": ["15:9: steps[0].choices[0]: pakollinen kenttä 'feedback' puuttuu"],
    "misspelt-field": [
        "11:5: steps[0]: pakollinen kenttä 'prompt' puuttuu",
        "12:5: steps[0]: tuntematon kenttä 'promt': tarkoititko 'prompt'?",
    ],
    "next-on-multi-choice": ["65:15: next kuuluu vaiheelle, ei multi-vaiheen vaihtoehdolle"],
    "no-best-choice": ["11:5: vaiheessa 'eka' ei ole yhtään best-vaihtoehtoa"],
    "no-endings": ["67:10: endings: liian vähän kohtia: vähintään 1"],
    "no-rules": ["20:16: steps[0].choices[0].rules: liian vähän kohtia: vähintään 1"],
    "not-a-mapping": ["1:1: tiedoston pitää koostua kentistä, esimerkiksi 'id: oma-tunniste'"],
    "not-utf8": ["12:16: merkistö ei ole UTF-8: tallenna tiedosto UTF-8-muodossa"],
    "one-choice": ["32:7: steps[1].choices: liian vähän kohtia: vähintään 2"],
    "points-not-integer": ["18:17: steps[0].choices[0].points: tähän kuuluu kokonaisluku"],
    "richer-detour": [
        "11:3: jokin polku antaa 15 pistettä, paras polku vain 14: "
        "pienennä seurausvaiheiden pisteitä"
    ],
    "tab-indentation": ["8:1: sarkainmerkki (tab): sisennä välilyönneillä"],
    "unknown-channel": [
        "8:12: situation.channel: arvo 'telegram' ei kelpaa; sallitut: 'phone', 'email', "
        "'facebook-group', 'facebook-page', 'messenger', 'whatsapp', 'instagram', 'tiktok', "
        "'x', 'youtube', 'forum', 'teams', 'web', 'face-to-face'"
    ],
    "unknown-next": ["47:11: next 'loppuu' ei ole vaihe eikä loppu"],
    "unknown-rule-id": ["20:17: tuntematon sääntö 'media-esimies' (katso guideline.yaml)"],
    "unreachable-step": ["27:5: vaiheeseen 'seuraus' ei pääse mistään"],
    "wrong-schema-version": ["1:17: schema_version: arvo '2' ei kelpaa; sallitut: 1"],
}


def _messages(path: Path) -> list[str]:
    return [str(p).removeprefix(f"{path}:") for p in check_paths([path], SCENARIOS)]


def test_every_fixture_has_a_pinned_expectation() -> None:
    names = {p.stem for p in INVALID.glob("*.yaml")} - {"missing-translation"}
    assert names == set(EXPECTED)
    assert len(names) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_defect_is_reported_at_its_line(name: str) -> None:
    assert _messages(INVALID / f"{name}.yaml") == EXPECTED[name]


def test_missing_translation_is_a_warning_per_text() -> None:
    problems = check_paths([INVALID / "missing-translation.yaml"], SCENARIOS)
    assert problems
    assert {p.level for p in problems} == {"warning"}
    assert {p.message for p in problems} == {"käännös puuttuu: en"}


def test_valid_minimal_scenario_is_clean() -> None:
    assert check_paths([FIXTURES / "valid" / "minimal.yaml"], SCENARIOS) == []


def test_too_large_file_is_refused_without_parsing(tmp_path: Path) -> None:
    big = tmp_path / "five-megabytes.yaml"
    big.write_text("# " + "x" * (5 * MAX_BYTES) + "\n", encoding="utf-8")
    assert _messages(big) == ["1:1: tiedosto on liian suuri (5.0 MB, enintään 1 MB)"]


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    prev = "a"
    for i in range(8):
        name = f"l{i}"
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
        prev = name
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _messages(bomb) == ["1:1: liian monta kohtaa: onko tiedostossa silmukka?"]


def test_missing_file_is_reported(tmp_path: Path) -> None:
    assert _messages(tmp_path / "nope.yaml") == ["1:1: tiedostoa ei ole"]


def test_bom_is_accepted(tmp_path: Path) -> None:
    with_bom = tmp_path / "minimal.yaml"
    with_bom.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "valid" / "minimal.yaml").read_bytes())
    assert _messages(with_bom) == []
