"""The page's first screen as plain HTML, drawn as soon as the page has loaded.

Voilà draws a widget only once the page has connected to its kernel and fetched the widget's
state, a few hundred milliseconds after an HTML output is drawn. The first screen (the start
form, or the overview of a signed-in learner) holds nothing a learner may not see, so the page
also gets it as an HTML output: the learner can read it, type and press buttons at once.
``first_paint.js`` holds those presses until the widget arrives; ``screen.js`` then takes the
painted elements over (with what was typed and where the focus is) and sends what was held.
A scenario step is never painted: choices and feedback exist only in the widgets. The styles
come with the page (the ``somequiz`` Voilà template links ``somequiz.css`` in its head): a
stylesheet inserted with the output would make the browser restyle the whole page first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from IPython.display import HTML

from somequiz.i18n.langs import DEFAULT_LANG, LANGS

_HERE = Path(__file__).parent


def first_paint(page: dict[str, Any]) -> HTML | None:
    """The page's first screen as an HTML output, or None when it is not a plain screen."""
    if list(page["children"]) != ["header"]:
        return None
    screen = page["header"]
    lang = screen["lang"] if screen["lang"] in LANGS else DEFAULT_LANG
    script = (_HERE / "first_paint.js").read_text(encoding="utf-8")
    # The screen's markup comes from the service's templates (autoescaped), as in the widget.
    return HTML(
        f'<div data-sq-first-paint lang="{lang}">'
        f'<div class="sq-root">{screen["html"]}</div></div><script>{script}</script>'
    )
