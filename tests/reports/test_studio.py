"""Trainer studio views: versions shown, graph, findings, coverage and the learner preview."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest

from somequiz.config import settings
from somequiz.content import graph
from somequiz.content.folder import Content, check_folder
from somequiz.reports.studio import (
    coverage_frame,
    coverage_legend,
    problems_frame,
    read_folder,
    scenario_graph,
    scenario_graph_svg,
)
from somequiz.ui.staff.preview import learner_preview
from somequiz.ui.staff.studio import status_html

ROOT = Path(__file__).parents[2]
FIXTURES = Path(__file__).parents[1] / "fixtures"
EARLIER = datetime(2026, 12, 3, 9, 15, 0)
NOW = datetime(2026, 12, 3, 12, 31, 5)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped content folder, to break."""
    target = tmp_path / "scenarios"
    shutil.copytree(ROOT / "scenarios", target)
    return target


def _break(path: Path) -> None:
    """Give ``path`` a YAML syntax error (a key indented two spaces too little)."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n    prompt:", "\n  prompt:", 1), encoding="utf-8")


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


def test_graph_labels_are_wrapped_and_large_enough(content: Content) -> None:
    scenario = content.scenarios["toimittaja-soittaa"]
    svg = scenario_graph_svg(scenario)
    sizes = {float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)}
    assert sizes and min(sizes) >= 11  # points: about 15 px at the SVG's own size
    # A long prompt is wrapped on several lines, not cut after a few words.
    texts = [unescape(t) for t in re.findall(r">([^<>]+)</text>", svg)]
    assert "1. vastaus-puhelimessa" in texts
    assert max(len(t) for t in texts) <= 40


def test_coverage_columns_are_the_course_in_order_with_titles(content: Content) -> None:
    frame = coverage_frame(content)
    count = len(content.course.scenarios)
    assert list(frame.columns) == [str(n) for n in range(1, count + 1)] + ["Yhteensä"]
    assert list(frame["Yhteensä"]) == sorted(frame["Yhteensä"])
    assert len(frame) == sum(1 for _ in content.catalogue.rules())
    legend = coverage_legend(content)
    assert legend[0] == (1, content.scenarios[content.course.scenarios[0]].title.fi)
    assert [n for n, _ in legend] == list(range(1, count + 1))


def test_problems_frame_points_at_file_and_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "scenarios" / "guideline.yaml", tmp_path)
    shutil.copy(FIXTURES / "invalid" / "unknown-next.yaml", tmp_path)
    frame = problems_frame(check_folder(tmp_path)[1])
    assert frame.to_dict("records") == [
        {
            "Tiedosto": "course.yaml",
            "Rivi": 1,
            "Sarake": 1,
            "Taso": "virhe",
            "Viesti": "kurssin asetukset puuttuvat: lisää course.yaml",
        },
        {
            "Tiedosto": "unknown-next.yaml",
            "Rivi": 47,
            "Sarake": 11,
            "Taso": "virhe",
            "Viesti": "vaihe 3, next: vaihetta tai loppua 'loppuu' ei ole tässä skenaariossa: "
            "tarkoititko 'loppu'?",
        },
    ]


def test_studio_opens_broken_content_with_the_sound_scenarios(folder: Path) -> None:
    _break(folder / "kuva-asiakkaasta.yaml")
    shown = read_folder(folder, None, NOW)
    assert (shown.version, shown.errors) == ("partial", 1)
    assert shown.content is not None
    assert "kuva-asiakkaasta" not in shown.content.course.scenarios
    assert shown.content.left_out == ["kuva-asiakkaasta"]
    banner = status_html(shown)
    assert "Tiedostoissa on 1 virhe. Korjaa ne" in banner
    assert "kuva-asiakkaasta.yaml:" in banner and "sisennetty 2 välilyönnillä" in banner
    total = len(shown.content.course.scenarios) + 1
    assert f"Näytetään {total - 1}/{total} kurssin skenaariota" in banner
    assert "luettu klo 12.31.05" in banner


def test_after_reload_with_a_broken_file_the_studio_names_the_version_shown(
    folder: Path,
) -> None:
    good = read_folder(folder, None, EARLIER)
    assert (good.version, good.errors) == ("current", 0)
    assert "Näytetään tiedostot sellaisina kuin ne luettiin klo 09.15.00." in status_html(good)
    _break(folder / "kuva-asiakkaasta.yaml")
    shown = read_folder(folder, good, NOW)
    assert shown.version == "last_good" and shown.content is good.content
    assert shown.errors == 1  # the findings are those of the files as they are now
    banner = status_html(shown)
    assert "Näytetään viimeisin toimiva versio, joka luettiin klo 09.15.00." in banner
    assert 'role="alert"' in banner


def test_studio_without_a_usable_course_says_so(folder: Path) -> None:
    _break(folder / "course.yaml")
    (folder / "course.yaml").write_text("id: [\n", encoding="utf-8")
    shown = read_folder(folder, None, NOW)
    assert (shown.version, shown.content) == ("none", None)
    assert "Kurssia ei voi näyttää ennen kuin" in status_html(shown)


def test_preview_is_the_learner_screen_with_every_branch_and_the_key(content: Content) -> None:
    scenario = content.scenarios["toimittaja-soittaa"]
    html = learner_preview(content, scenario)
    # The learner's own templates: the situation card and the feedback blocks.
    assert 'class="sq-situation sq-channel-phone"' in html
    keys = sum(len(graph.best_selection(s)) for s in scenario.steps)
    # Every choice of a single step; on a multi step the right set and each wrong choice alone.
    branches = sum(
        len(s.choices) if s.kind == "single" else 1 + len(s.choices) - len(graph.best_selection(s))
        for s in scenario.steps
    )
    assert any(s.kind == "multi" for s in scenario.steps)
    assert html.count('class="sq-verdict sq-sev-') == branches
    assert html.count("sq-preview-key-tag") == keys
    assert html.count(" checked>") == keys
    for step in scenario.steps:
        assert step.prompt.fi in html
        for choice in step.choices:
            assert choice.feedback.fi.replace("’", "&#39;")[:40] in html.replace("’", "&#39;")
    assert "Paras polku: vastaus-puhelimessa" in html
    assert "vie kohtaan 4 (lehtijuttu)" in html


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
