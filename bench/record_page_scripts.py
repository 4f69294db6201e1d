"""Record the scripts the course page asks for until its course answers, for the joined file.

Run: ``.venv/bin/python bench/record_page_scripts.py`` after Voilà, ipywidgets or anywidget
changed (the server then logs that listed scripts are missing, and
``tests/browser/test_page_scripts.py`` fails naming the scripts the page fetched on its own).
It starts the learner server with the scripts not joined, loads the course page cold in
Chromium at 360 px, and writes ``somequiz/ui/server/page_scripts.json``: every script the page
requested before the start screen's widget took over, except Voilà's main script and the widget
extensions' entry files (the page loads those by name; the server preloads them).
"""

from __future__ import annotations

import json
import tempfile
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from common import ROOT, start_somequiz, stop_server
from playwright.sync_api import Request, sync_playwright
from tti import CHROMIUM, CHROMIUM_ARGS, LIVE_SCRIPT, TIMEOUT_MS

from somequiz.ui.server.page_scripts import LIST, chunk_url


def page_url(url: str, server: str) -> str | None:
    """The chunk's URL as the list names it; None if not a chunk of this server's page."""
    return chunk_url(urlsplit(url).path) if url.startswith(server + "/") else None


def record(server: str) -> list[str]:
    """The chunk URLs one cold page load asks for until the course's widget is live."""
    asked: list[str] = []

    def requested(request: Request) -> None:
        found = page_url(request.url, server) if request.resource_type == "script" else None
        if found and found not in asked:
            asked.append(found)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        page.add_init_script(LIVE_SCRIPT)
        page.on("request", requested)
        page.goto(f"{server}/voila/render/kurssi.ipynb", timeout=TIMEOUT_MS)
        page.wait_for_function("() => window.__sqLive !== undefined", timeout=TIMEOUT_MS)
        browser.close()
    return asked


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SOMEQUIZ_JOIN_PAGE_SCRIPTS": "false", "SOMEQUIZ_SECRET_KEY": "record-key"}
        server = start_somequiz("serve", Path(tmp), ROOT / "scenarios", env=env)
        try:
            scripts = record(server.url)
        finally:
            stop_server(server.process)
    packages = ("voila", "jupyterlab_widgets", "anywidget")
    listed = {"recorded_with": {name: version(name) for name in packages}, "scripts": scripts}
    LIST.write_text(json.dumps(listed, indent=1) + "\n", encoding="utf-8")
    print(f"{len(scripts)} scripts written to {LIST.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
