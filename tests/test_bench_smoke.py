"""The benchmarks run in their quick mode and print their figures (no timing is asserted)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")

TTI_FIGURES = [
    "tti_course_s",
    "tti_bare_button_s",
    "tti_jupyterquiz_s",
    "submit_feedback_p50_ms",
    "submit_feedback_p95_ms",
    "kernel_course_rss_mib",
]
RECORDS_FIGURES = [
    "csv_export_total_s",
    "xlsx_export_total_s",
    "dashboard_notebook_executed_s",
    "writes_sqlite_completions_per_s",
]


def _start(script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script), "--quick"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _figures(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        if line.startswith("FIGURE "):
            name = line.split()[1]
            found[name] = line
    return found


@pytest.mark.timeout(180)
def test_benchmarks_run_quick_and_print_figures() -> None:
    # `make test` installs the bench extra; only a bare local venv may lack the quiz baseline.
    browser = CHROMIUM.exists() and importlib.util.find_spec("jupyterquiz") is not None
    if not browser and os.environ.get("CI") == "true":
        pytest.fail("CI needs Chromium and jupyterquiz (the bench extra) for bench/tti.py")
    # Both at once: the smoke test should stay short.
    records = _start("records.py")
    tti = _start("tti.py") if browser else None
    try:
        records_out, _ = records.communicate(timeout=170)
        tti_out = tti.communicate(timeout=170)[0] if tti else ""
    finally:
        for process in (records, tti):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert records.returncode == 0, records_out[-3000:]
    figures = _figures(records_out)
    for name in RECORDS_FIGURES:
        assert name in figures, f"{name} missing:\n{records_out[-3000:]}"
    assert "ratio" in figures["csv_export_total_s"]
    assert "GOAL CSV export" in records_out
    if tti is None:
        pytest.skip("Chromium or jupyterquiz (the bench extra) is not installed: tti.py not run")
    assert tti.returncode == 0, tti_out[-3000:]
    figures = _figures(tti_out)
    for name in TTI_FIGURES:
        assert name in figures, f"{name} missing:\n{tti_out[-3000:]}"
    assert "ratio" in figures["tti_course_s"]
