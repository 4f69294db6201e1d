"""Exports: XLSX and CSV read back with pandas, Finnish headers and dates, hostile cells."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from records_helpers import Records, run_course

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.course.demo import generate
from somequiz.errors import ConfigError
from somequiz.i18n import FI
from somequiz.records.rows import RosterEntry
from somequiz.reports.export import (
    SHEETS,
    Filters,
    Tables,
    build,
    neutralise,
    neutralise_frame,
    write_csv,
    write_xlsx,
)
from somequiz.reports.item_analysis import SMALL_GROUP_NOTE

TODAY = date(2026, 3, 1)
AT = datetime(2026, 2, 3, 10, tzinfo=UTC)
HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A9)",
    "-2+3",
    "@SUM(1)",
    "\tTabulaattori",
    "\rRivinvaihto",
    "<script>alert(1)</script>",
    'Åsa "Lainaus"; Öberg',
]


def fill(store: Records, content: Content) -> Records:
    """Eight hostile names in a hostile unit, six ordinary people in Kotihoito."""
    for n, name in enumerate(HOSTILE):
        run_course(store, content, name=name, employee_number=f"H{n}", unit="=Yksikkö", at=AT)
    for n in range(6):
        run_course(store, content, name=f"Oppija {n}", employee_number=f"K{n}", best=n < 3, at=AT)
    store.admin.import_roster(
        [RosterEntry("M1", "-Myöhässä", "Kotihoito", date(2025, 1, 1), "@m@example.fi")]
    )
    return store


@pytest.fixture(scope="module")
def filled(shared_store: Records, content: Content) -> Records:
    """The same filled database for every read-only test of the module."""
    return fill(shared_store, content)


def test_neutralise() -> None:
    assert [neutralise(v) for v in ("=1", "+1", "-1", "@a", "\t", "\r", "a=1", "", 5)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\t",
        "'\r",
        "a=1",
        "",
        5,
    ]


def test_xlsx_reads_back_with_finnish_sheets_and_no_formulas(
    filled: Records, content: Content, tmp_path: Path
) -> None:
    tables = build(filled.reports, content, Filters(), TODAY)
    path = tmp_path / "suoritukset.xlsx"
    write_xlsx(tables, path)
    back = pd.read_excel(path, sheet_name=None)
    assert list(back) == [SHEETS[k] for k in ("completions", "overdue", "themes", "items")]
    completions = back["Suoritukset"]
    assert list(completions.columns) == list(tables["completions"].columns)
    assert len(completions) == 15  # one row per employee
    names = set(completions["Nimi"])
    for hostile in HOSTILE:
        expected = "'" + hostile if hostile[0] in "=+-@\t\r" else hostile
        # OOXML stores a CR as the escape _x000D_: Excel shows the CR, openpyxl the escape.
        assert expected.replace("\r", "_x000D_") in names
    assert "'-Myöhässä" in set(back["Myöhässä"]["Nimi"])
    assert set(back["Myöhässä"]["Sähköposti"].dropna()) == {"'@m@example.fi"}
    first = completions.set_index("Henkilönumero").loc["K0"]
    assert first["Suorituspäivä"] == pd.Timestamp(2026, 2, 3)
    assert first["Hyväksytty"] == "kyllä" and first["Tila"] == "Suoritettu"
    assert first["Tulos %"] == 100.0
    workbook = openpyxl.load_workbook(path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if cell.is_date:
                    assert cell.number_format == "d.m.yyyy"


def test_csv_as_finnish_excel_opens_it(filled: Records, content: Content, tmp_path: Path) -> None:
    tables = build(filled.reports, content, Filters(), TODAY)
    path = tmp_path / "suoritukset.csv"
    write_csv(tables["completions"], path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].decode("utf-8").splitlines()[0]
    assert header.startswith("Henkilönumero;Nimi;Yksikkö;Aloituspäivä;Tila;")
    back = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    row = back.set_index("Henkilönumero").loc["K0"]
    assert row["Suorituspäivä"] == "3.2.2026"
    assert row["Tulos %"] == "100,0"
    late = back.set_index("Henkilönumero").loc["M1"]
    assert late["Aloituspäivä"] == "1.1.2025" and late["Tila"] == "Myöhässä"
    assert "'=cmd|' /C calc'!A0" in set(back["Nimi"])
    assert set(back["Yksikkö"]) == {"'=Yksikkö", "Kotihoito"}
    assert len(back) == len(tables["completions"])


def test_item_analysis_figures(filled: Records, content: Content) -> None:
    items = Tables(filled.reports, content, Filters(unit="Kotihoito"), TODAY).item_analysis(
        with_ids=True
    )
    scenario = content.course_scenarios()[0]
    first_step = scenario.steps[0]
    row = items[items["step_id"] == first_step.id].iloc[0]
    assert row["Skenaario"] == scenario.title.fi and row["Kohta"] == 1
    assert row["Vastauksia"] == 6
    best = graph.best_selection(first_step)[0]
    worst = min(first_step.choices, key=lambda c: c.points)
    assert worst.id != best
    assert row["Pisteistä keskimäärin %"] == 50.0
    assert row["Yhteys kokonaistulokseen"] > 0.9
    assert row["Yleisin muu kuin paras valinta"] == worst.text.fi
    assert row["choice_id"] == worst.id
    assert row["Valinnan osuus %"] == 50.0
    assert row["Arvio"] == FI["hr_item_ok"]


def test_small_unit_shows_no_answer_level_figures(store: Records, content: Content) -> None:
    store.admin.import_roster([RosterEntry("S1", "Yksin", "Pieni", date(2026, 1, 1))])
    run_course(store, content, name="Yksin", employee_number="S1", unit="Pieni", at=AT)
    tables = build(store.reports, content, Filters(unit="Pieni"), TODAY)
    items = tables["items"]
    assert len(items) == 1 and items.loc[0, "Arvio"] == SMALL_GROUP_NOTE
    themes = tables["themes"].set_index("Yksikkö")
    assert themes.isna().loc["Pieni", "Hyväksyttyjä %"]
    assert themes.loc["Pieni", "Huomautus"] == SMALL_GROUP_NOTE
    assert len(tables["completions"]) == 1


def test_since_and_unknown_unit(filled: Records, content: Content) -> None:
    assert build(filled.reports, content, Filters(since=date(2026, 2, 4)), TODAY)[
        "completions"
    ].empty
    assert (
        len(build(filled.reports, content, Filters(since=date(2026, 2, 3)), TODAY)["completions"])
        == 14
    )
    with pytest.raises(ConfigError, match="Yksikköä ”Ei ole” ei ole"):
        build(filled.reports, content, Filters(unit="Ei ole"), TODAY)


# One step in the reference item analysis: answers, facility, discrimination, wrong picks counted.
_Reference = tuple[int, float, float | None, dict[str, int]]


def _item_reference(
    store: Records, content: Content, unit: str | None
) -> tuple[int, dict[tuple[str, str], _Reference]]:
    """The item analysis computed the direct way, from every answer in pandas (the oracle)."""
    answers, attempts = store.reports.answers_frame(), store.reports.attempts_frame()
    done = attempts[attempts["completed_at"].notna()]
    first = answers[(answers["scenario_try"] == 1) & answers["attempt_id"].isin(done["attempt_id"])]
    if unit is not None:
        first = first[first["unit"] == unit]
    totals = done.set_index("attempt_id")[["points", "max_points"]]
    joined = first.merge(totals, left_on="attempt_id", right_index=True, suffixes=("", "_course"))
    rest_max = joined["max_points_course"] - joined["max_points"]
    joined = joined.assign(
        item=joined["points"] / joined["max_points"].where(joined["max_points"] > 0),
        rest=(joined["points_course"] - joined["points"]) / rest_max.where(rest_max > 0),
    )
    found: dict[tuple[str, str], _Reference] = {}
    for (sid, step_id), part in joined.groupby(["scenario_id", "step_id"]):
        step = content.scenarios[str(sid)].step(str(step_id))
        assert step is not None
        picks = part["chosen"].explode()
        wrong = picks[~picks.isin(graph.best_selection(step))].value_counts()
        found[(str(sid), str(step_id))] = (
            len(part),
            round(float(part["item"].mean()), 2),
            round(float(part["item"].corr(part["rest"])), 2)
            if part["item"].std() > 0 and part["rest"].std() > 0
            else None,
            dict(wrong),
        )
    return first["learner_id"].nunique(), found


def test_item_analysis_from_sums_matches_the_direct_computation(
    store: Records, content: Content
) -> None:
    generate(store.db, content, learners=40, seed=5, today=TODAY)
    units = store.reports.attempts_frame().dropna(subset=["completed_at"])["unit"].value_counts()
    assert units.iloc[0] >= 5 > units.iloc[-1]  # a unit big enough and one too small
    for unit in (None, units.index[0], units.index[-1]):
        _check_items(store, content, unit)


def _check_items(store: Records, content: Content, unit: str | None) -> None:
    items = Tables(store.reports, content, Filters(unit=unit), TODAY).item_analysis(with_ids=True)
    learners, reference = _item_reference(store, content, unit)
    if learners < 5:
        assert len(items) == 1 and items.loc[0, "Arvio"] == SMALL_GROUP_NOTE
        return
    assert len(items) == len(reference) > 20
    for row in items.to_dict("records"):
        answers, facility, discrimination, wrong = reference[(row["scenario_id"], row["step_id"])]
        assert row["Vastauksia"] == answers
        if answers < 5:
            assert pd.isna(row["Pisteistä keskimäärin %"]) and row["Arvio"] == SMALL_GROUP_NOTE
            continue
        assert abs(row["Pisteistä keskimäärin %"] - 100 * facility) <= 0.6  # 2 vs 1 decimals
        assert pd.isna(row["Yhteys kokonaistulokseen"]) == (discrimination is None)
        if discrimination is not None:
            assert abs(row["Yhteys kokonaistulokseen"] - discrimination) <= 0.01  # sum rounding
        if wrong:
            top = str(row["choice_id"])
            assert wrong[top] == max(wrong.values())
            assert row["Valinnan osuus %"] == round(100 * wrong[top] / answers, 1)
        else:
            assert pd.isna(row["Yleisin muu kuin paras valinta"])


def test_completions_say_when_the_identity_was_typed_by_the_learner(
    store: Records, content: Content
) -> None:
    run_course(store, content, name="Itse Ilmoittanut", employee_number="I1")
    run_course(store, content, name="Kirjautunut Käyttäjä", external_id="kirjautunut.k")
    rows = Tables(store.reports, content, Filters(), TODAY).completions().set_index("Nimi")
    assert rows.loc["Itse Ilmoittanut", "Henkilöllisyys"] == "ilmoitettu itse"
    assert rows.loc["Kirjautunut Käyttäjä", "Henkilöllisyys"] == "kirjautunut (SSO)"


@pytest.mark.parametrize("text", [" =1+1", "\t=cmd|' /C calc'!A0", "\u200b@SUM(A1)", "\n+1"])
def test_formulas_behind_blanks_are_neutralised_too(text: str) -> None:
    assert neutralise(text) == "'" + text
    frame = neutralise_frame(pd.DataFrame({"Nimi": [text, "Tavallinen Nimi"]}))
    assert list(frame["Nimi"]) == ["'" + text, "Tavallinen Nimi"]
