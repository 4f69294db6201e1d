"""The review sheet: every scenario with all its choices, for approval and classroom use."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import jinja2
import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from somequiz.content import graph
from somequiz.content.folder import Content
from somequiz.content.hashing import course_hash, model_hash
from somequiz.content.text import Lang
from somequiz.errors import ConfigError
from somequiz.reports.chromium import CHROMIUM, FLAGS
from somequiz.reports.preview import FILE_ORDER, SEVERITY_FI

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "trainer" / "review-sheet.ipynb"
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("somequiz", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def review_html(content: Content, lang: Lang = "fi") -> str:
    """The review sheet of the course as an HTML fragment."""
    rules = {
        rule.id: (section.heading.get(lang), rule.text.get(lang))
        for section, rule in content.catalogue.rules()
    }
    scenarios: list[dict[str, Any]] = []
    for scenario in content.course_scenarios():
        targets = {
            step.id: {
                c.id: scenario.next_after(step, c if step.kind == "single" else None)
                for c in step.choices
            }
            for step in scenario.steps
        }
        scenarios.append(
            {
                "scenario": scenario,
                "hash": model_hash(scenario),
                "max_points": graph.max_points(scenario),
                "best_path": [s.id for s in graph.best_path(scenario)],
                "targets": targets,
            }
        )
    return _ENV.get_template("review.html.j2").render(
        course=content.course,
        course_hash=course_hash(content),
        scenarios=scenarios,
        rules=rules,
        severity=SEVERITY_FI,
        file_order=FILE_ORDER,
        lang=lang,
    )


def render_notebook(notebook: Path, cwd: Path, timeout: int = 120) -> str:
    """Execute ``notebook`` and return it as HTML without code cells."""
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(cwd)}}).execute()
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb)
    return str(body)


def html_to_pdf(html: str, target: Path) -> None:
    """Print ``html`` to PDF with the system Chromium (never a downloaded browser)."""
    if not CHROMIUM.exists():
        raise ConfigError(
            "PDF tarvitsee Chromiumin: asenna se komennolla 'apt-get install chromium'."
        )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "review.html"
        source.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                str(CHROMIUM),
                *FLAGS,
                f"--user-data-dir={tmp}/profile",
                "--no-pdf-header-footer",
                f"--print-to-pdf={target}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def write_review_sheet(target: Path) -> None:
    """Write the review sheet to ``target`` (.html or .pdf) through the trainer notebook."""
    if target.suffix not in {".html", ".pdf"}:
        raise ConfigError("Anna tiedostonimi, joka päättyy .html tai .pdf.")
    html = render_notebook(NOTEBOOK, NOTEBOOK.parent)
    if target.suffix == ".html":
        target.write_text(html, encoding="utf-8")
    else:
        html_to_pdf(html, target)
