"""The systemd units of deploy/ pass ``systemd-analyze verify`` (syntax, directives, commands).

systemd cannot run inside the test machine, so the units are checked, not started: their
``/opt/somequiz`` paths point at this checkout for the check, so that the commands they run
must exist and be executable here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"


def _installed(folder: Path, edit: tuple[str, str] | None = None) -> list[Path]:
    """The units as an administrator installs them, with paths of this checkout."""
    venv = Path(sys.prefix)
    units = []
    for source in sorted(UNITS.iterdir()):
        text = source.read_text(encoding="utf-8")
        text = text.replace("/opt/somequiz/.venv", str(venv)).replace("/opt/somequiz", str(ROOT))
        if edit is not None:
            text = text.replace(*edit)
        # A template unit is verified as one of its instances.
        name = source.name.replace("@.service", "@8871.service")
        target = folder / name
        target.write_text(text, encoding="utf-8")
        units.append(target)
    return units


def _verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: run 'make system-packages'")
    return subprocess.run(
        [analyze, "verify", *(u.name for u in units)],
        cwd=units[0].parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_units_verify_cleanly(tmp_path: Path) -> None:
    units = _installed(tmp_path)
    assert {u.name for u in units} >= {
        "somequiz-learner@8871.service",
        "somequiz-hr.service",
        "somequiz-trainer.service",
        "somequiz-backup.service",
        "somequiz-backup.timer",
    }
    done = _verify(units)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    units = _installed(tmp_path, ("Restart=on-failure", "Restart=sometimes"))
    assert "restart specifier" in _verify(units).stderr
