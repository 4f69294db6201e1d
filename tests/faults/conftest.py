"""Fault tests: the learner app in-process over a store whose database or disk misbehaves."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_helpers import mount

from somequiz.content.folder import Content, load_content

UI_COURSE = Path(__file__).resolve().parents[1] / "fixtures" / "ui-course"


@pytest.fixture(scope="session")
def ui_content() -> Content:
    """The tiny two-scenario course of the UI tests."""
    return load_content(UI_COURSE)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """A tiny tmpfs of its own (root only): ``make("2m")`` mounts one and returns its path.

    A real file system is the only honest way to get ENOSPC and EROFS: root ignores file
    permissions, so ``chmod`` cannot make a folder read-only for these tests.
    """
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8) for a tmpfs")
    mounted: list[Path] = []

    def make(size: str) -> Path:
        target = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
        target.mkdir()
        try:
            mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(target))
        except (subprocess.CalledProcessError, OSError) as exc:
            pytest.skip(f"cannot mount a tmpfs here: {exc}")
        mounted.append(target)
        return target

    yield make
    for target in mounted:
        subprocess.run(["umount", "-l", str(target)], check=False, timeout=30)
