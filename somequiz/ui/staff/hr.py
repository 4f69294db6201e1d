"""HR dashboard widgets: unit and date filters that redraw the dashboard below them, and
download links for the exports of the filtered records."""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from somequiz.errors import SomequizError
from somequiz.records.store import Store
from somequiz.reports.dashboard import STATIC_ENV, DownloadKind, download_link, export_file, show
from somequiz.reports.export import Filters
from somequiz.ui.errors import reference_code

if TYPE_CHECKING:
    import ipywidgets as widgets

log = logging.getLogger("somequiz.hr")
DOWNLOADS: list[tuple[DownloadKind, str]] = [
    ("xlsx", "Excel (XLSX)"),
    ("csv", "CSV"),
    ("xapi", "xAPI (JSONL)"),
]


def _units() -> list[str]:
    store = Store(migrate=False)  # the server migrated on start
    try:
        return store.units()
    finally:
        store.close()


def downloads(filters: Callable[[], Filters]) -> widgets.Widget:
    """Buttons that make an export of the records ``filters()`` selects, and its save link.

    Made in the kernel only when asked for: a workbook of every employee takes seconds.
    """
    import ipywidgets as widgets

    link = widgets.HTML()
    buttons: list[widgets.Button] = []

    def make(kind: DownloadKind) -> Callable[[Any], None]:
        def click(_button: Any) -> None:
            for button in buttons:
                button.disabled = True
            link.value = "<p>Luodaan tiedostoa…</p>"
            try:
                link.value = download_link(export_file(kind, filters()))
            except SomequizError as exc:
                link.value = f"<p>{html.escape(str(exc))}</p>"
            except Exception:
                code = reference_code()
                log.exception("export error %s", code)
                link.value = (
                    f"<p>Vienti epäonnistui (viite {code}). Virheen tiedot ovat lokissa.</p>"
                )
            finally:
                for button in buttons:
                    button.disabled = False

        return click

    for kind, label in DOWNLOADS:
        button = widgets.Button(description=label, icon="download", tooltip="Rajaukset huomioiden")
        button.on_click(make(kind))
        buttons.append(button)
    return widgets.VBox([widgets.HBox(buttons), link])


def dashboard() -> None:
    """The dashboard with filters; without them when rendering the static report."""
    if os.environ.get(STATIC_ENV):
        show()
        return
    # Imported here: the static report (`somequiz report`) draws no widgets.
    import ipywidgets as widgets
    from IPython import display as ipd

    unit = widgets.Dropdown(
        options=[("Kaikki yksiköt", None), *((u, u) for u in _units())],
        description="Yksikkö",
    )
    since = widgets.DatePicker(description="Alkaen")
    output = widgets.Output()

    def current() -> Filters:
        return Filters(since.value, unit.value)

    def redraw(_change: object = None) -> None:
        output.clear_output(wait=True)
        with output:  # exceptions inside callbacks are shown only through an Output
            show(current())

    unit.observe(redraw, names="value")
    since.observe(redraw, names="value")
    show_widgets: Callable[..., Any] = ipd.display  # untyped in IPython
    show_widgets(widgets.HBox([unit, since]), downloads(current), output)
    redraw()
