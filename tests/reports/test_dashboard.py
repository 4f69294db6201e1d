"""The HR dashboard: figures against the store, Finnish formats and names, downloads, report."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from records_helpers import Records, run_course

from somequiz.config import settings
from somequiz.content.folder import Content
from somequiz.course.demo import generate
from somequiz.i18n import FI
from somequiz.records.rows import RosterEntry
from somequiz.reports import dashboard
from somequiz.reports import dashboard_html as h
from somequiz.reports.dashboard import build, download_link, export_file, render_report, report_html
from somequiz.reports.export import Filters, Tables
from somequiz.reports.item_analysis import verdict
from somequiz.ui.server.sign_in import sign_in_page

AT = datetime(2026, 2, 3, 10, tzinfo=UTC)
TODAY = date(2026, 3, 1)
# src/href attributes, CSS url()s and JavaScript imports that name another host.
OFF_MACHINE = re.compile(
    r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?https?:|import\("""
)


def test_finnish_formats() -> None:
    assert h.number(1234) == "1\u00a0234" and h.number(0.456, 2) == "0,46"
    assert h.percent(97) == "97\u00a0%" and h.percent(97.44) == "97,4\u00a0%"
    assert h.day(date(2026, 12, 3)) == "3.12.2026" and h.month(2026, 12) == "joulukuu 2026"
    assert [h.size(n) for n in (812, 45_300, 1_234_567)] == [
        "812\u00a0t",
        "45\u00a0kt",
        "1,2\u00a0Mt",
    ]
    assert [h.cell_text(v) for v in (None, float("nan"), pd.NA, True, date(2026, 1, 5))] == [
        "",
        "",
        "",
        "kyllä",
        "5.1.2026",
    ]


def test_hostile_names_are_escaped_and_figures_count_people(
    store: Records, content: Content
) -> None:
    store.admin.import_roster(
        [RosterEntry("L1", "<img src=x onerror=alert(1)>", "Kotihoito", date(2025, 1, 1))]
    )
    run_course(store, content, name="Aino", employee_number="A1", at=AT)
    board = build(store.reports, content, today=TODAY)
    cards = {card.kind: card.value for card in dashboard.figures(board)}
    assert cards == {
        "people": "2",
        "todo": "0",
        "overdue": "1",
        "passed": "1",
        "failed": "0",
        "recertify": "0",
    }
    page = report_html(board, content)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page
    assert "None" not in page and "nan" not in page.lower().replace("nano", "")


