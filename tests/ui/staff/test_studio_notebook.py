"""The trainer studio notebook executes headless on a database with sample records."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from somequiz.content.folder import Content
from somequiz.course.demo import generate
from somequiz.records.store import Store

STUDIO = Path(__file__).parents[3] / "notebooks" / "trainer" / "studio.ipynb"


def test_studio_executes_and_shows_graph_coverage_and_answers(
    content: Content, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    store = Store(url)
    generate(store, content, learners=12, seed=3)
    store.close()
    monkeypatch.setenv("SOMEQUIZ_DB_URL", url)
    nb = nbformat.read(STUDIO, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        store_widget_state=True,
        resources={"metadata": {"path": str(STUDIO.parent)}},
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    widget_state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    state = json.dumps(widget_state, ensure_ascii=False)
    assert "<svg" in state
    assert "Ei virheitä eikä varoituksia." in state
    assert "background-color" in state  # the coverage heat map
    assert "Valinnat ensimmäisellä yrityksellä" in state
    assert "Jokin meni vikaan" not in state
