"""The page's configuration as the servers' Voilà template gets it: versioned scripts, and the
words of the loading screen.

Voilà's own loading screen says "Running kurssi.ipynb…" and "Executing 2 of 2" in English. The
``somequiz`` template draws its own from the page's first bytes (the notebook's title, which
the course notebook has as its course name, and these words) and moves its progress bar as
the page gets on: the page has arrived, the server has run the cells, the scripts are loaded.
"""

from __future__ import annotations

from typing import Any

from somequiz.i18n import FI
from somequiz.ui.server.page_scripts import page_scripts
from somequiz.ui.server.static import versioned_scripts

# Voilà's template reads page_config["somequizLoading"]; the page's scripts ignore the key.
LOADING_KEY = "somequizLoading"


class PageConfig:
    """Voilà's page config hook; ``course`` pages say "Ladataan kurssia…", others "…sivua…"."""

    def __init__(self, *, course: bool) -> None:
        self.course = course

    def words(self) -> dict[str, str]:
        """The loading screen's words (Finnish: the course's language, before any choice)."""
        return {
            "app": FI["app_name"],
            "org": FI["municipality"],
            "text": FI["loading_course" if self.course else "loading_page"],
            "hint": FI["loading_hint"],
            "kernel": FI["loading_step_kernel"],
            "scripts": FI["loading_step_scripts"],
        }

    def __call__(
        self, config: dict[str, Any], base_url: str, settings: dict[str, Any], **_: Any
    ) -> dict[str, Any]:
        versioned_scripts(config, base_url, settings)
        page_scripts(config, base_url, settings)
        config[LOADING_KEY] = self.words()
        return config
