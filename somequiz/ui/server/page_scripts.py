"""The scripts a page needs before its course answers, sent as one file from the page's start.

Voilà's page loads ~70 small scripts (webpack chunks of its own bundle and of the widget lab
extensions) in four waves, each asked for only once the one before has run: on a phone's link
every wave costs a round trip and its own transfer (bench/README.md, "Page weight"). The
chunks the course page needs are listed in ``page_scripts.json`` (recorded from a real page
by ``bench/record_page_scripts.py``); the server joins them into one file, compressed once and
named by its content, which the page fetches from its first bytes. A chunk file only registers
its modules with its bundle's loader (``self.webpackChunk…push(…)``), so a joined chunk is never
fetched again, and one the list misses is still fetched as before: a stale list costs speed,
never correctness. The widget extensions' entry files are preloaded (Voilà's loader asks for
them by name once its own scripts have run).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import brotli
from jupyter_server.utils import url_path_join
from tornado import web

from somequiz.ui.server.static import LONG_LIVED, VERSION_PREFIX

LIST = Path(__file__).with_name("page_scripts.json")
# Where the page's URLs point (below the server's base URL) → the server's folders for them.
STATIC, LABEXTENSIONS = "voila/static/", "voila/labextensions/"
# Files the page asks for by name (Voilà's main script, the widget extensions' entries): never
# joined, as the page would run them again.
LOADED_BY_NAME = re.compile(r"(^|/)(voila\.js|remoteEntry\.[0-9a-f]+\.js)$")
# Voilà's scripts are served under a prefix naming the installed files (static.py).
_VERSIONED = re.compile(rf"^{STATIC}{re.escape(VERSION_PREFIX)}[0-9a-f]+/")
SETTINGS_KEY = "somequiz_page_scripts"
# The page config key the template reads.
CONFIG_KEY = "somequizScripts"

log = logging.getLogger(__name__)


class JoinedScripts:
    """The listed chunks that exist here, joined: the body, its compressed copies, its name.

    Brotli at its best quality sends a quarter fewer bytes than gzip (4.5 MB → 0.92 MB instead
    of 1.23 MB) but takes ~10 CPU-s: it is made once per installed version, in the background,
    and kept in the user's cache folder; until it is there, gzip is sent.
    """

    def __init__(self, body: bytes, joined: int, missing: tuple[str, ...]) -> None:
        self.body = body
        self.name = f"page-scripts-{hashlib.sha256(body).hexdigest()[:16]}.js"
        self.joined = joined
        self.missing = missing
        self.encoded = {"gzip": gzip.compress(body, compresslevel=9, mtime=0)}

    @classmethod
    def build(
        cls, listed: Iterable[str], static: list[str], labextensions: list[str]
    ) -> JoinedScripts:
        """Join the files of ``listed`` (page URLs) found in the servers' folders."""
        parts: list[bytes] = []
        missing: list[str] = []
        for url in listed:
            path = _find(url, static, labextensions)
            if path is None:
                missing.append(url)
            else:
                # A chunk may end without a semicolon or newline: keep statements apart.
                parts.append(path.read_bytes().rstrip() + b";\n")
        return cls(b"".join(parts), len(parts), tuple(missing))

    def add_brotli(self, cache: Path) -> None:
        """The brotli copy, from ``cache`` or made (then written there for the next start)."""
        kept = cache / f"{self.name}.br"
        try:
            self.encoded["br"] = kept.read_bytes()
            return
        except OSError:
            pass
        body = brotli.compress(self.body, quality=11)
        with contextlib.suppress(OSError):
            cache.mkdir(parents=True, exist_ok=True)
            # Several servers may start together: each writes its own file, then renames.
            partial = kept.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(body)
            partial.replace(kept)
        self.encoded["br"] = body

    def encoding_for(self, accepted: str) -> str | None:
        """The best encoding we have of those a request's ``Accept-Encoding`` names."""
        names = {part.split(";")[0].strip() for part in accepted.split(",")}
        usable = [name for name in ("br", "gzip") if name in names and name in self.encoded]
        return usable[0] if usable else None