def test_figures_and_people_match_the_store_and_the_download(
    store: Records, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOMEQUIZ_DB_URL", store.db.url)
    settings.cache_clear()
    generate(store.db, content, learners=60, seed=3, today=TODAY)
    since = date(2026, 1, 1)
    for filters in (Filters(), Filters(since=since)):
        board = build(store.reports, content, filters, TODAY)
        status = Tables(store.reports, content, filters, TODAY).shown_status()["status"]
        cards = {card.kind: card.value for card in dashboard.figures(board)}
        assert cards["people"] == str(len(status))
        assert cards["overdue"] == str((status == "overdue").sum())
        assert cards["todo"] == str(status.isin(["not_started", "in_progress"]).sum())
        assert cards["failed"] == str((status == "failed_final").sum())
        csv = export_file("csv", filters, today=TODAY).data.decode("utf-8-sig").splitlines()
        assert len(csv) - 1 == len(board.people) == len(status)  # screen rows = download rows
    late = build(store.reports, content, Filters(since=since), TODAY).people["Suorituspäivä"]
    assert all(day >= since for day in late)


def test_theme_names_are_the_learners(store: Records, content: Content) -> None:
    for n in range(5):
        run_course(store, content, name=f"Oppija {n}", employee_number=f"A{n}", at=AT)
    bars, _ = dashboard.theme_bars(build(store.reports, content, today=TODAY))
    learner_names = {text for key, text in FI.items() if key.startswith("theme_")}
    assert bars and {bar.label for bar in bars} <= learner_names
    assert all(bar.value.endswith("\u00a0%") for bar in bars)


def test_items_show_titles_and_plain_words_with_links_to_steps(
    store: Records, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        run_course(store, content, name=f"Oppija {n}", employee_number=f"A{n}", at=AT)
    monkeypatch.setenv("SOMEQUIZ_STUDIO_URL", "https://studio.example/")
    settings.cache_clear()
    items, links = dashboard.items_table(build(store.reports, content, today=TODAY))
    first = content.course_scenarios()[0]
    assert list(items.columns[:2]) == ["Tilanne", "Kohta"] and items.iloc[0]["Kohta"] == "Kohta 1"
    assert items.iloc[0]["Tilanne"] == first.title.fi
    assert links["Kohta"].iloc[0] == (
        "https://studio.example/voila/render/studio.ipynb"
        f"?scenario={first.id}&step={first.steps[0].id}"
    )
    text = items.astype(str).to_string()
    assert "Helppousindeksi" not in text and "Erottelukyky" not in text
    assert all(scenario.id not in text for scenario in content.course_scenarios())
    assert '<a href="https://studio.example/' in report_html(
        build(store.reports, content, today=TODAY), content
    )


def test_item_verdicts() -> None:
    assert verdict(95.0, 0.5) == FI["hr_item_easy"]
    assert verdict(30.0, 0.5) == FI["hr_item_hard"]
    assert verdict(70.0, 0.05) == FI["hr_item_unlinked"]
    assert verdict(70.0, 0.4) == verdict(70.0, None) == FI["hr_item_ok"]


def test_downloads_are_the_exports_of_the_filtered_records(
    store: Records, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOMEQUIZ_DB_URL", store.db.url)
    settings.cache_clear()
    run_course(store, content, name="Aino", employee_number="A1", unit="Kotihoito", at=AT)
    run_course(store, content, name="Eino", employee_number="E1", unit="Hallinto", at=AT)
    only = Filters(unit="Kotihoito")
    workbook = export_file("xlsx", only, today=TODAY)
    sheets = pd.read_excel(io.BytesIO(workbook.data), sheet_name=None)
    assert list(sheets["Suoritukset"]["Nimi"]) == ["Aino"]
    table = export_file("csv", only)
    assert table.data.startswith(b"\xef\xbb\xbfHenkil") and b"Eino" not in table.data
    statements = export_file("xapi", only).data.decode("utf-8").splitlines()
    assert statements and all(json.loads(s)["actor"]["account"]["name"] == "A1" for s in statements)
    link = download_link(table, "CSV-tiedosto")
    assert link.filename == "suoritukset.csv" and link.size == h.size(len(table.data))
    assert link.size.endswith(("\u00a0t", "\u00a0kt")) and not link.size.startswith("0")
    assert base64.b64decode(link.href.split(",", 1)[1]) == table.data
    markup = h.render("downloads", [link])
    assert 'download="suoritukset.csv"' in markup and link.size in markup
    monkeypatch.setattr(dashboard, "DOWNLOAD_LIMIT", 10)
    too_big = download_link(table, "CSV-tiedosto")
    assert too_big.href == "" and "somequiz export" in too_big.label


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the notebook's kernel reads it
def test_report_is_titled_dated_and_asks_nobody(
    store: Records,
    content: Content,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOMEQUIZ_DB_URL", store.db.url)
    run_course(store, content, name="Raportin Oppija", employee_number="R1", at=AT)
    store.admin.import_roster(
        [RosterEntry("L1", "Myöhäinen Henkilö", "Kotihoito", date(2025, 1, 1))]
    )
    output = tmp_path / "raportti.html"
    render_report(output)
    page = output.read_text(encoding="utf-8")
    assert "<title>SoMe-koulutus – HR-raportti</title>" in page and '<html lang="fi">' in page
    assert f"Laadittu {h.day(dashboard.today())}" in page
    assert "Myöhäinen Henkilö" in page and FI["hr_items"] in page
    assert "<script" not in page and OFF_MACHINE.findall(page) == []
    assert "dashboard()" not in page and ">Notebook<" not in page
    streams = capfd.readouterr()
    assert "WARNING" not in streams.out + streams.err  # e.g. "TCP without encryption"


def test_sign_in_page_is_finnish_and_escaped() -> None:
    page = sign_in_page('/login?next=%2F"><script>', '2|x"y', wrong=True)
    assert '<html lang="fi">' in page and FI["sign_in_title"] in page
    assert FI["sign_in_wrong"] in page and "<script>" not in page
    assert 'name="password"' in page and OFF_MACHINE.findall(page) == []
    assert '<meta name="referrer" content="same-origin">' in page  # else Origin: null, 404


def test_certificate_lookup_says_whose_it_is(
    store: Records, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    from somequiz.ui.staff.hr import certificate_text

    monkeypatch.setenv("SOMEQUIZ_DB_URL", store.db.url)
    settings.cache_clear()
    _, completion = run_course(store, content, name="Aino Aalto", employee_number="A1", at=AT)
    code = completion.certificate_code
    assert code is not None
    assert certificate_text(code.lower()) == (
        f"Todistus {code} on aito: Aino Aalto, 3.2.2026, hyväksytty."
    )
    assert certificate_text("AAAA-BBBB-CCCC") == "Todistusta AAAA-BBBB-CCCC ei löydy."
    assert certificate_text("  ") == FI["hr_cert_empty"]
