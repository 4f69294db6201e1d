"""Content hashes ignore YAML formatting and change with any content change."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash, model_hash
from somequiz.content.loader import load_model
from somequiz.content.models import Scenario

MINIMAL = Path(__file__).parents[1] / "fixtures" / "valid" / "minimal.yaml"


def _load(path: Path) -> Scenario:
    scenario, _, problems = load_model(path, Scenario)
    assert scenario is not None, problems
    return scenario


def test_hash_is_stable_over_formatting(tmp_path: Path) -> None:
    yaml = YAML()
    data = yaml.load(MINIMAL.read_text(encoding="utf-8"))
    reformatted = tmp_path / "reformatted.yaml"
    yaml.indent(mapping=4, sequence=6, offset=4)
    with reformatted.open("w", encoding="utf-8") as handle:
        handle.write("# kommentti\n")
        yaml.dump(data, handle)
    assert reformatted.read_text(encoding="utf-8") != MINIMAL.read_text(encoding="utf-8")
    assert model_hash(_load(reformatted)) == model_hash(_load(MINIMAL))


def test_plain_text_and_mapping_with_fi_hash_alike(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    mapped = tmp_path / "mapped.yaml"
    mapped.write_text(text.replace("prompt: Mitä teet?", "prompt:\n      fi: Mitä teet?"))
    assert model_hash(_load(mapped)) == model_hash(_load(MINIMAL))


def test_any_content_change_changes_the_hash(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    changed = tmp_path / "changed.yaml"
    for old, new in [("points: 10", "points: 9"), ("Kerron kaiken.", "Kerron kaiken!")]:
        changed.write_text(text.replace(old, new), encoding="utf-8")
        assert model_hash(_load(changed)) != model_hash(_load(MINIMAL))


def test_course_hash_depends_on_every_scenario(content: Content) -> None:
    first = content.course_scenarios()[0]
    edited = first.model_copy(update={"version": first.version + 1})
    other = Content(
        content.catalogue, content.course, {**content.scenarios, first.id: edited}, content.folder
    )
    assert course_hash(other) != course_hash(content)
    assert len(course_hash(content)) == 16