def _find(url: str, static: list[str], labextensions: list[str]) -> Path | None:
    """The file a page URL names, looked up as Voilà's handlers do (first folder wins)."""
    for prefix, folders in ((STATIC, static), (LABEXTENSIONS, labextensions)):
        if url.startswith(prefix):
            relative = url.removeprefix(prefix)
            for folder in folders:
                path = Path(folder, relative)
                if path.is_file() and path.resolve().is_relative_to(Path(folder).resolve()):
                    return path
    return None


def chunk_url(path: str) -> str | None:
    """A page script's URL path (below the server's base URL) as the list names it: Voilà's
    version prefix dropped; None if it is not a chunk (the template's own files, or a file
    the page loads by name)."""
    path = _VERSIONED.sub(STATIC, path.lstrip("/"))
    chunk = path.startswith((STATIC, LABEXTENSIONS)) and not LOADED_BY_NAME.search(path)
    return path if chunk else None


def listed_urls(path: Path = LIST) -> list[str]:
    """The chunk URLs of the recorded list."""
    return list(json.loads(path.read_text(encoding="utf-8"))["scripts"])


class JoinedScriptsHandler(web.RequestHandler):
    """Sends the joined scripts: brotli or gzip, whichever the browser takes and is made,
    cached for good (the name changes with the content)."""

    def initialize(self, scripts: JoinedScripts) -> None:
        self.scripts = scripts

    def get(self, name: str) -> None:
        if name != self.scripts.name:
            raise web.HTTPError(404)
        self.set_header("Content-Type", "application/javascript; charset=UTF-8")
        self.set_header("Cache-Control", LONG_LIVED)
        self.set_header("Vary", "Accept-Encoding")
        encoding = self.scripts.encoding_for(self.request.headers.get("Accept-Encoding", ""))
        if encoding is None:
            self.write(self.scripts.body)
        else:
            self.set_header("Content-Encoding", encoding)
            self.write(self.scripts.encoded[encoding])


def install(app: web.Application, server_url: str, scripts: JoinedScripts, cache: Path) -> Any:
    """The handler that sends ``scripts`` (the page config finds them in the application's
    settings); their brotli copy follows in the background, kept in ``cache``."""
    threading.Thread(target=_in_background, args=(scripts, cache), daemon=True).start()
    if scripts.missing:
        log.warning(
            "%d of %d listed page scripts are not installed (Voilà or a widget package "
            "changed?); pages fetch them one by one. Record the list again: "
            "bench/record_page_scripts.py",
            len(scripts.missing),
            len(scripts.missing) + scripts.joined,
        )
    app.settings[SETTINGS_KEY] = scripts
    pattern = url_path_join(server_url, r"/voila/somequiz/(page-scripts-[0-9a-f]+\.js)")
    return (pattern, JoinedScriptsHandler, {"scripts": scripts})


def _in_background(scripts: JoinedScripts, cache: Path) -> None:
    """The brotli copy, in a thread Linux gives the lowest priority: pages go first."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    scripts.add_brotli(cache)


def page_scripts(config: dict[str, Any], base_url: str, settings: dict[str, Any]) -> None:
    """Tell the template what to fetch early: the joined file (when the server joined
    them), and the widget extensions' entry files (the URLs Voilà's loader will ask for)."""
    scripts: JoinedScripts | None = settings.get(SETTINGS_KEY)
    entries = [
        url_path_join(config["fullLabextensionsUrl"], extension["name"], extension["load"])
        for extension in config.get("federated_extensions", [])
    ]
    joined = url_path_join(base_url, "voila/somequiz", scripts.name) if scripts else None
    config[CONFIG_KEY] = {"joined": joined, "entries": entries}
