"""Project hygiene: dependency lists agree, schemas are fresh, the trainer guide is complete."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from somequiz.cli import main
from somequiz.config import settings
from somequiz.content.schema import field_names, schema_files

ROOT = Path(__file__).parents[1]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.\-]+", requirement.strip())
    assert match is not None, requirement
    return match.group(0).lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for r in project["optional-dependencies"]["postgres"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            listed |= {_name(r) for r in dep["pip"] if not r.startswith("-e")}
        elif _name(dep) not in {"python", "pip"}:
            listed.add(_name(dep))
    assert listed == wanted


def test_committed_schemas_are_up_to_date() -> None:
    for name, text in schema_files().items():
        assert (ROOT / "scenarios" / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run 'somequiz schema'"
        )


def test_schema_check_command_reports_stale_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOMEQUIZ_SCENARIOS", str(tmp_path))
    settings.cache_clear()
    runner = CliRunner()
    stale = runner.invoke(main, ["schema", "--check"])
    assert stale.exit_code == 1
    assert "Vanhentunut: schema.json, course.schema.json, guideline.schema.json" in stale.output
    assert runner.invoke(main, ["schema"]).exit_code == 0
    assert runner.invoke(main, ["schema", "--check"]).exit_code == 0


def test_trainer_guide_documents_every_field() -> None:
    guide = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    missing = sorted(f for f in field_names() if f"`{f}`" not in guide)
    assert missing == []
