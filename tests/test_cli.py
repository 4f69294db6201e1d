"""The trainer commands, on exact output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from somequiz.cli import main
from somequiz.config import settings
from somequiz.content.folder import load_content

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A content folder with the real catalogue, a one-scenario course and the minimal scenario."""
    target = tmp_path / "scenarios"
    target.mkdir()
    shutil.copy(ROOT / "scenarios" / "guideline.yaml", target)
    shutil.copy(FIXTURES / "valid" / "minimal.yaml", target)
    course = (ROOT / "scenarios" / "course.yaml").read_text(encoding="utf-8")
    head, _, tail = course.partition("scenarios:\n")
    tail = tail[tail.index("pass_percent") :]
    (target / "course.yaml").write_text(f"{head}scenarios:\n  - minimal\n{tail}", encoding="utf-8")
    monkeypatch.setenv("SOMEQUIZ_SCENARIOS", str(target))
    settings.cache_clear()
    return target


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_validate_clean_folder(folder: Path) -> None:
    assert run("validate") == (0, "", "Kunnossa (0 varoitusta).\n")


def test_validate_reports_every_broken_file_and_exits_1(folder: Path) -> None:
    shutil.copy(FIXTURES / "invalid" / "tab-indentation.yaml", folder / "a.yaml")
    shutil.copy(FIXTURES / "invalid" / "binary-file.yaml", folder / "b.yaml")
    shutil.copy(FIXTURES / "invalid" / "unknown-rule-id.yaml", folder / "c.yaml")
    code, out, err = run("validate", str(folder))
    assert code == 1
    assert out.splitlines() == [
        f"{folder}/a.yaml:8:1: sarkainmerkki (tab): sisennä välilyönneillä",
        f"{folder}/b.yaml:1:1: binääritiedosto: tähän kuuluu YAML-tekstiä",
        f"{folder}/c.yaml:20:17: tuntematon sääntö 'media-esimies' (katso guideline.yaml)",
        f"{folder}/minimal.yaml:2:5: skenaario 'minimal' on jo tiedostossa c.yaml",
    ]
    assert err == "4 virhettä, 0 varoitusta.\n"


def test_validate_finds_duplicate_ids_across_files(folder: Path) -> None:
    shutil.copy(folder / "minimal.yaml", folder / "toinen.yaml")
    code, out, _ = run("validate")
    assert code == 1
    assert out == f"{folder}/toinen.yaml:2:5: skenaario 'minimal' on jo tiedostossa minimal.yaml\n"


def test_validate_course_with_unknown_scenario(folder: Path) -> None:
    course = folder / "course.yaml"
    course.write_text(course.read_text(encoding="utf-8").replace("- minimal", "- puuttuu"))
    code, out, _ = run("validate")
    assert code == 1
    assert out.endswith("skenaariota 'puuttuu' ei löydy kansiosta\n")


def test_validate_warnings_exit_0(folder: Path) -> None:
    code, out, err = run("validate", str(FIXTURES / "invalid" / "missing-translation.yaml"))
    assert code == 0
    assert len(out.splitlines()) == 29
    assert err == "Kunnossa (29 varoitusta).\n"


def test_coverage_counts_only_best_answers_on_the_best_path(folder: Path) -> None:
    total = sum(1 for _ in load_content(folder).catalogue.rules())
    code, out, _ = run("coverage")
    assert code == 0
    # Taught: eka/hyva, toka/oikea and toka/toinen-oikea; cited only by wrong answers or the
    # detour (oma-vastuualue, tulkinta-kunnan-kannaksi, asema-yksityisena): shown as "m".
    percent = round(300 / total)
    assert f"Kattavuus: 3/{total} sääntöä ({percent} %)" in out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:] if "  " in line}
    assert rows["media-esimiehelle"] == "1"
    assert rows["tulkinta-kunnan-kannaksi"] == "m"
    assert rows["oma-vastuualue"] == "m"
    untaught = out.splitlines()[1]
    assert untaught.endswith("← ei opeteta yhdenkään skenaarion parhaalla polulla")
    code, _, err = run("coverage", "--fail-under", "100")
    assert code == 1
    assert err == f"Kattavuus {percent} % on alle rajan 100 %.\n"


def test_preview_shows_every_branch(folder: Path) -> None:
    code, out, _ = run("preview", "minimal")
    assert code == 0
    for expected in [
        "[1] eka (valitse yksi, enintään 10 p.)",
        "  - huono: Kerron kaiken.",
        "      vahingollinen, 0 p. → seuraus",
        "[3] toka (valitse kaikki sopivat, enintään 6 p.)",
        "[loppu] loppu: Valmis",
        "Paras polku: eka → toka (16 p.)",
    ]:
        assert expected in out.splitlines()


def test_preview_unknown_scenario_is_a_friendly_error(folder: Path) -> None:
    code, out, err = run("preview", "ei-ole")
    assert (code, out) == (1, "")
    assert err == "Virhe: Skenaariota 'ei-ole' ei ole. Valitse jokin näistä: minimal\n"


def test_broken_content_gives_friendly_error_not_traceback(folder: Path) -> None:
    (folder / "guideline.yaml").write_text("sections: [\n", encoding="utf-8")
    code, _, err = run("coverage")
    assert code == 1
    assert err.startswith("Virhe: Kurssin sisällössä on virheitä; korjaa ne")
    assert "Traceback" not in err
