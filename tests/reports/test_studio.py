"""Trainer studio views: graph, findings and coverage tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from somequiz.config import settings
from somequiz.content.folder import Content
from somequiz.reports.studio import (
    coverage_frame,
    problems_frame,
    scenario_graph,
    scenario_graph_svg,
)

ROOT = Path(__file__).parents[2]
FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_graph_has_every_step_choice_ending_and_branch(content: Content) -> None:
    scenario = content.scenarios["toimittaja-soittaa"]
    source = scenario_graph(scenario).source
    for step in scenario.steps:
        assert f"s_{step.id}" in source
        for choice in step.choices:
            assert f"c_{step.id}_{choice.id}" in source
    assert '"c_vastaus-puhelimessa_kerro-kaikki" -> s_lehtijuttu [style=bold]' in source
    assert "e_hyvin-hoidettu" in source
    svg = scenario_graph_svg(scenario)
    assert svg.lstrip().startswith("<?xml") and "Mediakontakti hoidettu" in svg


def test_coverage_frame_lists_uncovered_rules_first(content: Content) -> None:
    frame = coverage_frame(content)
    assert len(frame) == sum(1 for _ in content.catalogue.rules())
    assert list(frame["yhteensä"]) == sorted(frame["yhteensä"])
    assert set(frame.columns) == {*content.scenarios, "yhteensä"}


def test_problems_frame_points_at_file_and_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "scenarios" / "guideline.yaml", tmp_path)
    shutil.copy(FIXTURES / "invalid" / "unknown-next.yaml", tmp_path)
    frame = problems_frame(tmp_path)
    assert frame.to_dict("records") == [
        {
            "tiedosto": "course.yaml",
            "rivi": 1,
            "sarake": 1,
            "taso": "virhe",
            "viesti": "kurssin asetukset puuttuvat: lisää course.yaml",
        },
        {
            "tiedosto": "unknown-next.yaml",
            "rivi": 47,
            "sarake": 11,
            "taso": "virhe",
            "viesti": "next 'loppuu' ei ole vaihe eikä loppu",
        },
    ]


def test_a_dashboard_link_opens_its_scenario_in_the_studio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from urllib.parse import urlsplit

    from somequiz.reports.dashboard import studio_link
    from somequiz.ui.staff.studio import requested_scenario

    monkeypatch.setenv("SOMEQUIZ_STUDIO_URL", "http://127.0.0.1:8868/")
    settings.cache_clear()
    url = studio_link("vaite-facebook-ryhmassa")
    assert url.startswith("http://127.0.0.1:8868/voila/render/studio.ipynb?")
    # Voilà hands the page's query string (with the login token, if any) to the kernel.
    monkeypatch.setenv("QUERY_STRING", "token=abc&" + urlsplit(url).query)
    assert requested_scenario() == "vaite-facebook-ryhmassa"
    monkeypatch.setenv("QUERY_STRING", "")
    assert requested_scenario() is None
    assert studio_link(None) == ""
